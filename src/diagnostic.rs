//! Errors that point into a suite file, rendered like a compiler's.
//!
//! ```text
//! error: unknown field `stauts`
//!   --> suites/rfc7644/users.yaml:12:9
//!    |
//! 12 |         stauts: 201
//!    |         ^
//!    = help: did you mean `status`?
//! ```

use std::fmt;
use std::sync::Arc;

/// A suite file's name and text, shared by every span into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub text: Arc<str>,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// A position in a suite file (1-based line and column; 0 when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl From<serde_saphyr::Location> for Pos {
    fn from(loc: serde_saphyr::Location) -> Pos {
        Pos {
            line: u32::try_from(loc.line()).unwrap_or(u32::MAX),
            column: u32::try_from(loc.column()).unwrap_or(u32::MAX),
        }
    }
}

/// Where something was written: a file and a position in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub source: Source,
    pub pos: Pos,
}

impl Span {
    /// The `file:line:col` form editors understand.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.source.name, self.pos.line, self.pos.column)
    }

    /// The source line the span points at, if it has one.
    pub fn line_text(&self) -> Option<&str> {
        let index = usize::try_from(self.pos.line).ok()?.checked_sub(1)?;
        self.source.text.lines().nth(index)
    }
}

/// A mistake in a suite, found before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        let gutter = self.span.pos.line.to_string().len();
        let pad = " ".repeat(gutter);
        writeln!(f, "{pad}--> {}", self.span.location())?;
        if let Some(line) = self.span.line_text() {
            let column = usize::try_from(self.span.pos.column.max(1) - 1).unwrap_or(0);
            // Tabs keep their width under the caret so it lines up.
            let lead: String = line
                .chars()
                .take(column)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{pad} |")?;
            writeln!(f, "{} | {line}", self.span.pos.line)?;
            writeln!(f, "{pad} | {lead}^")?;
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "{pad} = help: {hint}")?;
        }
        Ok(())
    }
}

/// Several diagnostics, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The closest candidate to `word`, when one is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(distance, c)| *distance <= 2.max(c.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_caret_and_hint() {
        let source = Source::new("s.yaml", "name: x\nsteps:\n  stauts: 1\n");
        let d = Diagnostic::new(
            Span {
                source,
                pos: Pos { line: 3, column: 3 },
            },
            "unknown field `stauts`",
        )
        .with_hint("did you mean `status`?");
        assert_eq!(
            d.to_string(),
            "error: unknown field `stauts`\n --> s.yaml:3:3\n  |\n3 |   stauts: 1\n  |   ^\n  = help: did you mean `status`?\n"
        );
    }

    #[test]
    fn suggests_only_close_words() {
        assert_eq!(
            did_you_mean("stauts", ["status", "headers"]),
            Some("status")
        );
        assert_eq!(did_you_mean("zzz", ["status", "headers"]), None);
    }
}
