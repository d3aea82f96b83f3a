//! The house (issue 19): no import cycles between the crate's top-level modules, so data flows
//! one way (read → split → decide → explain → certify → report). Reads `src/` as text: a module
//! uses another when its code (not its comments, not its `#[cfg(test)]` items) names
//! `crate::other`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's top-level modules (`src/x.rs` or `src/x/`), without the binary and the root.
fn top_modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            if p.is_dir() { Some(name) } else { name.strip_suffix(".rs").map(str::to_string) }
        })
        .filter(|m| m != "main" && m != "lib")
        .collect()
}

/// Every `.rs` file under `path` (a file, or a directory walked recursively).
fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path).expect("readable").map(|e| e.expect("an entry").path()).collect();
        entries.sort();
        for p in entries {
            rust_files(&p, out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The lines of `text` that are code outside `#[cfg(test)]` items and comments, and the names
/// of the modules declared `#[cfg(test)] mod name;` (their files are test code too). Relies on
/// rustfmt's layout: an item's closing brace is alone on a line at the item's indentation.
fn live_lines(text: &str) -> (Vec<String>, Vec<String>) {
    let mut lines = Vec::new();
    let mut test_files = Vec::new();
    let mut it = text.lines().peekable();
    while let Some(line) = it.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // Skip further attributes, then the item.
            let mut item = None;
            for next in it.by_ref() {
                if !next.trim_start().starts_with("#[") {
                    item = Some(next);
                    break;
                }
            }
            let Some(item) = item else { break };
            let body = item.trim();
            if let Some(name) = body.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                test_files.push(name.trim().to_string());
            } else if body.ends_with('{') {
                let close = format!("{}}}", &item[..item.len() - item.trim_start().len()]);
                for next in it.by_ref() {
                    if next.trim_end() == close {
                        break;
                    }
                }
            }
            continue;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        lines.push(line.to_string());
    }
    (lines, test_files)
}

/// The top-level modules `code` names as `crate::m`, grouped imports (`crate::{a, b::c}`)
/// included.
fn named_modules(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        // `labrys_crate::x` or `my_crate::x` are not this crate.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => {
                        let name: String =
                            group[i..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                        if modules.contains(&name) {
                            found.insert(name);
                        }
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if modules.contains(&name) {
                found.insert(name);
            }
        }
    }
    found
}

/// Which top-level modules each one uses, outside tests and comments.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = top_modules(&src);
    let mut graph = BTreeMap::new();
    for m in &modules {
        let dir = src.join(m);
        let root = if dir.is_dir() { dir } else { src.join(format!("{m}.rs")) };
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        let mut skipped: BTreeSet<PathBuf> = BTreeSet::new();
        let mut uses = BTreeSet::new();
        for file in &files {
            if skipped.iter().any(|s| file.starts_with(s)) {
                continue;
            }
            let text = std::fs::read_to_string(file).expect("source is readable");
            let (lines, test_mods) = live_lines(&text);
            // `#[cfg(test)] mod tests;` in `a/mod.rs` (or `a.rs`) is `a/tests.rs` or `a/tests/`.
            let here = match file.file_name().and_then(|n| n.to_str()) {
                Some("mod.rs") => file.parent().expect("a parent").to_path_buf(),
                _ => file.with_extension(""),
            };
            for t in test_mods {
                skipped.insert(here.join(format!("{t}.rs")));
                skipped.insert(here.join(&t));
            }
            uses.extend(named_modules(&lines.join("\n"), &modules));
        }
        uses.remove(m);
        graph.insert(m.clone(), uses);
    }
    graph
}

/// A cycle of the graph, as the modules around it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // Depth-first search; 0 unvisited, 1 on the stack, 2 done.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        stack.push(m.to_string());
        for n in graph.get(m).into_iter().flatten() {
            match state.get(n).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|s| s == n).expect("on the stack");
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(n.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(n, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        if state.get(m).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(m, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_cycle_between_top_level_modules() {
    let graph = module_graph();
    assert!(
        graph.contains_key("linear") || graph.contains_key("search"),
        "the modules were found: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle between top-level modules: {}\nmodule graph: {graph:#?}", cycle.join(" → "));
    }
}

#[test]
fn leaves_stay_leaves() {
    // What every check shares sits low: the result types and the per-key ops name nothing above
    // them (the typed vocabulary, when there is one, is a leaf too).
    let graph = module_graph();
    let allowed = |m: &str, ok: &[&str]| {
        let extra: Vec<&String> =
            graph.get(m).into_iter().flatten().filter(|n| !ok.contains(&n.as_str())).collect();
        assert!(extra.is_empty(), "{m} uses {extra:?}, above it");
    };
    allowed("outcome", &["history", "model", "vocab"]);
    allowed("split", &["history", "model", "outcome", "vocab"]);
}

#[test]
fn the_check_finds_what_it_looks_for() {
    let modules: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let code = "use crate::a::X;\nlet y = crate::{b::Y, c};\nlet z = my_crate::c::Z;";
    let (lines, tests) = live_lines(code);
    assert!(tests.is_empty());
    assert_eq!(named_modules(&lines.join("\n"), &modules), modules);
    let text = "use crate::a;\n/// crate::b\n#[cfg(test)]\nmod tests {\n    use crate::c;\n}\n#[cfg(test)]\nmod more;\n";
    let (lines, tests) = live_lines(text);
    assert_eq!(tests, vec!["more".to_string()]);
    let found = named_modules(&lines.join("\n"), &modules);
    assert_eq!(found.into_iter().collect::<Vec<_>>(), vec!["a".to_string()]);
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(find_cycle(&graph), Some(vec!["a".to_string(), "b".to_string(), "a".to_string()]));
    graph.insert("b".to_string(), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
}
