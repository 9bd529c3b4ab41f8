//! Where each keyed parameter of a function goes. An export's `source` tree
//! names every argument by key (`{"key": "oldValue", "value": …}`) and
//! leaves omitted ones out, so reading the parameters in order puts
//! Replace's `replacementValue` where `regexPattern` belongs. The names are
//! those of Microsoft's reference for attribute-mapping expressions, matched
//! without regard to letter case; a few other spellings seen in exports
//! (`find`, `replacement`) are read as the parameter they stand for.

/// A function's parameters: the named ones in order, then whether more
/// arguments may follow them (Join's sources, Switch's key-value pairs).
pub struct Signature {
    pub slots: &'static [&'static [&'static str]],
    pub repeats: bool,
}

const fn fixed(slots: &'static [&'static [&'static str]]) -> Signature {
    Signature {
        slots,
        repeats: false,
    }
}

const fn then_more(slots: &'static [&'static [&'static str]]) -> Signature {
    Signature {
        slots,
        repeats: true,
    }
}

const SOURCE: &[&str] = &["source"];

const SIGNATURES: &[(&str, Signature)] = &[
    ("Append", fixed(&[SOURCE, &["suffix"]])),
    ("BitAnd", fixed(&[&["value1"], &["value2"]])),
    (
        "DateAdd",
        fixed(&[&["interval"], &["value"], &["dateTime"]]),
    ),
    ("DateDiff", fixed(&[&["interval"], &["date1"], &["date2"]])),
    (
        "FormatDateTime",
        fixed(&[
            SOURCE,
            &["dateTimeStyles"],
            &["inputFormat"],
            &["outputFormat"],
        ]),
    ),
    (
        "IIF",
        fixed(&[
            &["condition"],
            &["valueIfTrue", "trueValue"],
            &["valueIfFalse", "falseValue"],
        ]),
    ),
    (
        "InStr",
        fixed(&[&["value1"], &["value2"], &["start"], &["compareType"]]),
    ),
    ("Item", fixed(&[&["attribute", "source"], &["index"]])),
    ("Join", then_more(&[&["separator"]])),
    ("Left", fixed(&[&["string", "source"], &["numChars"]])),
    ("Mid", fixed(&[SOURCE, &["start"], &["length"]])),
    ("PCase", fixed(&[SOURCE, &["wordSeparators"]])),
    (
        "RandomString",
        fixed(&[
            &["length"],
            &["minimumNumbers"],
            &["minimumSpecialCharacters"],
            &["minimumCapital"],
            &["minimumLowerCase"],
            &["charactersToAvoid"],
        ]),
    ),
    (
        "Replace",
        fixed(&[
            SOURCE,
            &["oldValue", "find"],
            &["regexPattern"],
            &["regexGroupName"],
            &["replacementValue", "replacement", "replaceValue", "replace"],
            &["replacementAttributeName"],
            &["template"],
        ]),
    ),
    ("Split", fixed(&[SOURCE, &["delimiter"]])),
    ("Switch", then_more(&[SOURCE, &["defaultValue", "default"]])),
    ("ToLower", fixed(&[SOURCE, &["culture"]])),
    ("ToUpper", fixed(&[SOURCE, &["culture"]])),
    (
        "Word",
        fixed(&[&["string", "source"], &["wordNumber"], &["delimiters"]]),
    ),
];

/// The signature of a function whose parameters have names of their own;
/// None for one taking a single argument or only a list of like ones
/// (Coalesce, SelectUniqueValue), which are read in order.
pub fn signature(function: &str) -> Option<&'static Signature> {
    SIGNATURES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(function))
        .map(|(_, s)| s)
}

impl Signature {
    /// The slot a key names, if any.
    pub fn slot(&self, key: &str) -> Option<usize> {
        self.slots
            .iter()
            .position(|names| names.iter().any(|n| n.eq_ignore_ascii_case(key)))
    }

    /// The reference's name for each slot, to tell a reader what is known.
    pub fn names(&self) -> Vec<&'static str> {
        self.slots.iter().map(|names| names[0]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::entra::expr::functions::FUNCTIONS;

    #[test]
    fn every_signature_is_a_function_of_the_reference_and_fits_its_arity() {
        for (name, signature) in SIGNATURES {
            let function = FUNCTIONS
                .iter()
                .find(|f| f.name == *name)
                .unwrap_or_else(|| panic!("{name} is no function"));
            match function.max {
                Some(max) => assert_eq!(signature.slots.len(), max, "{name}"),
                None => assert!(signature.repeats, "{name} takes any number"),
            }
        }
    }

    #[test]
    fn keys_are_found_in_any_letter_case_and_by_other_spellings() {
        let replace = signature("replace").unwrap();
        assert_eq!(replace.slot("OldValue"), Some(1));
        assert_eq!(replace.slot("Find"), Some(1));
        assert_eq!(replace.slot("Replacement"), Some(4));
        assert_eq!(replace.slot("template"), Some(6));
        assert_eq!(replace.slot("pattern"), None);
    }
}
