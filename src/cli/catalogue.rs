//! What scimcheck holds, shown without a target: the requirement
//! catalogue, the scenarios, the built-in suite files.

use super::*;

pub fn requirements(format: &str) -> Exit {
    let plan = match crate::runner::builtin_checks() {
        Ok(plan) => plan,
        Err(why) => {
            eprintln!("scimcheck: {why}");
            return Exit::Usage;
        }
    };
    let listed = crate::report::coverage::listing(&plan);
    if format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&listed).unwrap_or_default()
        );
        return Exit::Passed;
    }
    for r in &listed {
        let checks = match (r.testable, r.checks) {
            (false, _) => "not testable".to_string(),
            (true, 1) => "1 check".to_string(),
            (true, n) => format!("{n} checks"),
        };
        outln!(
            "{:<52} {:<6} {:<13} {}",
            r.id,
            r.level.name(),
            checks,
            r.says
        );
    }
    let must: Vec<_> = listed
        .iter()
        .filter(|r| r.level == crate::requirements::Level::Must)
        .collect();
    let testable = must.iter().filter(|r| r.testable).count();
    let covered = must.iter().filter(|r| r.testable && r.checks > 0).count();
    outln!(
        "\n{} requirements ({} MUST, {} SHOULD, {} MAY); {covered} of {testable} testable MUSTs have a check",
        listed.len(),
        must.len(),
        listed
            .iter()
            .filter(|r| r.level == crate::requirements::Level::Should)
            .count(),
        listed
            .iter()
            .filter(|r| r.level == crate::requirements::Level::May)
            .count(),
    );
    Exit::Passed
}

pub fn list(args: &SuiteArgs) -> Exit {
    let plan = match load(args) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    for (suite, scenario) in plan.scenarios() {
        let tags: Vec<&String> = suite.tags.iter().chain(&scenario.tags).collect();
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!(
                "  [{}]",
                tags.iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        println!("{}{tags}", scenario.full_name);
    }
    Exit::Passed
}

/// The built-in suite files, each with its slug (`entra::users`) and its
/// path below `suites/` (`entra/users.yaml`).
pub fn builtin_files() -> Vec<(String, String, String)> {
    crate::suite::builtin_sources()
        .into_iter()
        .map(|source| {
            let relative = source.name.trim_start_matches("suites/").to_string();
            let slug = relative
                .trim_end_matches(".yaml")
                .trim_end_matches(".yml")
                .replace('/', "::");
            (slug, relative, source.text.to_string())
        })
        .collect()
}

pub fn show(name: &str) -> Exit {
    let files = builtin_files();
    // A suite by its name or file, or the suite that holds a scenario.
    let found = files.iter().find(|(slug, relative, _)| {
        name == slug
            || name == relative
            || name.trim_start_matches("suites/") == relative
            || name
                .rsplit_once("::")
                .is_some_and(|(suite, _)| suite == slug)
    });
    match found {
        Some((slug, relative, text)) => {
            outln!("# suites/{relative} ({slug})");
            out!("{text}");
            Exit::Passed
        }
        None => {
            let slugs: Vec<&str> = files.iter().map(|(s, _, _)| s.as_str()).collect();
            eprintln!(
                "scimcheck show: no built-in suite or scenario `{name}`; the suites are: {}",
                slugs.join(", ")
            );
            Exit::Usage
        }
    }
}

pub fn export(dir: &std::path::Path) -> Exit {
    let files = builtin_files();
    // Never overwrite: the user's edits may be there.
    if let Some((_, relative, _)) = files.iter().find(|(_, r, _)| dir.join(r).exists()) {
        eprintln!(
            "scimcheck suites export: {} exists; nothing was written (choose a new folder)",
            dir.join(relative).display()
        );
        return Exit::Usage;
    }
    for (_, relative, text) in &files {
        let path = dir.join(relative);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(e) = written {
            eprintln!(
                "scimcheck suites export: cannot write {}: {e}",
                path.display()
            );
            return Exit::Usage;
        }
    }
    println!(
        "wrote {} suites to {}; run them with `scimcheck run --no-builtin --suites {}`",
        files.len(),
        dir.display(),
        dir.display()
    );
    Exit::Passed
}
