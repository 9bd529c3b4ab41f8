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
            "its citation",
            "Entra SCIM: Update User [Multi-valued properties], RFC7644 3.5.2.3",
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
    for outward in [
        "<script",
        "<link",
        "<img",
        "src=",
        "url(",
        "@import",
        "href=\"http",
    ] {
        if report.contains(outward) {
            return Err(format!("the report refers outward (`{outward}`)").into());
        }
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

fn screenshot(browser: &Path) -> Result<(), Failed> {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let page = out.join("report.html");
    let shot = out.join("screenshot.png");
    let _ = std::fs::remove_file(&shot);
    std::fs::write(&page, real_report()).map_err(|e| e.to_string())?;
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
    let count = |rgb: [u8; 3]| {
        pixels[..info.buffer_size()]
            .chunks(channels)
            .filter(|p| p[..3] == rgb)
            .count()
    };
    // A badge is about 90x20 pixels of solid colour: the styles applied,
    // and both verdicts are on the first screen.
    let (fail, pass) = (count(FAIL_RGB), count(PASS_RGB));
    if fail < 1000 || pass < 1000 {
        return Err(format!(
            "the verdict badges are not visible: {fail} red and {pass} green pixels (see {})",
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
        in_browser("screenshot_in_headless_chromium", screenshot),
        in_browser("long_check_names_wrap", long_check_names_wrap),
    ];
    libtest_mimic::run(&args, trials).exit();
}
