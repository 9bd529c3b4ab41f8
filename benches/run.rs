//! Prints what a run costs:
//! 1. the wall time of `scimcheck run` (every built-in suite against the
//!    built-in double), over repeated runs of the CLI;
//! 2. scimcheck's overhead per request: a one-step scenario with status,
//!    header, JSON and schema checks, run many times through the library,
//!    against the same requests sent with bare reqwest.
//!
//! `cargo bench --bench run`. Loopback only.

use std::time::{Duration, Instant};

use scimcheck::check::schema::SchemaSet;
use scimcheck::check::snapshot::SnapshotStore;
use scimcheck::diagnostic::Source;
use scimcheck::double::Double;
use scimcheck::exec::{Outcome, RunContext, run_scenario};
use scimcheck::http::Client;
use scimcheck::plan::{SuiteInput, plan};
use scimcheck::target::Target;

const CLI_RUNS: usize = 10;
const REQUESTS: usize = 2000;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn cli_wall_time() {
    let binary = env!("CARGO_BIN_EXE_scimcheck");
    let mut samples = Vec::new();
    for _ in 0..CLI_RUNS {
        let started = Instant::now();
        let output = std::process::Command::new(binary)
            .arg("run")
            .output()
            .expect("scimcheck runs");
        samples.push(started.elapsed());
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let min = samples.iter().min().copied().unwrap_or_default();
    println!(
        "scimcheck run (built-in suites vs built-in double): median {:.1} ms, min {:.1} ms over {CLI_RUNS} runs",
        median(samples).as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3
    );
}

const ONE_GET: &str = r#"
name: bench
scenarios:
  - id: get
    steps:
      - id: get
        request: { method: GET, path: "/Users/{{ env.SCIMCHECK_BENCH_ID }}" }
        expect:
          status: 200
          headers: { content-type: { matches: '^application/scim\+json' } }
          schema: user
          json: { /userName: bench, /active: true, /id: { type: string, not_empty: true } }
"#;

async fn per_request_overhead() {
    let double = Double::start(None).await;
    let base = double.base_url();
    let raw = reqwest::Client::new();
    let created: serde_json::Value = raw
        .post(format!("{base}/Users"))
        .header("content-type", "application/scim+json")
        .body(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench","active":true}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    // SAFETY: single-threaded at this point of the bench; read back by the planner only.
    unsafe { std::env::set_var("SCIMCHECK_BENCH_ID", &id) };

    let url = format!("{base}/Users/{id}");
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let response = raw.get(&url).send().await.unwrap();
        let _ = response.bytes().await.unwrap();
    }
    let bare = started.elapsed() / REQUESTS as u32;

    let suite = scimcheck::suite::parse(Source::new("bench.yaml", ONE_GET)).unwrap();
    let plan = plan(
        vec![SuiteInput {
            slug: "bench".into(),
            suite,
        }],
        &scimcheck::check::schema::names(),
    )
    .unwrap();
    let target = Target::new(&base);
    let ctx = RunContext {
        client: Client::new(&target).unwrap(),
        target,
        run_id: "bench".into(),
        schemas: SchemaSet::load().unwrap(),
        snapshots: SnapshotStore {
            dir: std::env::temp_dir(),
            accept: false,
            all: false,
        },
        features: None,
        interrupt: Default::default(),
        secrets: Vec::new(),
        observer: None,
        declared: None,
        required: None,
        deleted: Default::default(),
    };
    let (suite, scenario) = plan.scenarios().next().unwrap();
    let started = Instant::now();
    for i in 0..REQUESTS {
        let result = run_scenario(&ctx, &plan, suite, scenario, i).await;
        assert_eq!(result.outcome, Outcome::Passed);
    }
    let checked = started.elapsed() / REQUESTS as u32;
    println!(
        "per request over {REQUESTS} GETs: bare reqwest {:.1} µs, scimcheck (render + send + 4 kinds of checks) {:.1} µs, overhead {:.1} µs",
        bare.as_secs_f64() * 1e6,
        checked.as_secs_f64() * 1e6,
        checked.saturating_sub(bare).as_secs_f64() * 1e6
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing we need.
    cli_wall_time();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(per_request_overhead());
}
