//! Entra's expression parser and evaluator never panic, whatever the text:
//! arbitrary strings, and strings assembled from the language's own pieces
//! (so that deep, nearly valid expressions are tried too).

use std::collections::BTreeMap;

use proptest::prelude::*;
use scimcheck::generate::entra::expr::{self, Env, Evaluator, Source, Value};

struct Attrs(BTreeMap<String, Value>);

impl Source for Attrs {
    fn attribute(&self, name: &str) -> Option<Value> {
        self.0.get(name).cloned()
    }
}

fn pieces() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "[a]",
        "[n]",
        "[d]",
        "[list]",
        "\"x\"",
        "\"\"",
        "\"\\\"\"",
        "7",
        "-3",
        "&HF",
        "(",
        ")",
        ",",
        " ",
        "=",
        "<>",
        ">=",
        "Append(",
        "Switch(",
        "IIF(",
        "Join(",
        "Replace(",
        "Mid(",
        "Left(",
        "Word(",
        "DateAdd(\"d\",",
        "CDate(",
        "FormatDateTime(",
        "RandomString(",
        "Split(",
        "Item(",
        "InStr(",
        "Guid()",
        "Now()",
        "PCase(",
        "NormalizeDiacritics(",
        "SelectUniqueValue(",
        "AppRoleAssignmentsComplex(",
        "\"yyyy-MM-dd\"",
        "\"[(\"",
        "9223372036854775807",
        "-9223372036854775808",
        "DateFromNum(",
        "NumFromDate(",
        "\"yyyy\",",
        "BitAnd(",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
}

fn evaluate(text: &str) {
    let Ok(tree) = expr::parse(text) else {
        return;
    };
    let _ = expr::functions::check(&tree);
    let source = Attrs(BTreeMap::from([
        ("a".to_string(), Value::Str("Zoë Åberg".into())),
        ("n".to_string(), Value::Num(42)),
        ("d".to_string(), Value::Str("2020-03-16-07:00".into())),
        (
            "list".to_string(),
            Value::Multi(vec![Value::Str("x".into()), Value::Null]),
        ),
    ]));
    let taken = |_: &str| false;
    let env = Env::new(time::OffsetDateTime::UNIX_EPOCH, 1, &taken);
    let _ = Evaluator {
        env: &env,
        source: &source,
    }
    .eval(&tree);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        evaluate(&text);
    }

    #[test]
    fn assembled_expressions_never_panic(text in pieces()) {
        evaluate(&text);
    }
}
