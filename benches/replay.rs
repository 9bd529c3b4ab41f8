//! Prints how long deriving an Entra replay takes: an export with 50
//! attribute mappings (the expression functions customers use most) and
//! 1,000 sample users, read, checked and turned into suites. Goal: under
//! 1 s. `cargo bench --bench replay`. No network.

use std::time::{Duration, Instant};

use scimcheck::generate::entra::{export, traffic, users};
use serde_json::{Value, json};

// The CLI's allocator, so that the figure is the CLI's.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USERS: usize = 1000;
const RUNS: usize = 5;

/// 50 mappings: direct ones, and expressions over the users' attributes.
fn export_text() -> String {
    let attribute = |name: &str| json!({ "name": name, "type": "Attribute" });
    let expression = |text: &str| json!({ "expression": text, "type": "Function" });
    let mut mappings: Vec<Value> = vec![
        json!({ "targetAttributeName": "userName", "matchingPriority": 1, "source": attribute("userPrincipalName") }),
        json!({ "targetAttributeName": "externalId", "matchingPriority": 2, "source": attribute("mailNickname") }),
        json!({ "targetAttributeName": "active", "source": expression(r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#) }),
        json!({ "targetAttributeName": "displayName", "source": attribute("displayName") }),
        json!({ "targetAttributeName": "emails[type eq \"work\"].value", "source": attribute("mail") }),
        json!({ "targetAttributeName": "name.givenName", "source": attribute("givenName") }),
        json!({ "targetAttributeName": "name.familyName", "source": attribute("surname") }),
        json!({ "targetAttributeName": "name.formatted", "source": expression(r#"Join(" ", [givenName], [surname])"#) }),
        json!({ "targetAttributeName": "phoneNumbers[type eq \"work\"].value", "source": attribute("telephoneNumber") }),
        json!({ "targetAttributeName": "phoneNumbers[type eq \"mobile\"].value", "source": attribute("mobile") }),
    ];
    let expressions = [
        "ToLower([department])",
        "ToUpper([country])",
        "PCase([jobTitle])",
        r#"Append([mailNickname], "@apps.example")"#,
        "NormalizeDiacritics([displayName])",
        r#"Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )"#,
        r#"IIF([country]="SE", "Nordic", [companyName])"#,
        r#"Coalesce([mail], [userPrincipalName])"#,
        r#"Left([givenName], 3)"#,
        r#"Mid([surname], 1, 5)"#,
    ];
    for i in 0..40 {
        mappings.push(json!({
            "targetAttributeName": format!("urn:ietf:params:scim:schemas:extension:bench:2.0:User:attribute{i}"),
            "source": expression(expressions[i % expressions.len()]),
        }));
    }
    json!({
        "synchronizationRules": [{ "objectMappings": [{
            "enabled": true,
            "name": "Provision users",
            "sourceObjectName": "User",
            "targetObjectName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "attributeMappings": mappings,
        }]}]
    })
    .to_string()
}

fn users_text() -> String {
    let list: Vec<Value> = (0..USERS)
        .map(|i| {
            json!({
                "id": format!("00000000-0000-4000-8000-{i:012}"),
                "userPrincipalName": format!("user{i}@contoso.example"),
                "mail": format!("user{i}@contoso.example"),
                "mailNickname": format!("user{i}"),
                "displayName": format!("Zoë Åberg {i}"),
                "givenName": "Zoë",
                "surname": "Åberg-Łukasz",
                "department": "Finance",
                "jobTitle": "CONTROLLER",
                "country": if i % 2 == 0 { "SE" } else { "DE" },
                "companyName": "Contoso",
                "businessPhones": ["+46 8 123 456"],
                "mobilePhone": "+46 70 123 45 67",
                "accountEnabled": i % 10 != 0,
            })
        })
        .collect();
    serde_json::to_string(&list).unwrap()
}

fn main() {
    let export_text = export_text();
    let users_text = users_text();
    let mut samples = Vec::new();
    let mut steps = 0;
    let mut bytes = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let config = export::read(&export_text).expect("the bench export is valid");
        let sample = users::read_users(&users_text).expect("the bench users are valid");
        let derivation = traffic::derive(
            &config,
            &sample,
            &users::builtin_groups(),
            &traffic::Options {
                seed: 1,
                now: time::OffsetDateTime::UNIX_EPOCH,
                export_name: "bench.json".into(),
                default_domain: None,
            },
        )
        .expect("the bench derives");
        steps = derivation.suites.iter().map(|s| s.steps).sum::<usize>();
        let derived = started.elapsed();
        let written = Instant::now();
        bytes = derivation.suites.iter().map(|s| s.text().len()).sum();
        samples.push((derived, written.elapsed()));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let derive = median(samples.iter().map(|s| s.0).collect());
    let write = median(samples.iter().map(|s| s.1).collect());
    println!(
        "replay: 50 mappings x {USERS} users -> {steps} steps; median over {RUNS} runs: derive {:.0} ms (goal: under 1000 ms), YAML text {:.0} ms ({:.1} MB)",
        ms(derive),
        ms(write),
        bytes as f64 / 1e6
    );
}
