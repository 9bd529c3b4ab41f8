//! Property tests of the double's pure SCIM logic.

use proptest::prelude::*;
use scimcheck::double::patch;
use scimcheck::double::resource::{canonicalize, tidy};
use scimcheck::scim::filter::{Context, Filter, matches};
use scimcheck::scim::schema::{Kind, PATCH_OP, ResourceSchema};
use serde_json::{Value, json};

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "1", "userName": "Bjensen", "title": "Guide", "active": true,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "b@example.com", "type": "work"}, {"value": "b@home.org", "type": "home"}],
        "meta": {"lastModified": "2011-05-13T04:42:34Z"}
    })
}

/// Well-formed filters over a few attributes, operators and values.
fn filter() -> impl Strategy<Value = String> {
    let attr = prop::sample::select(vec![
        "userName",
        "title",
        "name.givenName",
        "emails.value",
        "emails.type",
        "nickName",
        "meta.lastModified",
    ]);
    let op = prop::sample::select(vec!["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]);
    let value = prop::sample::select(vec![
        "\"bjensen\"",
        "\"B\"",
        "\"example\"",
        "\"work\"",
        "\"2011\"",
        "\"\"",
    ]);
    let leaf = prop_oneof![
        (attr.clone(), op, value).prop_map(|(a, o, v)| format!("{a} {o} {v}")),
        attr.prop_map(|a| format!("{a} pr")),
        Just("emails[type eq \"work\" and value co \"@\"]".to_string()),
    ];
    leaf.prop_recursive(3, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

/// Fragments of suite files, shuffled into texts that get past the YAML
/// parser often enough to reach the planner.
fn suite_text() -> impl Strategy<Value = String> {
    let fragment = prop::sample::select(vec![
        "name: x\n",
        "scenarios:\n",
        "  - id: a\n",
        "    steps:\n",
        "      - id: s\n",
        "        request: { method: GET, path: /Users }\n",
        "        request: { method: GET, path: \"/{{ v }}\" }\n",
        "        expect: { status: 200 }\n",
        "        expect: { json: { /id: { type: string } } }\n",
        "        capture: { v: /id }\n",
        "vars: { v: \"{{ run_id }}\" }\n",
        "requires: [patch]\n",
        "{{",
        "}}",
        ": ",
        "[",
        "]",
        "{",
        "}",
        "\t",
        "- ",
        "é",
        "\"",
        "'",
        "&a ",
        "*a",
        "<<: ",
        "\n",
        "  ",
    ]);
    prop::collection::vec(fragment, 0..24).prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn the_suite_loader_and_planner_never_panic(text in prop_oneof![suite_text(), ".{0,200}"]) {
        let source = scimcheck::diagnostic::Source::new("fuzz.yaml", text);
        if let Ok(suite) = scimcheck::suite::parse(source) {
            let input = scimcheck::plan::SuiteInput { slug: "fuzz".into(), suite };
            if let Err(diagnostics) = scimcheck::plan::plan(vec![input], &["user"]) {
                // Every diagnostic renders, and points into the file.
                for d in &diagnostics.0 {
                    prop_assert!(d.to_string().contains("--> fuzz.yaml:"));
                }
            }
        }
    }

    #[test]
    fn the_template_engine_never_panics_and_keeps_literals(text in ".{0,80}") {
        use scimcheck::template::{Scope, Template};
        if let Ok(template) = Template::parse(&text) {
            let rendered = template.render(&Scope::default());
            if template.is_literal() {
                prop_assert_eq!(rendered.unwrap(), text);
            }
        }
    }

    #[test]
    fn the_filter_parser_never_panics(text in ".{0,80}") {
        let _ = Filter::parse(&text);
    }

    #[test]
    fn the_patch_path_parser_never_panics(text in "[a-z\\[\\]\\.: \"é]{0,30}") {
        let _ = scimcheck::scim::path::ValuePath::parse(&text);
    }

    #[test]
    fn not_is_the_exact_negation(f in filter()) {
        let schema = ResourceSchema::for_kind(Kind::User);
        let u = user();
        let plain = matches(&Filter::parse(&f).unwrap(), Context::Resource(&schema), &u).unwrap();
        let negated = matches(&Filter::parse(&format!("not ({f})")).unwrap(), Context::Resource(&schema), &u).unwrap();
        prop_assert_eq!(plain, !negated);
    }

    /// RFC 7644 3.5.2: a PATCH either applies whole or leaves the resource unchanged.
    #[test]
    fn patch_is_all_or_nothing(ops in prop::collection::vec(operation(), 1..5)) {
        let schema = ResourceSchema::for_kind(Kind::User);
        let mut resource = canonicalize(&schema, &user()).unwrap();
        tidy(&schema, &mut resource);
        let before = resource.clone();
        let body = json!({"schemas": [PATCH_OP], "Operations": ops});
        if patch::apply(&schema, &mut resource, &body).is_err() {
            prop_assert_eq!(resource, before);
        }
    }
}

fn operation() -> impl Strategy<Value = Value> {
    let op = prop::sample::select(vec!["add", "Replace", "remove", "bogus"]);
    let path = prop::sample::select(vec![
        Some("title"),
        Some("active"),
        Some("name.givenName"),
        Some("emails[type eq \"work\"].value"),
        Some("emails[type eq \"other\"]"),
        Some("id"),
        Some("nosuch"),
        None,
    ]);
    let value = prop::sample::select(vec![
        json!("x"),
        json!(false),
        json!("False"),
        json!({"title": "t"}),
        json!(3),
        Value::Null,
    ]);
    (op, path, value).prop_map(|(op, path, value)| {
        let mut o = json!({"op": op, "value": value});
        if let Some(p) = path {
            o["path"] = json!(p);
        }
        o
    })
}

/// insta itself reads the `.snap` files scimcheck writes, so `cargo insta review` can work on them.
#[test]
fn insta_reads_our_snapshot_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = scimcheck::check::snapshot::SnapshotStore {
        dir: dir.path().to_path_buf(),
        accept: true,
        all: false,
    };
    let content = "{\n  \"id\": \"[id]\",\n  \"userName\": \"scimcheck-[run_id]-a\"\n}";
    store
        .compare(
            "rfc7644::users",
            "suites/rfc7644/users.yaml",
            "created",
            content,
        )
        .unwrap();
    insta::with_settings!({ snapshot_path => dir.path(), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("rfc7644__users__created", content);
    });
}
