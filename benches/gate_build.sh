#!/usr/bin/env bash
# The cold build of a tiny server crate's gate: a crate whose only test is
# `tests/scim.rs` with scimcheck's Gate, built from an empty target dir,
# with scimcheck's default features (the built-in double and wiremock) and
# without them. Prints the wall time and how many crates were compiled.
#
#   bash benches/gate_build.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

make_crate() { # dir, dependency line
    mkdir -p "$1/src" "$1/tests"
    cat > "$1/Cargo.toml" <<TOML
[package]
name = "tiny-scim-server"
version = "0.1.0"
edition = "2024"

[dev-dependencies]
$2
tokio = { version = "1", features = ["rt", "net"] }

[[test]]
name = "scim"
harness = false
TOML
    echo "pub fn answer() -> u8 { 42 }" > "$1/src/lib.rs"
    cat > "$1/tests/scim.rs" <<'RS'
use scimcheck::gate::{Gate, ServerUnderTest};

fn main() {
    Gate::new(|| async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let url = format!("http://{}/scim/v2", listener.local_addr().map_err(|e| e.to_string())?);
        Ok::<_, String>(ServerUnderTest::new(url).keep_alive(listener))
    })
    .profiles(&["entra"])
    .main()
}
RS
    # scimcheck's own lock file: the same versions, nothing to resolve anew.
    cp "$root/Cargo.lock" "$1/Cargo.lock"
}

measure() { # label, dependency line
    local dir="$work/$1"
    make_crate "$dir" "$2"
    local start end
    start=$(date +%s.%N)
    (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build --tests --offline 2>"$dir/build.log") || {
        cat "$dir/build.log"
        exit 1
    }
    end=$(date +%s.%N)
    local crates
    crates=$(grep -c '^ *Compiling ' "$dir/build.log" || true)
    printf '%-28s %6.1f s  %4d crates compiled\n' "$1" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" "$crates"
}

echo "gate cold build (cargo build --tests, empty target dir, $(nproc) cores):"
measure "default features" "scimcheck = { path = \"$root\" }"
measure "default-features = false" "scimcheck = { path = \"$root\", default-features = false }"
