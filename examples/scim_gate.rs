//! A worked example of the gate: what a crate that implements a SCIM
//! server puts in its `tests/scim.rs` (with `harness = false` in its
//! `Cargo.toml`), so that `cargo test` runs every scimcheck scenario
//! against it, each as its own test.
//!
//! Here the server under test is scimcheck's own built-in double, started
//! the way a real server is: bound to a loopback port chosen by the OS.
//! Replace `start_my_server` with your server's start-up.
//!
//! Run it: `cargo test --example scim_gate` (add `-- users` to filter,
//! `-- --list` to list); `cargo nextest run --example scim_gate`.

use std::net::TcpListener;

use scimcheck::gate::{Gate, ServerUnderTest};

/// Your server, on 127.0.0.1: its base URL and what keeps it running.
async fn start_my_server(token: &str) -> std::io::Result<ServerUnderTest> {
    // Port 0: the OS picks a free port, so tests never collide.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    // Stand-in: hand the listener to your own server instead. A tokio-based
    // server (axum, hyper) needs it non-blocking first, or from_std panics:
    //   listener.set_nonblocking(true)?;
    //   tokio::spawn(axum::serve(tokio::net::TcpListener::from_std(listener)?, app()));
    // `examples/scim_gate_tokio.rs` does exactly that with a hyper server.
    // The double answers at the root (no `/scim/v2`); a real server's base URL
    // is usually `http://127.0.0.1:<port>/scim/v2`.
    let server = scimcheck::double::Double::start_with_listener(listener, Some(token.into())).await;
    Ok(ServerUnderTest::new(server.base_url())
        // The token your server requires; with it, the 401 checks run too.
        .token(token)
        // Dropped when the trial ends, after scimcheck's cleanups.
        .keep_alive(server))
}

fn main() {
    Gate::new(|| start_my_server("example-token"))
        // The clients you provision from; leave out for all of them.
        .profiles(&["rfc", "entra", "okta"])
        // A deviation you have chosen to live with is left out, and listed as ignored:
        // .exclude("entra::users::user_lifecycle")
        .main()
}
