#!/usr/bin/env bash
# The README's gate section, followed as a newcomer would: a fresh crate
# with the README's dev-dependency line (with the double, as the README says
# for trying the gate before your own server is wired in), the worked example
# as its tests/scim.rs; `cargo test --test scim` must build and pass there,
# outside this repository's workspace.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
crate="$work/my-server"
mkdir -p "$crate/src" "$crate/tests"
cat >"$crate/Cargo.toml" <<EOF
[package]
name = "my-server"
version = "0.1.0"
edition = "2024"

[dev-dependencies]
scimcheck = { path = "$root", default-features = false, features = ["double"] }
tokio = { version = "1", features = ["rt", "net"] }

[[test]]
name = "scim"
harness = false
EOF
echo '//! A SCIM server crate (its server is what the gate tests).' >"$crate/src/lib.rs"
cp "$root/examples/scim_gate.rs" "$crate/tests/scim.rs"
# The repository's lock file: the same versions CI tested, none fetched anew.
cp "$root/Cargo.lock" "$crate/Cargo.lock"
cd "$crate"
# The repository's target folder as a cache: the crate and its dependency
# graph are its own, artifacts built alike are not built twice.
export CARGO_TARGET_DIR="$root/target"
cargo test --quiet --test scim -- --list | tail -1
cargo test --quiet --test scim -- rfc7644::users-
