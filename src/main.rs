//! The `scimcheck` command: parses the arguments and runs the mode they
//! name; every mode lives in the library (`scimcheck::cli`).

use std::process::ExitCode;

use clap::Parser;
use scimcheck::cli::Cli;

// mimalloc: the load's client and the replay's derivation allocate and free
// small objects by the million; glibc's free-list upkeep was their largest
// single cost under perf.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    Cli::parse().dispatch().into()
}
