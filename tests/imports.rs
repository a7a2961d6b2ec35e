//! No import cycles between the crate's modules: reading `src/` as text, every path that names
//! another module of the crate (`use crate::…`, `use super::…`, and paths written inline)
//! is an edge from the file that writes it to the file that defines the module, and the graph of
//! those edges must have no cycle. Test modules (`#[cfg(test)] mod tests`) are left out: they
//! belong to the module they test. `main.rs` is another crate (the binary) and is left out too.
//! A module's uses of its own submodules by relative path (`use writes::…` in `mlflow/mod.rs`)
//! are not read: a parent module is the face its children share, so a child may use what the
//! parent declares.
//!
//! A cycle means two modules cannot be understood, changed or tested apart; the usual cause is a
//! module that takes the whole `AppState` instead of the parts it needs (`FromRef`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file defines: `src/server/state.rs` is `server::state`, `src/server/mod.rs` is
/// `server`, `src/lib.rs` the root.
fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut module: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
        module.pop();
    }
    module
}

/// The code of a file that counts: comments removed, and its test module cut off.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths a use tree names, each as its segments: `a::{b, c::d}` is `a::b` and `a::c::d`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path: Vec<String> = tree
            .split(" as ")
            .next()
            .unwrap_or("")
            .split("::")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && s != "*")
            .collect();
        return vec![path];
    };
    let prefix = tree[..open].trim_end_matches("::").trim();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    // Split the inner list at its top-level commas.
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
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
        .flat_map(|part| {
            expand(part).into_iter().map(move |rest| {
                let mut path: Vec<String> = prefix
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                // `self` inside braces names the prefix itself.
                path.extend(rest.into_iter().filter(|s| s != "self"));
                path
            })
        })
        .collect()
}

/// Every path in `code` that starts at `crate`, `super` or `self`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    // Use statements first, with their braces; then inline paths in what is left.
    let mut inline = String::new();
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        inline.push_str(&rest[..at]);
        if before.is_some_and(is_ident) {
            inline.push_str("use ");
            rest = &rest[at + 4..];
            continue;
        }
        let end = rest[at..].find(';').map_or(rest.len(), |e| at + e);
        found.extend(expand(&rest[at + 4..end]));
        rest = &rest[end..];
    }
    inline.push_str(rest);
    let chars: Vec<char> = inline.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts = ["crate::", "super::", "self::"].iter().find(|p| {
            let p: Vec<char> = p.chars().collect();
            chars[i..].starts_with(&p) && (i == 0 || !is_ident(chars[i - 1]))
        });
        let Some(_) = starts else {
            i += 1;
            continue;
        };
        let mut j = i;
        let mut path = String::new();
        loop {
            let segment_start = j;
            while j < chars.len() && is_ident(chars[j]) {
                j += 1;
            }
            path.extend(&chars[segment_start..j]);
            if chars[j..].starts_with(&[':', ':']) && chars.get(j + 2).is_some_and(|c| is_ident(*c))
            {
                path.push_str("::");
                j += 2;
            } else {
                break;
            }
        }
        found.extend(expand(&path));
        i = j.max(i + 1);
    }
    found
}

/// The module a path names, as the longest prefix of it that is a module of the crate.
fn resolve(from: &Module, path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let mut base: Module = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "self" => from.clone(),
        "super" => from[..from.len().saturating_sub(1)].to_vec(),
        _ => return None,
    };
    let mut rest = &path[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    (0..=base.len())
        .rev()
        .map(|n| base[..n].to_vec())
        .find(|candidate| modules.contains(candidate))
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn cycle(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        marks: &mut BTreeMap<Module, Mark>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|m| m == node).unwrap();
                let mut found = stack[from..].to_vec();
                found.push(node.clone());
                return Some(found);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, marks, stack) {
                return Some(found);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut marks, &mut Vec::new()))
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

#[test]
fn the_crates_modules_import_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    all.retain(|f| f.file_name().is_some_and(|n| n != "main.rs"));
    let modules: BTreeSet<Module> = all.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for file in &all {
        let from = module_of(&src, file);
        let text = std::fs::read_to_string(file).unwrap();
        let targets = graph.entry(from.clone()).or_default();
        for path in paths(&code(&text)) {
            if let Some(to) = resolve(&from, &path, &modules)
                && to != from
            {
                targets.insert(to);
            }
        }
    }
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(
        modules.len() > 50 && edges > 150,
        "the reading found {} modules and {edges} imports: it is broken",
        modules.len()
    );
    if let Some(found) = cycle(&graph) {
        let names: Vec<String> = found.iter().map(name).collect();
        panic!("an import cycle: {}", names.join(" -> "));
    }
}

#[test]
fn the_reading_finds_paths_in_use_trees_and_inline_and_a_cycle_among_them() {
    let code = code(
        "use crate::server::{session, state::AppState};\nuse super::{a::{b, c}, self};\n\
         // crate::commented::out\nfn f() { crate::error::respond(x); reuse(); }\n\
         #[cfg(test)]\nmod tests { use crate::tested; }",
    );
    let found: Vec<String> = paths(&code).iter().map(|p| p.join("::")).collect();
    assert_eq!(
        found,
        [
            "crate::server::session",
            "crate::server::state::AppState",
            "super::a::b",
            "super::a::c",
            "super",
            "crate::error::respond",
        ]
    );
    let m = |s: &str| -> Module { s.split("::").map(str::to_string).collect() };
    let modules: BTreeSet<Module> = [m("server"), m("server::state"), m("api")].into();
    assert_eq!(
        resolve(&m("api"), &m("crate::server::state::AppState"), &modules),
        Some(m("server::state"))
    );
    assert_eq!(
        resolve(&m("server::state"), &m("super::Thing"), &modules),
        Some(m("server"))
    );
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    graph.entry(m("api")).or_default().insert(m("server"));
    graph
        .entry(m("server"))
        .or_default()
        .insert(m("server::state"));
    assert_eq!(cycle(&graph), None);
    graph
        .entry(m("server::state"))
        .or_default()
        .insert(m("api"));
    let found = cycle(&graph).expect("api -> server -> server::state -> api");
    assert_eq!(found.first(), found.last());
    assert_eq!(found.len(), 4);
}
