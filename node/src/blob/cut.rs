//! A blob's body cut into stripes: each stripe is a list of slices of the pieces the body
//! arrived in, never a copy of them.

use bytes::Bytes;
use coffer_proto::ProtoError;
use futures::StreamExt;

/// The next stripe of `body` (up to `stripe_size` bytes, fewer only at its end) as the pieces
/// it arrived in, sliced, not copied; `carry` holds what the last piece had past the stripe.
pub(super) async fn read_stripe<S>(
    body: &mut S,
    carry: &mut Bytes,
    stripe_size: usize,
) -> Result<Option<Vec<Bytes>>, ProtoError>
where
    S: futures::Stream<Item = Result<Bytes, ProtoError>> + Unpin,
{
    let mut pieces = Vec::new();
    let mut len = 0;
    if !carry.is_empty() {
        let piece = if carry.len() > stripe_size {
            carry.split_to(stripe_size)
        } else {
            std::mem::take(carry)
        };
        len += piece.len();
        pieces.push(piece);
    }
    while len < stripe_size {
        match body.next().await {
            Some(Ok(mut chunk)) => {
                let want = stripe_size - len;
                if chunk.len() > want {
                    *carry = chunk.split_off(want);
                }
                len += chunk.len();
                if !chunk.is_empty() {
                    pieces.push(chunk);
                }
            }
            Some(Err(e)) => return Err(e),
            None => break,
        }
    }
    Ok((len > 0).then_some(pieces))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[tokio::test]
    async fn stripes_are_cut_from_the_pieces_without_copying_them() {
        let chunks: Vec<Bytes> = [700usize, 300, 1500, 1, 2499]
            .iter()
            .enumerate()
            .map(|(i, &n)| Bytes::from(vec![i as u8; n]))
            .collect();
        let all: Vec<u8> = chunks.iter().flat_map(|c| c.to_vec()).collect();
        let mut body = futures::stream::iter(chunks.clone().into_iter().map(Ok));
        let mut carry = Bytes::new();
        let mut got = Vec::new();
        while let Some(stripe) = read_stripe(&mut body, &mut carry, 1000).await.unwrap() {
            got.push(stripe);
        }
        let sizes: Vec<usize> = got.iter().map(|s| s.iter().map(Bytes::len).sum()).collect();
        assert_eq!(sizes, [1000, 1000, 1000, 1000, 1000]);
        let joined: Vec<u8> = got.iter().flatten().flat_map(|p| p.to_vec()).collect();
        assert_eq!(joined, all);
        // Every piece lies inside one of the chunks that came in.
        for p in got.iter().flatten() {
            assert!(chunks.iter().any(|c| {
                let r = c.as_ptr_range();
                r.start <= p.as_ptr() && p.as_ptr() < r.end
            }));
        }
    }
}
