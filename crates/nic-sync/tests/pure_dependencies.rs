//! Architecture invariant: the sync core (and the model under it) depends on no runtime,
//! network or disk crate. Read from Cargo.lock, so it holds for every build of the workspace.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::{BTreeSet, HashMap};

const FORBIDDEN: [&str; 5] = ["tokio", "tonic", "hyper", "sled", "mio"];

/// Package name → names of its dependencies (normal, build and dev alike).
fn lock_graph() -> HashMap<String, Vec<String>> {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
        .expect("Cargo.lock at the workspace root");
    let mut graph: HashMap<String, Vec<String>> = HashMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let mut name = None;
        let mut deps = Vec::new();
        let mut in_deps = false;
        for line in block.lines().map(str::trim) {
            if let Some(v) = line.strip_prefix("name = ") {
                name = Some(v.trim_matches('"').to_owned());
            } else if line.starts_with("dependencies = [") {
                in_deps = true;
            } else if in_deps && line == "]" {
                in_deps = false;
            } else if in_deps {
                let dep = line.trim_matches(|c| c == '"' || c == ',');
                deps.push(dep.split(' ').next().unwrap_or(dep).to_owned());
            }
        }
        if let Some(name) = name {
            graph.entry(name).or_default().extend(deps);
        }
    }
    graph
}

fn closure(graph: &HashMap<String, Vec<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(name) = stack.pop() {
        if seen.insert(name.clone()) {
            stack.extend(graph.get(&name).cloned().unwrap_or_default());
        }
    }
    seen
}

#[test]
fn core_crates_depend_on_no_runtime_network_or_disk_crate() {
    let graph = lock_graph();
    for root in ["nic-sync", "nic-model"] {
        assert!(graph.contains_key(root), "{root} missing from Cargo.lock");
        let deps = closure(&graph, root);
        let bad: Vec<_> = deps
            .iter()
            .filter(|d| FORBIDDEN.contains(&d.as_str()))
            .collect();
        assert!(bad.is_empty(), "{root} depends on {bad:?}");
        assert!(
            !deps.contains("nic-proto"),
            "{root} must not see wire types"
        );
    }
}
