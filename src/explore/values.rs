//! The values the explorer sends: what real directories hold, chosen to
//! break servers. Names mix ASCII with letters that have case pairs beyond
//! ASCII, combining marks (NFD forms), characters outside the BMP, and the
//! characters that are special in JSON, filters, regular expressions and
//! URLs. Every identifying value starts with the case's run prefix, so the
//! ownership rule recognises what the explorer created.

use proptest::prelude::*;

/// Pieces of an identifying name (userName, a group's displayName): what
/// real accounts hold, such as `o'brien.zoë+it@例え.jp`.
const NAME_PIECES: &[&str] = &[
    "é", "É", "ö", "Ö", "å", "Å", "ł", "Ł", "ç", "Ç", "ñ", "Ñ", "ж", "Ж", "ω", "Ω", "ā", "Ā",
    "e\u{301}", "A\u{30A}", "日本", "名", "𝄞", "😀", "'", ".", "-", "_", "+", "@",
];

/// Pieces of free text (displayName, familyName, title): names pieces, plus
/// the characters that escape JSON, quote filters and mean something to a
/// regular expression or a URL. Braces are left out: a reproducer's text
/// goes through the suite templating, where `{{` opens a placeholder.
const TEXT_PIECES: &[&str] = &[
    "\"", "\\", "*", "(", ")", "[", "]", "^", "$", "|", "?", "%", "&", "#", "/", " ", "\t",
    "\u{2028}",
];

/// A pattern's strategy, compiled once: a `&str` strategy compiles its
/// pattern again for every value (a twentieth of a run's time), and
/// generates the same values as this.
pub fn pattern(regex: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    proptest::string::string_regex(regex).expect("a valid pattern")
}

fn ascii() -> impl Strategy<Value = String> {
    pattern("[a-z0-9]{1,4}")
}

fn pieces(extra: &'static [&'static str]) -> impl Strategy<Value = String> {
    let chosen = prop::sample::select(NAME_PIECES.iter().chain(extra).copied().collect::<Vec<_>>());
    prop::collection::vec(
        prop_oneof![3 => ascii(), 2 => chosen.prop_map(str::to_string)],
        1..6,
    )
    .prop_map(|parts| parts.concat())
}

/// The part of a userName after the run prefix.
pub fn name_tail() -> impl Strategy<Value = String> {
    pieces(&[])
}

/// Free text, hostile.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => pieces(TEXT_PIECES),
        1 => Just(String::new()),
        1 => long(),
    ]
}

/// 200 to 300 letters. A length and a seed, not a pattern: a pattern's
/// value is a tree of one generator per character, and shrinking a long
/// value character by character tells nothing its length does not.
fn long() -> impl Strategy<Value = String> {
    (200usize..=300, any::<u64>()).prop_map(|(len, seed)| {
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                // xorshift64: letters spread over the alphabet, same seed same text.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'a' + (state % 26) as u8)
            })
            .collect()
    })
}

/// An email address that is an address by RFC 5321/6531: a dot-atom
/// local part (letters, digits, and `.`, `+`, `-`, `_` between them; a
/// letter beyond ASCII now and then), so that a server validating
/// addresses has no ground to refuse it.
pub fn email() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        4 => pattern("[a-z0-9]{1,5}"),
        1 => prop::sample::select(vec!["zoë", "jörg", "åsa", "łukasz"]).prop_map(str::to_string),
    ];
    let separator = prop::sample::select(vec![".", "+", "-", "_"]);
    (
        atom.clone(),
        prop::collection::vec((separator, atom), 0..3),
        prop::sample::select(vec!["example.com", "例え.jp", "ex-ample.org"]),
    )
        .prop_map(|(first, rest, domain)| {
            let mut local = first;
            for (sep, atom) in rest {
                local.push_str(sep);
                local.push_str(&atom);
            }
            format!("{local}@{domain}")
        })
}

/// `text` with the letters that have a simple one-to-one case pair in the
/// other case: the same name to a case-insensitive attribute (RFC 7643
/// 2.1). Letters without such a pair (ß, dotted İ, final sigma) are left
/// as they are, since their folding is not one-to-one.
pub fn other_case(text: &str) -> String {
    text.chars()
        .map(|c| {
            let flipped = if c.is_lowercase() {
                single(c.to_uppercase())
            } else if c.is_uppercase() {
                single(c.to_lowercase())
            } else {
                None
            };
            match flipped {
                Some(f) if flipped_back(f) == Some(c) && !matches!(c, 'σ' | 'ς' | 'Σ') => f,
                _ => c,
            }
        })
        .collect()
}

fn single(mut chars: impl Iterator<Item = char>) -> Option<char> {
    let first = chars.next()?;
    chars.next().is_none().then_some(first)
}

fn flipped_back(c: char) -> Option<char> {
    if c.is_lowercase() {
        single(c.to_uppercase())
    } else {
        single(c.to_lowercase())
    }
}

/// A piece of `text` of about `len` characters from `start`, on character
/// boundaries: what `co`, `sw` and `ew` filters look for.
pub fn piece(text: &str, start: usize, len: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let start = start % chars.len();
    let len = 1 + len % (chars.len() - start);
    chars[start..start + len].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_case_flips_pairs_beyond_ascii_and_leaves_the_rest() {
        assert_eq!(other_case("zoë-ÅSA'日本"), "ZOË-åsa'日本");
        assert_eq!(other_case("straße"), "STRAßE");
        assert_eq!(other_case("e\u{301}"), "E\u{301}");
        assert_eq!(other_case("Σσ"), "Σσ");
    }

    #[test]
    fn a_piece_is_never_empty_and_keeps_characters_whole() {
        assert_eq!(piece("a𝄞b", 1, 0), "𝄞");
        assert_eq!(piece("a𝄞b", 1, 7), "𝄞b");
        assert_eq!(piece("", 3, 3), "");
    }
}
