//! The HTML report as a vendor sees it: a real run against a double with a
//! defect, rendered, opened offline in headless Chromium, and its
//! screenshot checked for what a reader must see.
//!
//! Without Chromium (Debian's `chromium`, or the binary named by
//! `SCIMCHECK_CHROMIUM`) the browser test is reported as ignored, never as
//! passed; CI sets `SCIMCHECK_REQUIRE_BROWSER=1`, which makes a missing
//! browser a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use scimcheck::report::{RunInfo, html};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

/// The fail and pass badge colours of the report's stylesheet (--fail, --pass).
const FAIL_RGB: [u8; 3] = [0xb4, 0x23, 0x18];
const PASS_RGB: [u8; 3] = [0x06, 0x76, 0x47];
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 1600;
/// A laptop's half screen: where a long check name squeezed the request column.
const NARROW: u32 = 900;

/// A report of a real run: Entra's user lifecycle fails (PATCH answered 500),
/// RFC user creation passes.
fn real_report() -> String {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let defect = Mock::given(method("PATCH"))
            .and(path_regex("^/Users/"))
            .respond_with(ResponseTemplate::new(500).set_body_raw(
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"patch engine down"}"#,
                "application/scim+json",
            ));
        let double = common::double_with_defect(defect).await;
        let dir = tempfile::tempdir().unwrap();
        let sources = scimcheck::runner::SuiteSources {
            builtin: true,
            dirs: Vec::new(),
        };
        let results = common::run_sources(
            sources,
            &double.base_url(),
            &["entra::users::user_lifecycle", "rfc7644::users-create::create_user"],
            dir.path(),
        )
        .await;
        let secrets = common::target(&double.base_url()).secrets();
        html::render(
            &RunInfo::new("html0test1", &double.base_url()),
            &results,
            &secrets,
        )
    })
}

/// The HTML report of a real load of the double: users, and groups filled by PATCH.
fn real_load_report() -> String {
    use scimcheck::load::{self, verdict};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let double = common::double().await;
        let target = common::target(&double.base_url());
        let options = load::LoadOptions {
            users: 600,
            rate: 300.0,
            concurrency: 16,
            max_requests: 100_000,
            duration: std::time::Duration::from_secs(60),
            stop_above_failure_ratio: 0.4,
            run_id: scimcheck::exec::new_run_id(),
            tenants: 1,
            raw: false,
            groups: 2,
            members: 30,
            member_batch: 3,
        };
        let report = load::run(&target, &options, &scimcheck::exec::Interrupt::default())
            .await
            .unwrap();
        // Judged against bounds no busy machine misses (1 request a second,
        // a p99 of a minute), so that the summary "holds" on every run: the
        // test is about what the page shows, not how fast the double is.
        let lines = verdict::judge(
            &report,
            &verdict::Expectations {
                rate: 1.0,
                p99: std::time::Duration::from_secs(60),
                project: Some(50_000),
            },
        );
        let html = load::html::render(
            &report,
            &lines,
            &load::html::PageInfo {
                target: double.base_url(),
                run_id: options.run_id.clone(),
                asked: "600 users".into(),
                p99_threshold_ms: 60_000.0,
            },
        );
        scimcheck::target::redact(&html, &target.secrets())
    })
}

/// Nothing in a report is fetched from anywhere. A link to an RFC's text
/// is followed by the reader, never fetched: it is allowed.
fn refers_outward(report: &str) -> Option<&'static str> {
    let report = report.replace("<a href=\"https://www.rfc-editor.org/rfc/", "<a ");
    let report = report.as_str();
    [
        "<script",
        "<link",
        "<img",
        "src=",
        "url(",
        "@import",
        "href=\"http",
    ]
    .into_iter()
    .find(|outward| report.contains(outward))
}

fn load_report_is_complete_and_self_contained() -> Result<(), Failed> {
    let report = real_load_report();
    for (what, text) in [
        ("the summary", "class=\"badge holds\">holds<"),
        ("the latency plot", "latency of the requests"),
        ("the p99 line", "stroke=\"#7C3AED\""),
        ("the threshold", "p99 threshold"),
        ("the throughput plot", "requests started each second"),
        (
            "a verdict line with its source",
            "members added by PATCH are in the groups read back",
        ),
        (
            "the percentile table",
            "<td>members (PATCH add)</td><td>20</td><td>0</td>",
        ),
        ("the projection", "initial cycle of 50000 users"),
        ("the cleanup", "Created 600 users and 2 groups; left 0."),
    ] {
        if !report.contains(text) {
            return Err(format!("the load report lacks {what} (`{text}`)").into());
        }
    }
    if let Some(outward) = refers_outward(&report) {
        return Err(format!("the load report refers outward (`{outward}`)").into());
    }
    Ok(())
}

fn content_is_complete_and_self_contained() -> Result<(), Failed> {
    let report = real_report();
    let must_hold = [
        ("the verdict of the failing profile", "not ready"),
        ("the verdict of the passing profile", ">ready<"),
        (
            "the failing step",
            "entra::users::user_lifecycle › update_multi_valued",
        ),
        ("the check that failed", "expected 200 or 204, got 500"),
        (
            "its citation, the RFC's a link to the section",
            "Entra SCIM: Update User [Multi-valued properties], <a href=\"https://www.rfc-editor.org/rfc/rfc7644#section-3.5.2.3\">RFC7644 3.5.2.3</a>",
        ),
        ("what the client does", "What Microsoft Entra ID does:"),
        ("the transcript's request", "PATCH http://127.0.0.1:"),
        ("the transcript's response", "500 Internal Server Error"),
        ("the response body", "patch engine down"),
        ("a passed check", "class=\"ok\">status"),
        ("the redacted token", "authorization: Bearer ***"),
    ];
    for (what, text) in must_hold {
        if !report.contains(text) {
            return Err(format!("the report lacks {what} (`{text}`)").into());
        }
    }
    if report.contains(common::TOKEN) {
        return Err("the token leaked into the report".into());
    }
    // Readable offline: nothing is fetched from anywhere.
    if let Some(outward) = refers_outward(&report) {
        return Err(format!("the report refers outward (`{outward}`)").into());
    }
    Ok(())
}

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SCIMCHECK_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Headless Chromium, offline (every host name fails to resolve), with a
/// profile folder of its own and none of its background connections.
fn headless(browser: &Path, profile: &Path) -> Command {
    let mut command = Command::new(browser);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// The RGB pixels of `html` as headless Chromium shows it at the test's size.
fn shoot(browser: &Path, name: &str, html: &str) -> Result<(Vec<[u8; 3]>, PathBuf), Failed> {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let page = out.join(format!("{name}.html"));
    let shot = out.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&shot);
    std::fs::write(&page, html).map_err(|e| e.to_string())?;
    let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
    let status = headless(browser, profile.path())
        .args(["--hide-scrollbars"])
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| format!("cannot start {}: {e}", browser.display()))?;
    if !shot.exists() {
        return Err(format!(
            "no screenshot; chromium said: {}",
            String::from_utf8_lossy(&status.stderr)
        )
        .into());
    }
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).map_err(|e| e.to_string())?,
    ));
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let mut pixels = vec![0; reader.output_buffer_size().unwrap_or_default()];
    let info = reader.next_frame(&mut pixels).map_err(|e| e.to_string())?;
    if (info.width, info.height) != (WIDTH, HEIGHT) {
        return Err(format!("screenshot is {}x{}", info.width, info.height).into());
    }
    let channels = info.color_type.samples();
    let rgb = pixels[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Ok((rgb, shot))
}

fn count(pixels: &[[u8; 3]], rgb: [u8; 3]) -> usize {
    pixels.iter().filter(|p| **p == rgb).count()
}

fn screenshot(browser: &Path) -> Result<(), Failed> {
    let (pixels, shot) = shoot(browser, "report", &real_report())?;
    // A badge is about 90x20 pixels of solid colour: the styles applied,
    // and both verdicts are on the first screen.
    let (fail, pass) = (count(&pixels, FAIL_RGB), count(&pixels, PASS_RGB));
    if fail < 1000 || pass < 1000 {
        return Err(format!(
            "the verdict badges are not visible: {fail} red and {pass} green pixels (see {})",
            shot.display()
        )
        .into());
    }
    Ok(())
}

/// The load report's plot as a reader sees it: the p99 line (its own
/// purple) and the green badge are drawn on the first screen.
fn load_plot_in_headless_chromium(browser: &Path) -> Result<(), Failed> {
    const P99_RGB: [u8; 3] = [0x7c, 0x3a, 0xed];
    let (pixels, shot) = shoot(browser, "load-report", &real_load_report())?;
    let (p99, pass) = (count(&pixels, P99_RGB), count(&pixels, PASS_RGB));
    // The line spans the plot's width (about 1,000 px) at 2 px, less where it slopes.
    if p99 < 500 || pass < 1000 {
        return Err(format!(
            "the plot or the badge is not visible: {p99} purple and {pass} green pixels (see {})",
            shot.display()
        )
        .into());
    }
    Ok(())
}

/// The width in CSS pixels of the request column of a step whose checks
/// include a long URN check name (`json /urn:...:enterprise:2.0:User/manager/value`),
/// as Chromium lays the report out at the test's width: measured by a probe
/// script added to a copy of the report (the report itself has none).
fn request_column_width(browser: &Path) -> Result<f64, Failed> {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let page = out.join("report-probe.html");
    let probe = r#"<script>
      // A step that ran, given the longest check name the built-in suites hold.
      const row = [...document.querySelectorAll('tr')].find(r => r.children.length == 4 && r.querySelector('td:nth-child(3) code') && r.querySelector('ul.checks li'));
      if (row) row.querySelector('ul.checks li').textContent = 'json /urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value';
      document.title = 'width=' + (row ? row.children[2].getBoundingClientRect().width : -1);
    </script></body>"#;
    let report = real_report().replace("</body>", probe);
    std::fs::write(&page, report).map_err(|e| e.to_string())?;
    let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
    let output = headless(browser, profile.path())
        .arg("--dump-dom")
        .arg(format!("--window-size={NARROW},{HEIGHT}"))
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| format!("cannot start {}: {e}", browser.display()))?;
    let dom = String::from_utf8_lossy(&output.stdout);
    dom.split("<title>width=")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .and_then(|w| w.parse::<f64>().ok())
        .filter(|w| *w >= 0.0)
        .ok_or_else(|| {
            format!(
                "no width measured; the DOM began: {}",
                &dom[..dom.len().min(300)]
            )
            .into()
        })
}

/// A long check name wraps in its column instead of squeezing the request
/// column (a 70-character URN once left it 6 characters wide).
fn long_check_names_wrap(browser: &Path) -> Result<(), Failed> {
    let width = request_column_width(browser)?;
    if width < 250.0 {
        return Err(format!("the request column is {width} px wide at {NARROW} px").into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let required = std::env::var_os("SCIMCHECK_REQUIRE_BROWSER").is_some_and(|v| v == "1");
    let browser = chromium();
    let in_browser = |name: &'static str, test: fn(&Path) -> Result<(), Failed>| match &browser {
        Some(path) => {
            let path = path.clone();
            Trial::test(name, move || test(&path))
        }
        None if required => Trial::test(name, || {
            Err("SCIMCHECK_REQUIRE_BROWSER=1 but no chromium: apt-get install chromium".into())
        }),
        None => Trial::test(name, || Ok(())).with_ignored_flag(true),
    };
    let trials = vec![
        Trial::test(
            "content_is_complete_and_self_contained",
            content_is_complete_and_self_contained,
        ),
        Trial::test(
            "load_report_is_complete_and_self_contained",
            load_report_is_complete_and_self_contained,
        ),
        in_browser("screenshot_in_headless_chromium", screenshot),
        in_browser(
            "load_plot_in_headless_chromium",
            load_plot_in_headless_chromium,
        ),
        in_browser("long_check_names_wrap", long_check_names_wrap),
    ];
    libtest_mimic::run(&args, trials).exit();
}
