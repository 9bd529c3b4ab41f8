//! Every built-in scenario as its own test, against a fresh built-in
//! double, through the same gate a server crate uses ([`scimcheck::gate`]).
//!
//! `cargo test --test conformance -- users` runs the matching ones;
//! `cargo nextest run` runs each in its own process.

use std::path::Path;

use scimcheck::double::Double;
use scimcheck::gate::{Gate, ServerUnderTest};

fn main() {
    Gate::new(|| async {
        // With a token, so that authentication is exercised too.
        let token = uuid::Uuid::new_v4().to_string();
        let double = Double::start(Some(token.clone())).await;
        Ok::<_, String>(
            ServerUnderTest::new(double.base_url())
                .token(token)
                .keep_alive(double),
        )
    })
    .snapshots(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"))
    // The double claims every feature the suites use: a skip is a defect.
    .require_all()
    .main()
}
