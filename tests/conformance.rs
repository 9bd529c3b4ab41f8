//! Every built-in scenario as its own test, against a fresh built-in double.
//!
//! `cargo test --test conformance -- users` runs the matching ones;
//! `cargo nextest run` runs each in its own process.

use std::path::Path;

use libtest_mimic::Arguments;
use scimcheck::harness::trials_against_double;
use scimcheck::runner::{SuiteSources, load_plan};

fn main() {
    let args = Arguments::from_args();
    let sources = SuiteSources {
        builtin: true,
        dirs: Vec::new(),
    };
    let plan = match load_plan(&sources) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    libtest_mimic::run(&args, trials_against_double(&plan, &snapshots)).exit();
}
