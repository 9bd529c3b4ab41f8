//! The provisioning logs' CSV download: three files joined on the change
//! id, `<name>.csv` (one row a change), `<name>_ModifiedProperties.csv` (one
//! row a property changed) and `<name>_ProvisioningSteps.csv` (one row a
//! step), read into the same changes as the JSON download.
//!
//! Microsoft does not document the columns of the portal's CSV, and they
//! follow the portal's labels ("Change ID", "Source Identity Name", ...),
//! so columns are found by name, whatever the letter case, spaces and
//! punctuation, among the names known for each field; a file whose
//! columns are not found is refused with the columns it has.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::logs::{Action, Change, Modified, web_response};

/// A field, and the column names (normalized) known to hold it.
struct Field {
    what: &'static str,
    names: &'static [&'static str],
}

const CHANGE_ID: Field = Field {
    what: "change id",
    names: &["changeid"],
};
const ACTION: Field = Field {
    what: "action",
    names: &["action", "provisioningaction"],
};
const CYCLE_ID: Field = Field {
    what: "cycle id",
    names: &["cycleid"],
};
const DATE: Field = Field {
    what: "date",
    names: &[
        "dateutc",
        "date",
        "activitydatetime",
        "datetime",
        "activitydate",
    ],
};
const STATUS: Field = Field {
    what: "status",
    names: &[
        "status",
        "provisioningstatus",
        "provisioningstatusinfostatus",
    ],
};
const SOURCE_NAME: Field = Field {
    what: "source identity name",
    names: &[
        "sourceidentityname",
        "sourceidentitydisplayname",
        "sourcename",
        "sourcedisplayname",
    ],
};
const SOURCE_TYPE: Field = Field {
    what: "source identity type",
    names: &["sourceidentitytype", "sourcetype", "identitytype"],
};
const SOURCE_UPN: Field = Field {
    what: "user principal name",
    names: &[
        "sourceidentityuserprincipalname",
        "userprincipalname",
        "sourceupn",
        "upn",
    ],
};
const ERROR_CODE: Field = Field {
    what: "error code",
    names: &[
        "errorcode",
        "statusreasoncode",
        "provisioningstatusinfoerrorinformationerrorcode",
    ],
};
const REASON: Field = Field {
    what: "reason",
    names: &[
        "reason",
        "statusreason",
        "failurereason",
        "errorreason",
        "errordescription",
        "provisioningstatusinfoerrorinformationreason",
    ],
};
const PROPERTY: Field = Field {
    what: "property name",
    names: &[
        "displayname",
        "propertyname",
        "name",
        "property",
        "targetattribute",
    ],
};
const OLD_VALUE: Field = Field {
    what: "old value",
    names: &["oldvalue"],
};
const NEW_VALUE: Field = Field {
    what: "new value",
    names: &["newvalue"],
};
const STEP_DETAILS: Field = Field {
    what: "step details",
    names: &["description", "details", "stepdescription", "stepdetails"],
};

/// `Change ID`, `change_id` and `changeId` all read `changeid`.
fn normalize(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// One CSV file: its rows, and where each known field is.
struct Table {
    file: PathBuf,
    headers: Vec<String>,
    columns: HashMap<String, usize>,
    rows: Vec<csv::StringRecord>,
}

impl Table {
    fn read(file: &Path) -> Result<Table, String> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(file)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| format!("{}: {e}", file.display()))?
            .iter()
            .map(str::to_string)
            .collect();
        let columns = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (normalize(h), i))
            .collect();
        let rows = reader
            .records()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| match e.position() {
                Some(p) => format!("{}:{}: {e}", file.display(), p.line()),
                None => format!("{}: {e}", file.display()),
            })?;
        Ok(Table {
            file: file.to_path_buf(),
            headers,
            columns,
            rows,
        })
    }

    fn column(&self, field: &Field) -> Option<usize> {
        field
            .names
            .iter()
            .find_map(|n| self.columns.get(*n).copied())
    }

    fn require(&self, field: &Field) -> Result<usize, String> {
        self.column(field).ok_or_else(|| {
            format!(
                "{}: no {} column (known as {}); its columns are {}",
                self.file.display(),
                field.what,
                field.names.join(", "),
                self.headers.join(", ")
            )
        })
    }

    fn cell<'a>(&self, row: &'a csv::StringRecord, column: Option<usize>) -> Option<&'a str> {
        column
            .and_then(|c| row.get(c))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// The two files beside `main`: `<stem>_<suffix>.csv`, or the one file of
/// the folder whose name holds the suffix.
fn sibling(main: &Path, suffix: &str) -> Option<PathBuf> {
    let stem = main.file_stem()?.to_string_lossy().into_owned();
    let dir = main
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let named = dir.join(format!("{stem}_{suffix}.csv"));
    if named.is_file() {
        return Some(named);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
                && p.file_name().is_some_and(|n| {
                    n.to_string_lossy()
                        .to_ascii_lowercase()
                        .contains(&suffix.to_ascii_lowercase())
                })
        })
        .collect();
    (found.len() == 1).then(|| found.remove(0))
}

/// Reads the three files of a CSV download, given the first.
pub fn read(main: &Path) -> Result<Vec<Change>, String> {
    let changes = Table::read(main)?;
    if changes.column(&ACTION).is_none() && changes.column(&NEW_VALUE).is_some() {
        return Err(format!(
            "{}: this is the modified properties file of the download; give the first file (the one with a row per change)",
            main.display()
        ));
    }
    let change_id = changes.require(&CHANGE_ID)?;
    let action = changes.require(&ACTION)?;
    let modified_file = sibling(main, "ModifiedProperties").ok_or_else(|| {
        format!(
            "Entra's CSV download is three files; the modified properties one ({}) is not beside {}",
            main.with_file_name(format!(
                "{}_ModifiedProperties.csv",
                main.file_stem().unwrap_or_default().to_string_lossy()
            ))
            .display(),
            main.display()
        )
    })?;
    let modified = Table::read(&modified_file)?;
    let (m_change, m_name) = (modified.require(&CHANGE_ID)?, modified.require(&PROPERTY)?);
    let (m_old, m_new) = (modified.column(&OLD_VALUE), modified.require(&NEW_VALUE)?);
    let mut properties: HashMap<String, Vec<Modified>> = HashMap::new();
    for row in &modified.rows {
        let (Some(id), Some(name)) = (
            modified.cell(row, Some(m_change)),
            modified.cell(row, Some(m_name)),
        ) else {
            continue;
        };
        properties.entry(id.to_string()).or_default().push((
            name.to_string(),
            modified.cell(row, m_old).map(str::to_string),
            modified.cell(row, Some(m_new)).map(str::to_string),
        ));
    }
    // The steps are optional: they may carry the app's answer when the
    // change's own row does not.
    let mut step_answers: HashMap<String, String> = HashMap::new();
    if let Some(steps_file) = sibling(main, "ProvisioningSteps") {
        let steps = Table::read(&steps_file)?;
        let (s_change, s_details) = (steps.require(&CHANGE_ID)?, steps.column(&STEP_DETAILS));
        for row in &steps.rows {
            if let (Some(id), Some(details)) =
                (steps.cell(row, Some(s_change)), steps.cell(row, s_details))
                && let Some(answer) = web_response(details)
            {
                step_answers.insert(id.to_string(), answer);
            }
        }
    }
    let columns = [
        &CYCLE_ID,
        &DATE,
        &STATUS,
        &SOURCE_NAME,
        &SOURCE_TYPE,
        &SOURCE_UPN,
        &ERROR_CODE,
        &REASON,
    ]
    .map(|f| changes.column(f));
    let [cycle, date, status, name, kind, upn, code, reason] = columns;
    let mut out = Vec::new();
    for (i, row) in changes.rows.iter().enumerate() {
        let Some(id) = changes.cell(row, Some(change_id)) else {
            continue;
        };
        let text = |c| changes.cell(row, c).map(str::to_string);
        out.push(Change {
            // The header is line 1.
            path: format!("{}:{}", main.display(), i + 2),
            change_id: id.to_string(),
            cycle_id: text(cycle).unwrap_or_default(),
            when: text(date).unwrap_or_default(),
            action: Action::parse(changes.cell(row, Some(action)).unwrap_or_default()),
            user_principal_name: text(upn),
            display_name: text(name).unwrap_or_default(),
            group: text(kind).is_some_and(|t| t.eq_ignore_ascii_case("Group")),
            modified: properties.remove(id).unwrap_or_default(),
            status: text(status).unwrap_or_else(|| "unknown".into()),
            error_code: text(code),
            web_response: text(reason)
                .and_then(|r| web_response(&r))
                .or_else(|| step_answers.remove(id)),
            // The CSV has no provisioning steps: the reason, else the error code.
            skipped: text(status)
                .filter(|s| s.eq_ignore_ascii_case("skipped"))
                .map(|_| {
                    text(reason)
                        .or_else(|| text(code))
                        .unwrap_or_else(|| "no reason logged".into())
                }),
            // The CSV names neither the app nor the target system.
            app: None,
            target_system: None,
        });
    }
    if out.is_empty() {
        return Err(format!(
            "{}: no change in it (no row with a change id)",
            main.display()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/entra")
            .join(name)
    }

    #[test]
    fn the_csv_triple_reads_as_the_json_download_does() {
        let from_csv = read(&example("csv/ProvisioningLogs.csv")).unwrap();
        let json = std::fs::read_to_string(example("zscaler-two-provisioning-log.json")).unwrap();
        let from_json = super::super::logs::read(&json).unwrap();
        assert_eq!(from_csv.len(), from_json.len());
        for (csv, json) in from_csv.iter().zip(&from_json) {
            // Only where each came from differs: a line, a JSON index;
            // and the CSV names no app.
            let csv = Change {
                path: json.path.clone(),
                app: json.app.clone(),
                target_system: json.target_system.clone(),
                ..csv.clone()
            };
            assert_eq!(&csv, json);
        }
        assert!(
            from_csv[0].path.ends_with("ProvisioningLogs.csv:2"),
            "{}",
            from_csv[0].path
        );
        assert!(
            from_csv[0]
                .web_response
                .as_deref()
                .unwrap_or_default()
                .contains("is not supported")
        );
    }

    #[test]
    fn a_wrong_or_incomplete_download_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        // The first file alone: the modified properties are missing.
        let main = dir.path().join("ProvisioningLogs.csv");
        std::fs::copy(example("csv/ProvisioningLogs.csv"), &main).unwrap();
        let e = read(&main).unwrap_err();
        assert!(
            e.contains("three files") && e.contains("ProvisioningLogs_ModifiedProperties.csv"),
            "{e}"
        );
        // The modified properties given as the first file.
        let e = read(&example("csv/ProvisioningLogs_ModifiedProperties.csv")).unwrap_err();
        assert!(e.contains("give the first file"), "{e}");
        // Columns not recognized: named, with those the file has.
        let odd = dir.path().join("odd.csv");
        std::fs::write(&odd, "When,What\n2026-11-30,create\n").unwrap();
        let e = read(&odd).unwrap_err();
        assert!(
            e.contains("no change id column") && e.contains("its columns are When, What"),
            "{e}"
        );
        // A broken row says its line.
        let broken = dir.path().join("broken.csv");
        std::fs::write(
            &broken,
            "Change ID,Action\nabc,create\n\"unterminated,create\n",
        )
        .unwrap();
        let e = read(&broken).unwrap_err();
        assert!(e.contains("broken.csv"), "{e}");
    }

    #[test]
    fn column_names_are_matched_whatever_their_spelling() {
        assert_eq!(normalize("\u{feff}Change ID"), "changeid");
        assert_eq!(normalize("change_id"), "changeid");
        assert_eq!(normalize("Date (UTC)"), "dateutc");
    }
}
