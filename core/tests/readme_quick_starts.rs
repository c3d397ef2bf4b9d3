//! The root README's quick starts are copies of the first example of each binding's README,
//! which that binding's own tests run against the emulator. This keeps the copies identical.
//! (The README's other examples are run by the tests that name them: the FastAPI one, also a
//! copy of the Python README's, by bindings-python/tests/test_web.py, test_web_suite.py and
//! the Chromium tests through fastapi_example.py.)

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

/// The text of the section headed `## {title}`, up to the next `## ` heading.
fn section(markdown: &str, title: &str) -> String {
    let start = markdown
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("no section '{title}'"));
    let body = &markdown[start + 1..];
    let end = body[3..].find("\n## ").map_or(body.len(), |i| i + 3);
    body[..end].to_owned()
}

#[test]
fn root_quick_starts_are_the_tested_binding_examples() {
    let root = section(&read("README.md"), "Quick starts");
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

#[test]
fn the_readme_web_example_is_the_one_test_web_runs() {
    let web = section(&read("README.md"), "A face check in a web page");
    let python = blocks(&web, "python");
    assert_eq!(python.len(), 1, "the FastAPI example");
    assert!(python[0].contains("journey_routes"));
    let binding: Vec<String> = blocks(&read("bindings-python/README.md"), "python")
        .into_iter()
        .filter(|b| b.contains("journey_routes") && b.contains("FastAPI"))
        .collect();
    assert_eq!(
        binding,
        vec![python[0].clone()],
        "the Python README's FastAPI example is the same"
    );
    assert!(
        read("bindings-python/tests/test_web.py").contains("def test_the_readme_fastapi_example")
    );
}

#[test]
fn the_limits_table_gives_cores_defaults() {
    use iproov_core::driver::DriverOptions;
    use iproov_core::service::ServicePolicy;
    let table = section(
        &read("README.md"),
        "Journeys: limits, and what a store outage does",
    );
    let defaults = ServicePolicy::default();
    let resolved = defaults.resolve(&DriverOptions::default()).unwrap();
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("no row for {name}"))
            .split('|')
            .nth(2)
            .unwrap()
            .trim()
            .replace(',', "")
    };
    let number = |name: &str| -> u64 {
        row(name)
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name}: no number in {:?}", row(name)))
    };
    assert_eq!(number("max_attempts"), u64::from(defaults.max_attempts));
    assert_eq!(number("attempt_window_ms"), defaults.attempt_window_ms);
    assert_eq!(
        number("user_token_requests"),
        u64::from(defaults.user_token_requests)
    );
    assert_eq!(number("token_window_ms"), defaults.token_window_ms);
    assert_eq!(number("service_window_ms"), defaults.service_window_ms);
    assert_eq!(number("token_ttl_ms"), defaults.token_ttl_ms);
    assert_eq!(row("service_token_requests"), "none");
    assert!(defaults.service_token_requests.is_none());
    assert_eq!(row("retention_ms"), "30 days");
    assert_eq!(defaults.retention_ms, 30 * 86_400_000);
    // "3 sends of 20 s, 2 backoffs of at most 8 s, plus 10 s".
    assert_eq!(
        resolved.stale_validate_ms(),
        3 * 20_000 + 2 * 8_000 + 10_000
    );
}
