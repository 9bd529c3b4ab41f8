//! The SCIM path of RFC 7644 3.5.2 (Figure 1's PATH): `attr`, `attr.sub`,
//! `attr[filter]`, `attr[filter].sub`, each optionally URN-qualified. PATCH
//! operations address values with it, and Entra's attribute mappings name
//! their targets with it (`emails[type eq "work"].value`).

use super::filter::{AttrPath, Filter};

/// A path, with the value filter that selects among a multi-valued
/// attribute's values.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuePath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
}

impl ValuePath {
    /// Parses a path; the error says why it is not one.
    pub fn parse(text: &str) -> Result<ValuePath, String> {
        let invalid = |why: String| format!("invalid path `{text}`: {why}");
        let Some(open) = text.find('[') else {
            return AttrPath::parse(text.trim())
                .map(|attr| ValuePath { attr, filter: None })
                .map_err(invalid);
        };
        // The last `]` after the `[`: one before it does not close it.
        let close = text[open..]
            .rfind(']')
            .map(|i| open + i)
            .ok_or_else(|| invalid("`[` is not closed".into()))?;
        let mut attr = AttrPath::parse(text[..open].trim()).map_err(invalid)?;
        if attr.sub.is_some() {
            return Err(invalid(
                "a value filter applies to a multi-valued attribute, not a sub-attribute".into(),
            ));
        }
        let filter = Filter::parse(&text[open + 1..close]).map_err(invalid)?;
        let after = &text[close + 1..];
        if !after.is_empty() {
            let sub = after
                .strip_prefix('.')
                .filter(|s| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '$' || c == '_')
                })
                .ok_or_else(|| invalid(format!("unexpected `{after}` after the filter")))?;
            attr.sub = Some(sub.to_string());
        }
        Ok(ValuePath {
            attr,
            filter: Some(filter),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::CompareOp;
    use serde_json::json;

    #[test]
    fn the_forms_of_a_path() {
        let plain = ValuePath::parse("name.givenName").unwrap();
        assert_eq!(
            (plain.attr.name.as_str(), plain.attr.sub.as_deref()),
            ("name", Some("givenName"))
        );
        assert!(plain.filter.is_none());
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let manager = ValuePath::parse(&format!("{urn}:manager.value")).unwrap();
        assert_eq!(manager.attr.uri.as_deref(), Some(urn));
        assert_eq!(manager.attr.name, "manager");
        let work = ValuePath::parse(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(work.attr.sub.as_deref(), Some("value"));
        match work.filter {
            Some(Filter::Compare(key, CompareOp::Eq, value)) => {
                assert_eq!((key.name.as_str(), value), ("type", json!("work")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_is_not_a_path_says_why() {
        for (text, why) in [
            (r#"emails[type eq "work""#, "`[` is not closed"),
            (r#"name.givenName[type eq "x"]"#, "not a sub-attribute"),
            (r#"emails[type eq "work"]value"#, "unexpected `value`"),
            ("emails[type zz 1]", "invalid path"),
        ] {
            let error = ValuePath::parse(text).unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
    }
}
