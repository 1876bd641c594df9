//! The gateway's module structure, read from its source: no import cycles between its files,
//! and no operation handler (a file under `s3/ops/`) importing another handler. Handlers share
//! code through modules that are not handlers: the object pipeline, the header readers and
//! the models. Test code (from `#[cfg(test)]` on, and test-only files) is not looked at, nor
//! is a parent module's use of its own submodules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module: its path from the crate root (`["s3", "ops", "put"]`).
type Module = Vec<String>;

/// Every source file of the crate, by module.
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, prefix: &Module, out: &mut BTreeMap<Module, PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                let mut m = prefix.clone();
                m.push(name);
                walk(&path, &m, out);
            } else if let Some(stem) = name.strip_suffix(".rs") {
                if stem == "tests" || stem.ends_with("_tests") {
                    continue;
                }
                let mut m = prefix.clone();
                if stem != "mod" && stem != "lib" {
                    m.push(stem.to_owned());
                }
                out.insert(m, path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, &Vec::new(), &mut out);
    out
}

/// The code of a file without its tests and comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expand a `use` tree (`a::{b, c::{d}}`) into its paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_owned()];
    };
    let (prefix, rest) = tree.split_at(open);
    let inner = &rest[1..rest.rfind('}').unwrap_or(rest.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| format!("{prefix}{p}"))
        .collect()
}

/// The paths a file's code names: its `use` trees expanded, and paths written inline.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        rest = &rest[i + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let end = rest.find(';').unwrap_or(rest.len());
        let tree: String = rest[..end].chars().filter(|c| !c.is_whitespace()).collect();
        out.extend(expand(&tree));
    }
    // Inline paths: identifiers joined by `::`.
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts = (bytes[i].is_alphabetic() || bytes[i] == '_')
            && (i == 0
                || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_' || bytes[i - 1] == ':'));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_alphanumeric() || bytes[j] == '_' || bytes[j] == ':')
        {
            j += 1;
        }
        let p: String = bytes[i..j].iter().collect();
        if p.contains("::") {
            out.push(p);
        }
        i = j.max(i + 1);
    }
    out.into_iter()
        .map(|p| {
            p.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The module a path from module `from` names (the longest prefix that is a module), if it
/// is one of this crate's.
fn resolve(from: &Module, path: &[String], known: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let mut base = from.clone();
    let mut segs = path;
    match segs.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            segs = &segs[1..];
        }
        Some("self") => segs = &segs[1..],
        Some("super") => {
            while segs.first().map(String::as_str) == Some("super") {
                base.pop();
                segs = &segs[1..];
            }
        }
        Some(first) => {
            // A child module of `from`, named relative to it.
            let mut child = from.clone();
            child.push(first.to_owned());
            if !known.contains_key(&child) {
                return None;
            }
        }
        None => return None,
    }
    let mut found = known.contains_key(&base).then(|| base.clone());
    for s in segs {
        base.push(s.clone());
        if known.contains_key(&base) {
            found = Some(base.clone());
        } else {
            break;
        }
    }
    found
}

/// Module → the modules its code imports: itself and its own submodules left out (a parent
/// that declares submodules and calls into them while they use its types is one unit, as
/// `auth` and its signature versions are).
fn graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let known = modules(src);
    known
        .iter()
        .map(|(m, path)| {
            let deps = paths(&code(path))
                .iter()
                .filter_map(|p| resolve(m, p, &known))
                .filter(|d| !d.starts_with(m))
                .collect();
            (m.clone(), deps)
        })
        .collect()
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}

/// A cycle in `g`, if there is one.
fn find_cycle(g: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn visit(
        m: &Module,
        g: &BTreeMap<Module, BTreeSet<Module>>,
        state: &mut BTreeMap<Module, u8>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        match state.get(m) {
            Some(2) => return None,
            Some(1) => {
                let at = stack.iter().position(|s| s == m).unwrap_or(0);
                let mut cycle = stack[at..].to_vec();
                cycle.push(m.clone());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(m.clone(), 1);
        stack.push(m.clone());
        for d in g.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, g, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(m.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in g.keys() {
        if let Some(c) = visit(m, g, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_reader_sees_what_files_import() {
    let g = graph(&src());
    let m = |s: &str| -> Module { s.split("::").map(str::to_owned).collect() };
    // A grouped `use`, a `super::` path, an inline `crate::` path and a child named relatively.
    let put = &g[&m("s3::ops::put")];
    assert!(put.contains(&m("s3::object::write")), "{put:?}");
    assert!(put.contains(&m("s3::ctx")), "{put:?}");
    let authorize = &g[&m("s3::dispatch::authorize")];
    assert!(authorize.contains(&m("authz")), "{authorize:?}");
    assert!(
        authorize.contains(&m("s3::dispatch::authenticate")),
        "{authorize:?}"
    );
    let versions = &g[&m("s3::ops::list::versions")];
    assert!(versions.contains(&m("s3::ops::list")), "{versions:?}");
    // And a cycle is found when there is one.
    let mut cyclic = g.clone();
    cyclic
        .entry(m("s3::error"))
        .or_default()
        .insert(m("s3::ops::put"));
    assert!(find_cycle(&cyclic).is_some());
    assert_eq!(
        expand("a::{b,c::{d,e}}"),
        vec!["a::b", "a::c::d", "a::c::e"]
    );
}

#[test]
fn no_module_imports_itself_in_a_circle() {
    let g = graph(&src());
    assert!(g.len() > 40, "read only {} modules", g.len());
    if let Some(c) = find_cycle(&g) {
        let names: Vec<String> = c.iter().map(name).collect();
        panic!("import cycle: {}", names.join(" -> "));
    }
}

#[test]
fn no_handler_imports_another() {
    let g = graph(&src());
    let ops: Module = vec!["s3".into(), "ops".into()];
    let mut wrong = Vec::new();
    for (m, deps) in &g {
        if !m.starts_with(&ops) || *m == ops {
            continue;
        }
        for d in deps {
            // Its own family's shared module (`ops::list` for `ops::list::versions`) is fine.
            if d.starts_with(&ops) && !m.starts_with(d) {
                wrong.push(format!("{} imports {}", name(m), name(d)));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
