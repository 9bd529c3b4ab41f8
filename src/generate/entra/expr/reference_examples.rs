//! Each function against the examples of Microsoft's reference ("Reference
//! for writing expressions for attribute mappings in Microsoft Entra ID"),
//! input for input, output for output.

use std::collections::BTreeMap;

use serde_json::json;
use time::macros::datetime;

use super::eval::{Env, ErrorKind, Evaluator, Source};
use super::functions::FUNCTIONS;
use super::parse::parse;
use super::value::{RoleFunction, Value};

struct Attrs(BTreeMap<String, Value>);

impl Source for Attrs {
    fn attribute(&self, name: &str) -> Option<Value> {
        self.0.get(name).cloned()
    }
}

fn attrs(pairs: &[(&str, serde_json::Value)]) -> Attrs {
    Attrs(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from_json(v.clone())))
            .collect(),
    )
}

fn nothing_taken(_: &str) -> bool {
    false
}

fn eval_with(
    expression: &str,
    source: &Attrs,
    taken: &dyn Fn(&str) -> bool,
) -> Result<Value, super::EvalError> {
    let env = Env::new(datetime!(2021-07-02 15:33:38 UTC), 7, taken);
    let tree = parse(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
    super::functions::check(&tree)?;
    Evaluator { env: &env, source }.eval(&tree)
}

fn eval(expression: &str, pairs: &[(&str, serde_json::Value)]) -> Value {
    eval_with(expression, &attrs(pairs), &nothing_taken)
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
}

fn text(expression: &str, pairs: &[(&str, serde_json::Value)]) -> String {
    let value = eval(expression, pairs);
    value
        .as_text()
        .unwrap_or_else(|| panic!("{expression}: {value:?} has no text"))
}

#[test]
fn append() {
    assert_eq!(
        text(
            r#"Append([userPrincipalName], ".test")"#,
            &[("userPrincipalName", json!("John.Doe@contoso.com"))]
        ),
        "John.Doe@contoso.com.test"
    );
    assert_eq!(eval(r#"Append([missing], ".test")"#, &[]), Value::Null);
}

#[test]
fn bit_and() {
    assert_eq!(eval("BitAnd(&HF, &HF7)", &[]), Value::Num(7));
}

#[test]
fn cbool() {
    let same = [("attribute1", json!("a")), ("attribute2", json!("a"))];
    assert_eq!(
        eval("CBool([attribute1] = [attribute2])", &same),
        Value::Bool(true)
    );
    let differ = [("attribute1", json!("a")), ("attribute2", json!("b"))];
    assert_eq!(
        eval("CBool([attribute1] = [attribute2])", &differ),
        Value::Bool(false)
    );
}

#[test]
fn cdate() {
    assert_eq!(
        text(
            "CDate([StatusHireDate])",
            &[("StatusHireDate", json!("2020-03-16-07:00"))]
        ),
        "3/16/2020 7:00:00 AM"
    );
    assert_eq!(
        text(r#"CDate("2021-06-30+08:00")"#, &[]),
        "6/29/2021 4:00:00 PM"
    );
    assert_eq!(
        text(r#"CDate("2009-06-15T01:45:30-07:00")"#, &[]),
        "6/15/2009 8:45:30 AM"
    );
}

#[test]
fn coalesce() {
    assert_eq!(
        text(
            "Coalesce([mail],[userPrincipalName])",
            &[("userPrincipalName", json!("John.Doe@contoso.com"))]
        ),
        "John.Doe@contoso.com"
    );
    assert_eq!(text(r#"Coalesce([mail], [other], "none")"#, &[]), "none");
    assert_eq!(eval("Coalesce([mail], [other])", &[]), Value::Null);
}

#[test]
fn conversions_to_base64_and_utf8_hex() {
    assert_eq!(
        text(r#"ConvertToBase64("Hello world!")"#, &[]),
        "SABlAGwAbABvACAAdwBvAHIAbABkACEA"
    );
    assert_eq!(
        text(r#"ConvertToUTF8Hex("Hello world!")"#, &[]),
        "48656C6C6F20776F726C6421"
    );
}

#[test]
fn count_and_cstr() {
    assert_eq!(
        eval(
            "Count([proxyAddresses])",
            &[("proxyAddresses", json!(["a", "b", "c"]))]
        ),
        Value::Num(3)
    );
    assert_eq!(eval("Count([proxyAddresses])", &[]), Value::Num(0));
    assert_eq!(
        text("CStr([dn])", &[("dn", json!("cn=Joe,dc=contoso,dc=com"))]),
        "cn=Joe,dc=contoso,dc=com"
    );
    assert_eq!(
        text("CStr([accountEnabled])", &[("accountEnabled", json!(true))]),
        "True"
    );
}

#[test]
fn date_add_table() {
    let hire = [("StatusHireDate", json!("2012-03-16-07:00"))];
    for (interval, n, out) in [
        ("d", 7, "3/23/2012 7:00:00 AM"),
        ("d", -10, "3/6/2012 7:00:00 AM"),
        ("ww", 2, "3/30/2012 7:00:00 AM"),
        ("m", 10, "1/16/2013 7:00:00 AM"),
        ("yyyy", 2, "3/16/2014 7:00:00 AM"),
    ] {
        assert_eq!(
            text(
                &format!(r#"DateAdd("{interval}", {n}, CDate([StatusHireDate]))"#),
                &hire
            ),
            out,
            "{interval} {n}"
        );
    }
}

#[test]
fn date_diff_table() {
    for (interval, a, b, out) in [
        ("d", "2021-08-18+08:00", "2021-08-31+08:00", 13),
        ("d", "8/25/2021 5:41:18 PM", "2012-03-16-07:00", -3449),
        ("ww", "8/25/2021 5:41:18 PM", "2012-03-16-07:00", -493),
        ("m", "8/25/2021 5:41:18 PM", "2012-03-16-07:00", -113),
        ("yyyy", "8/25/2021 5:41:18 PM", "2012-03-16-07:00", -9),
        ("d", "2021-08-31+08:00", "2021-08-31+08:00", 0),
        ("h", "2021-08-24", "2021-08-25", 24),
        ("n", "2021-08-24", "2021-08-25", 1440),
        ("s", "2021-08-24", "2021-08-25", 86400),
    ] {
        let expression = format!(r#"DateDiff("{interval}", CDate("{a}"), CDate("{b}"))"#);
        assert_eq!(eval(&expression, &[]), Value::Num(out), "{expression}");
    }
    // With IIF, as the reference's second example.
    let expression = r#"Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")"#;
    assert_eq!(
        text(
            expression,
            &[
                ("Active", json!("1")),
                ("StatusHireDate", json!("2021-07-04"))
            ]
        ),
        "True"
    );
    assert_eq!(
        text(
            expression,
            &[
                ("Active", json!("1")),
                ("StatusHireDate", json!("2021-08-04"))
            ]
        ),
        "False"
    );
}

#[test]
fn date_from_num_and_num_from_date() {
    assert_eq!(
        text("DateFromNum(129699324000000000)", &[]),
        "1/1/2012 11:00:00 PM"
    );
    let expression = r#"NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))"#;
    // 2021-01-01T07:59:59Z as FILETIME.
    assert_eq!(
        eval(
            expression,
            &[("ContractEndDate", json!("2020-12-31-08:00"))]
        ),
        Value::Num(132_539_615_990_000_000)
    );
}

#[test]
fn format_date_time() {
    let expression =
        r#"FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")"#;
    assert_eq!(
        text(
            expression,
            &[("extensionAttribute1", json!("20150123105347.1Z"))]
        ),
        "2015-01-23"
    );
    let err = eval_with(
        expression,
        &attrs(&[("extensionAttribute1", json!("2015-01-23"))]),
        &nothing_taken,
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::EntraFails);
    assert!(
        err.to_string()
            .starts_with("FormatDateTime at column 1: `2015-01-23` does not match"),
        "{err}"
    );
}

#[test]
fn guid_and_random_string_are_seeded() {
    let a = text("Guid()", &[]);
    assert_eq!(a, text("Guid()", &[]), "the same seed gives the same Guid");
    assert_eq!(a.len(), 36);
    assert_eq!(&a[14..15], "4", "a version 4 GUID: {a}");
    let s = text("RandomString(6,3,0,0,3)", &[]);
    assert_eq!(s.len(), 6);
    assert!(s.chars().filter(char::is_ascii_digit).count() >= 3, "{s}");
    assert!(
        s.chars().filter(char::is_ascii_lowercase).count() >= 3,
        "{s}"
    );
    let s = text(r#"RandomString(10,2,2,2,1,"?,")"#, &[]);
    assert_eq!(s.chars().count(), 10);
    assert!(!s.contains('?') && !s.contains(','), "{s}");
    assert!(
        s.chars().filter(|c| !c.is_ascii_alphanumeric()).count() >= 2,
        "{s}"
    );
    assert!(
        s.chars().filter(char::is_ascii_uppercase).count() >= 2,
        "{s}"
    );
}

#[test]
fn ignore_flow_if_null_or_empty() {
    assert_eq!(
        eval("IgnoreFlowIfNullOrEmpty([department])", &[]),
        Value::IgnoreFlow
    );
    assert_eq!(
        eval(
            "IgnoreFlowIfNullOrEmpty([department])",
            &[("department", json!(""))]
        ),
        Value::IgnoreFlow
    );
    let expression = r#"IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))"#;
    assert_eq!(
        eval(expression, &[("prefix", json!("9999"))]),
        Value::IgnoreFlow
    );
    assert_eq!(text(expression, &[("prefix", json!("3444"))]), "Prof.");
}

#[test]
fn iif_and_its_documented_limitation() {
    let expression = r#"IIF([country]="USA",[country],[department])"#;
    assert_eq!(
        text(
            expression,
            &[("country", json!("USA")), ("department", json!("Sales"))]
        ),
        "USA"
    );
    assert_eq!(
        text(
            expression,
            &[("country", json!("FR")), ("department", json!("Sales"))]
        ),
        "Sales"
    );
    let and = r#"IIF([country]="USA",IIF([state]="CA","True","False"),"False")"#;
    assert_eq!(
        text(and, &[("country", json!("USA")), ("state", json!("CA"))]),
        "True"
    );
    let or = r#"IIF([country]="USA","True",IIF([state]="CA","True","False"))"#;
    assert_eq!(
        text(or, &[("country", json!("FR")), ("state", json!("CA"))]),
        "True"
    );
    // "If the source attribute used within the IIF function is empty or null, the condition check fails."
    let err = eval_with(expression, &attrs(&[]), &nothing_taken).unwrap_err();
    assert_eq!(err.kind, ErrorKind::EntraFails, "{err}");
    // The recommended workaround.
    assert_eq!(
        text(r#"Switch([country],[country],"","Other")"#, &[]),
        "Other"
    );
}

#[test]
fn in_str() {
    assert_eq!(
        eval(r#"InStr("The quick brown fox","quick")"#, &[]),
        Value::Num(5)
    );
    assert_eq!(
        eval(r#"InStr("repEated","e",3,vbBinaryCompare)"#, &[]),
        Value::Num(7)
    );
    assert_eq!(
        eval(r#"InStr("repEated","e",3,vbTextCompare)"#, &[]),
        Value::Num(4)
    );
    assert_eq!(eval(r#"InStr("fox","cat")"#, &[]), Value::Num(0));
}

#[test]
fn is_null_is_null_or_empty_is_present_is_string() {
    assert_eq!(eval("IsNull([displayName])", &[]), Value::Bool(true));
    assert_eq!(
        eval("IsNull([displayName])", &[("displayName", json!(""))]),
        Value::Bool(false)
    );
    assert_eq!(
        eval(
            "IsNullOrEmpty([displayName])",
            &[("displayName", json!(""))]
        ),
        Value::Bool(true)
    );
    assert_eq!(
        eval("IsPresent([displayName])", &[("displayName", json!("Ada"))]),
        Value::Bool(true)
    );
    let expression = "Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], IsPresent([director]),[director])";
    assert!(super::parse::parse(expression).is_ok());
    assert_eq!(
        eval("IsString([displayName])", &[("displayName", json!("Ada"))]),
        Value::Bool(true)
    );
    assert_eq!(
        eval("IsString([n])", &[("n", json!(5))]),
        Value::Bool(false)
    );
}

#[test]
fn item_join_left_mid() {
    let proxies = [("proxyAddresses", json!(["SMTP:a@x", "smtp:b@x"]))];
    assert_eq!(text("Item([proxyAddresses], 1)", &proxies), "SMTP:a@x");
    assert_eq!(eval("Item([proxyAddresses], 3)", &proxies), Value::Null);
    assert!(
        eval_with(
            "Item([proxyAddresses], 0)",
            &attrs(&proxies),
            &nothing_taken
        )
        .is_err()
    );
    let names = [("givenName", json!("John")), ("surname", json!("Doe"))];
    assert_eq!(
        text(r#"Join(", ", "", [surname], [givenName])"#, &names),
        "Doe, John"
    );
    assert_eq!(
        text(r#"Join(";", [proxyAddresses], "c@x")"#, &proxies),
        "SMTP:a@x;smtp:b@x;c@x"
    );
    assert_eq!(text(r#"Left("John Doe", 3)"#, &[]), "Joh");
    assert_eq!(text(r#"Left("John Doe", 0)"#, &[]), "");
    assert_eq!(text(r#"Left("John Doe", -1)"#, &[]), "John Doe");
    assert_eq!(text("Left([missing], 3)", &[]), "");
    assert_eq!(text(r#"Left("Jo", 3)"#, &[]), "Jo");
    assert_eq!(
        text(
            "Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))",
            &names
        ),
        "JohDoe"
    );
    assert_eq!(text(r#"Len("Zoë")"#, &[]), "3");
}

#[test]
fn normalize_diacritics() {
    assert_eq!(
        text(
            "NormalizeDiacritics([givenName])",
            &[("givenName", json!("Zoë"))]
        ),
        "Zoe"
    );
    assert_eq!(
        text(
            r#"NormalizeDiacritics("Ærøskøbing Straße Łódź Ōsaka ā́")"#,
            &[]
        ),
        "AEroeskoebing Strasse Lodz Osaka a"
    );
}

#[test]
fn not_and_now() {
    assert_eq!(
        text("Not([accountEnabled])", &[("accountEnabled", json!(true))]),
        "False"
    );
    assert_eq!(
        text(
            "Not([accountEnabled])",
            &[("accountEnabled", json!("False"))]
        ),
        "True"
    );
    assert_eq!(text("Now()", &[]), "7/2/2021 3:33:38 PM");
}

#[test]
fn pcase_table() {
    assert_eq!(
        text(
            "PCase([firstName])",
            &[("firstName", json!("PABLO GONSALVES (SECOND)"))]
        ),
        "Pablo Gonsalves (Second)"
    );
    assert_eq!(
        text(
            r#"PCase([lastName]," '-")"#,
            &[("lastName", json!("PINTO-DE'SILVA"))]
        ),
        "Pinto-De'Silva"
    );
    assert_eq!(
        text(
            r#"PCase(Join(" ",[firstName],[lastName]))"#,
            &[
                ("firstName", json!("GREGORY")),
                ("lastName", json!("JAMES"))
            ]
        ),
        "Gregory James"
    );
    assert_eq!(
        text(r#"PCase("tHe [quick] _brown_ fox", " ")"#, &[]),
        "The [quick] _brown_ Fox"
    );
}

#[test]
fn redact_passes_the_value_on() {
    assert_eq!(
        text(
            "Redact([userPrincipalName])",
            &[("userPrincipalName", json!("a@b"))]
        ),
        "a@b"
    );
}

#[test]
fn remove_duplicates() {
    assert_eq!(
        eval(
            "RemoveDuplicates([proxyAddresses])",
            &[("proxyAddresses", json!(["a", "b", "a"]))]
        ),
        Value::Multi(vec![Value::Str("a".into()), Value::Str("b".into())])
    );
}

#[test]
fn replace_every_mode_of_the_reference() {
    assert_eq!(
        text(
            r#"Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )"#,
            &[("BusinessTitle", json!("Product Developer"))]
        ),
        "Software Engineer"
    );
    assert_eq!(
        text(
            r#"Replace([UserID],"<username>", , , , , "<username>@contoso.com")"#,
            &[("UserID", json!("jsmith"))]
        ),
        "jsmith@contoso.com"
    );
    assert_eq!(
        text(
            r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )"#,
            &[("telephoneNumber", json!("+91 9998887777"))]
        ),
        "9998887777"
    );
    assert_eq!(
        text(
            r#"Replace([AddressLineData], ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )"#,
            &[("AddressLineData", json!("545 Tremont Street"))]
        ),
        "888 Tremont Street"
    );
    assert_eq!(
        text(
            r#"Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )"#,
            &[("userPrincipalName", json!("jsmith@contoso.com"))]
        ),
        "jsmith"
    );
    let fallback = r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )"#;
    assert_eq!(
        text(
            fallback,
            &[
                ("telephoneNumber", json!("")),
                ("mobile", json!("+91 8887779999"))
            ]
        ),
        "8887779999"
    );
    assert_eq!(
        text(
            r#"Replace([mailNickname], , "[a-zA-Z_]*", , "", , )"#,
            &[("mailNickname", json!("john_doe72"))]
        ),
        "72"
    );
    assert_eq!(
        text(
            r#"Replace([mail], "@contoso.com", , ,"", ,)"#,
            &[("mail", json!("john.doe@contoso.com"))]
        ),
        "john.doe"
    );
}

#[test]
fn replace_keeps_the_plus_the_reference_drops() {
    // The reference prints 19998887777 for "+1 (999) 888-7777" with the
    // pattern [()\\s-]+, which does not match "+": the regex says +19998887777.
    assert_eq!(
        text(
            r#"Replace([mobile], , "[()\\s-]+", , "", , )"#,
            &[("mobile", json!("+1 (999) 888-7777"))]
        ),
        "+19998887777"
    );
}

#[test]
fn select_unique_value() {
    let expression = r#"SelectUniqueValue(
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"),
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), "contoso.com"),
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 2), [PreferredLastName]))), "contoso.com")
    )"#;
    let john = attrs(&[
        ("PreferredFirstName", json!("John")),
        ("PreferredLastName", json!("Smith")),
    ]);
    let value = |taken: &dyn Fn(&str) -> bool| {
        eval_with(expression, &john, taken)
            .unwrap()
            .as_text()
            .unwrap()
    };
    assert_eq!(value(&nothing_taken), "John.Smith@contoso.com");
    assert_eq!(
        value(&|v| v == "John.Smith@contoso.com"),
        "J.Smith@contoso.com"
    );
    assert_eq!(
        value(&|v| v != "Jo.Smith@contoso.com"),
        "Jo.Smith@contoso.com"
    );
    assert_eq!(
        eval_with(expression, &john, &|_| true).unwrap_err().kind,
        ErrorKind::EntraFails
    );
}

#[test]
fn role_functions() {
    let roles = [(
        "appRoleAssignments",
        json!([
            {"id": "06b07648-ecfe-589f-9d2f-6325724a46ee", "value": "Admin", "displayName": "Admin"},
            {"id": "06b07648-ecfe-599f-9d2f-6325724a46ee", "value": "User", "displayName": "User"}
        ]),
    )];
    let Value::Roles(set) = eval("AppRoleAssignmentsComplex([appRoleAssignments])", &roles) else {
        panic!()
    };
    assert_eq!((set.function, set.roles.len()), (RoleFunction::Complex, 2));
    let Value::Roles(set) = eval("SingleAppRoleAssignment([appRoleAssignments])", &roles) else {
        panic!()
    };
    assert_eq!(
        (set.function, set.roles.len(), set.roles[0].value.as_str()),
        (RoleFunction::Single, 1, "Admin")
    );
    let Value::Roles(set) = eval(
        "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])",
        &roles,
    ) else {
        panic!()
    };
    assert_eq!(set.function, RoleFunction::Assertive);
    assert_eq!(
        eval("SingleAppRoleAssignment([appRoleAssignments])", &[]),
        Value::Null
    );
}

#[test]
fn split_strip_spaces_switch_case_word() {
    assert_eq!(
        eval(
            r#"Split([extensionAttribute5], ",")"#,
            &[(
                "extensionAttribute5",
                json!("PermissionSetOne, PermissionSetTwo")
            )]
        ),
        Value::Multi(vec![
            Value::Str("PermissionSetOne".into()),
            Value::Str("PermissionSetTwo".into())
        ])
    );
    assert_eq!(
        text("StripSpaces([a])", &[("a", json!(" J o hn "))]),
        "John"
    );
    let tz = r#"Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")"#;
    assert_eq!(text(tz, &[("state", json!("QLD"))]), "Australia/Brisbane");
    assert_eq!(text(tz, &[("state", json!("WA"))]), "Australia/Sydney");
    assert_eq!(
        text(
            r#"Switch([statusFlag], "Default Value", "true", "1", "", "0")"#,
            &[]
        ),
        "0"
    );
    assert_eq!(
        text(
            r#"Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")"#,
            &[("statusFlag", json!("TRUE"))]
        ),
        "1"
    );
    // Entra's default `active` mapping gives the string "False" for a soft-deleted user.
    let active = r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#;
    assert_eq!(
        eval(active, &[("IsSoftDeleted", json!(true))]),
        Value::Str("False".into())
    );
    assert_eq!(
        eval(active, &[("IsSoftDeleted", json!(false))]),
        Value::Str("True".into())
    );
    let upn = r#"ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))"#;
    assert_eq!(
        text(
            upn,
            &[
                ("PreferredFirstName", json!("John")),
                ("PreferredLastName", json!("Smith"))
            ]
        ),
        "john.smith@contoso.com"
    );
    assert_eq!(text(r#"ToUpper("abc")"#, &[]), "ABC");
    assert_eq!(text(r#"Word("The quick brown fox",3," ")"#, &[]), "brown");
    assert_eq!(
        text(r#"Word("This,string!has&many separators",3,",!&#")"#, &[]),
        "has"
    );
    assert_eq!(text(r#"Word("a b",0," ")"#, &[]), "");
    assert_eq!(text(r#"Word("a b",5," ")"#, &[]), "");
}

#[test]
fn the_examples_section() {
    assert_eq!(
        text(
            r#"Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))"#,
            &[("objectId", json!("00aa00aa-bb11-cc22-dd33-44ee44ee44ee"))]
        ),
        format!(
            "1000{}",
            "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
                .bytes()
                .map(|b| format!("{b:02X}"))
                .collect::<String>()
                .chars()
                .filter(|c| !c.is_ascii_alphabetic())
                .collect::<String>()
        )
    );
}

#[test]
fn unknown_functions_and_wrong_arities_are_refused_with_their_position() {
    let err = eval_with(r#"Append([a], ToLowr([b]))"#, &attrs(&[]), &nothing_taken).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert_eq!(
        err.to_string(),
        "ToLowr at column 13: no such function in Entra's expression language (did you mean ToLower?)"
    );
    let err = eval_with(r#"Left("a")"#, &attrs(&[]), &nothing_taken).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Left at column 1: takes 2 arguments, given 1"
    );
    let err = eval_with(r#"Switch([a], "d", "k")"#, &attrs(&[]), &nothing_taken).unwrap_err();
    assert!(err.to_string().contains("even number"), "{err}");
}

#[test]
fn every_function_the_issue_names_is_known() {
    let names = "Append, BitAnd, CBool, CDate, Coalesce, ConvertToBase64, ConvertToUTF8Hex, Count, CStr, DateAdd, DateDiff, DateFromNum, FormatDateTime, Guid, IgnoreFlowIfNullOrEmpty, IIF, InStr, IsNull, IsNullOrEmpty, IsPresent, IsString, Item, Join, Left, Mid, NormalizeDiacritics, Not, Now, NumFromDate, PCase, RandomString, Redact, RemoveDuplicates, Replace, SelectUniqueValue, SingleAppRoleAssignment, AppRoleAssignmentsComplex, AssertiveAppRoleAssignmentsComplex, Split, StripSpaces, Switch, ToLower, ToUpper, Word";
    for name in names.split(", ") {
        assert!(FUNCTIONS.iter().any(|f| f.name == name), "{name}");
    }
}

#[test]
fn a_value_doubled_thirty_times_is_refused_not_evaluated() {
    // Each Replace doubles every character: 2^30 times the input, unbounded.
    let mut expression = "[displayName]".to_string();
    for _ in 0..30 {
        expression = format!(r#"Replace({expression}, , "(.)", , "$1$1", , )"#);
    }
    let source = attrs(&[("displayName", json!("Zoë Åberg"))]);
    let error = eval_with(&expression, &source, &nothing_taken).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(error.message.contains("more than"), "{error}");
}
