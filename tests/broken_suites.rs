//! A corpus of broken suite files, each with its golden error message
//! (`tests/broken/NAME.err`). A mistake must be reported before anything is
//! sent, with the file, line, column and what to do.
//!
//! `SCIMCHECK_BLESS=1 cargo test --test broken_suites` rewrites the goldens;
//! review the diff before committing it.

use std::path::Path;

use scimcheck::diagnostic::{Diagnostics, Source};
use scimcheck::plan::{SuiteInput, plan};

fn diagnose(name: &str, text: &str) -> String {
    let source = Source::new(format!("tests/broken/{name}"), text);
    let result = match scimcheck::suite::parse(source) {
        Err(d) => Err(Diagnostics(vec![d])),
        Ok(suite) => plan(
            vec![SuiteInput {
                slug: "broken".into(),
                suite,
            }],
            &scimcheck::check::schema::names(),
        )
        .map(|_| ()),
    };
    match result {
        Ok(()) => "no error".into(),
        Err(d) => d.to_string(),
    }
}

#[test]
fn every_broken_suite_gets_its_golden_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken");
    let bless = std::env::var_os("SCIMCHECK_BLESS").is_some();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus has {} files", files.len());
    let mut mismatches = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let got = diagnose(&name, &text);
        assert!(got.starts_with("error: "), "{name} was accepted: {got}");
        assert!(
            got.contains(&format!("--> tests/broken/{name}:")),
            "{name} has no location: {got}"
        );
        let golden = file.with_extension("err");
        if bless {
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if want != got {
            mismatches.push(format!("{name}:\n--- golden\n{want}\n+++ got\n{got}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
