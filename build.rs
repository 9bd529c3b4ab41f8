//! Rebuild when a built-in suite or schema changes: they are compiled into
//! the binary with include_dir, which cargo does not track on its own.

fn main() {
    println!("cargo:rerun-if-changed=suites");
    println!("cargo:rerun-if-changed=schemas");
}
