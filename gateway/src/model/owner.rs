//! Owners: what records keep (the root access key id, or an IAM user's [`user_owner`]) and
//! how S3 shows them (a 64-hex canonical id and a display name).

/// The owner id of an IAM user (what buckets and objects record as their owner).
pub fn user_owner(name: &str) -> String {
    format!("arn:aws:iam:::user/{name}")
}

/// The canonical user id of an owner: 64 hex characters, as S3's canonical user ids.
pub fn owner_id(owner: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(owner.as_bytes()))
}

/// The display name of an owner: the user name, or the root access key id.
pub fn display_name(owner: &str) -> &str {
    owner.strip_prefix("arn:aws:iam:::user/").unwrap_or(owner)
}

/// Write `<Owner>` (or `<Initiator>`) for an owner: its canonical id and display name.
pub fn owner_xml(x: &mut crate::s3::xml::XmlWriter, tag: &str, owner: &str) {
    x.open(tag);
    x.elem("ID", &owner_id(owner));
    x.elem("DisplayName", display_name(owner));
    x.close(tag);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_show_as_canonical_ids_and_names() {
        let alice = user_owner("alice");
        assert_eq!(alice, "arn:aws:iam:::user/alice");
        assert_eq!(display_name(&alice), "alice");
        assert_eq!(display_name("ROOTKEY"), "ROOTKEY");
        let id = owner_id(&alice);
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, owner_id("ROOTKEY"));
        let mut x = crate::s3::xml::XmlWriter::new();
        owner_xml(&mut x, "Owner", &alice);
        let doc = x.finish();
        assert!(doc.contains(&format!("<ID>{id}</ID>")), "{doc}");
        assert!(doc.contains("<DisplayName>alice</DisplayName>"), "{doc}");
    }
}
