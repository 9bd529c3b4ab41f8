//! `--export locust=FILE`: the same load as a Locust locustfile, for a load
//! that needs more machines than one (Locust's master/worker mode spreads
//! it). The same names, rate split and cleanup; the token is read from
//! SCIM_TOKEN when it runs, never written into the file.

use serde_json::json;

use super::LoadOptions;

const TEMPLATE: &str = include_str!("locustfile.py");

/// The locustfile of `options`, for `host`, to be saved as `file`.
pub fn render(
    options: &LoadOptions,
    host: &str,
    file: &str,
    asked: &str,
) -> Result<String, String> {
    let requests_per_user = options.per_user_requests();
    let model = json!({
        "run_id": options.run_id,
        "version": env!("CARGO_PKG_VERSION"),
        "asked": asked,
        "file": file,
        "host": host,
        "users": options.users,
        "tenants": options.tenants.max(1),
        "groups": options.groups,
        "members": options.members,
        "member_batch": options.member_batch.max(1),
        // Python literals: a float keeps its point.
        "rate": format!("{:?}", options.rate),
        "concurrency": options.concurrency,
        "requests_per_user": format!("{requests_per_user:?}"),
    });
    let mut env = minijinja::Environment::new();
    // Python, not HTML: nothing to escape, and the values are numbers and
    // scimcheck's own words.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_template("locustfile.py", TEMPLATE)
        .and_then(|()| env.get_template("locustfile.py"))
        .and_then(|t| t.render(minijinja::value::Serde(&model)))
        .map_err(|e| format!("cannot write the locustfile: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_locustfile_carries_the_scenario_and_no_token() {
        let options = LoadOptions {
            users: 200,
            rate: 50.0,
            concurrency: 8,
            max_requests: 1000,
            duration: Duration::from_secs(60),
            stop_above_failure_ratio: 0.4,
            run_id: "ab12cd34ef".into(),
            tenants: 1,
            raw: false,
            groups: 2,
            members: 20,
            member_batch: 5,
        };
        let file = render(&options, "http://127.0.0.1:8080", "load.py", "200 users").unwrap();
        for line in [
            "RUN_ID = \"ab12cd34ef\"",
            "USERS = 200 ",
            "GROUPS = 2",
            "MEMBER_BATCH = 5",
            "RATE = 50.0 ",
            "CONCURRENCY = 8 ",
            "REQUESTS_PER_USER = 2.15",
            "scimcheck cleanup --run-id\nab12cd34ef",
        ] {
            assert!(file.contains(line), "{line:?} missing");
        }
        assert!(file.contains("os.environ.get(\"SCIM_TOKEN\""));
        assert!(
            !file.contains("{{") && !file.contains("{%"),
            "a placeholder was left"
        );
    }
}
