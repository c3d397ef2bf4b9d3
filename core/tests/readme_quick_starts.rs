//! The root README's quick starts are copies of the first example of each binding's README,
//! which that binding's own tests run against the emulator. This keeps the copies identical.

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn blocks(markdown: &str, language: &str) -> Vec<String> {
    let fence = format!("```{language}\n");
    markdown
        .split(&fence)
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(code, _)| code.to_owned()))
        .collect()
}

#[test]
fn root_quick_starts_are_the_tested_binding_examples() {
    let root = read("README.md");
    let python = blocks(&root, "python");
    let js = blocks(&root, "js");
    assert_eq!(python.len(), 1, "one Python quick start");
    assert_eq!(js.len(), 2, "a Node and an edge quick start");
    assert_eq!(
        python[0],
        blocks(&read("bindings-python/README.md"), "python")[0]
    );
    assert_eq!(js[0], blocks(&read("bindings-node/README.md"), "js")[0]);
    assert_eq!(js[1], blocks(&read("bindings-wasm/README.md"), "js")[0]);
}
