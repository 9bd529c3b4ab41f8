//! What the terminal shows while a run goes: each scenario's line as soon
//! as it finishes and, when stdout is a terminal, a progress bar beneath
//! (indicatif). Piped or redirected, plain lines only, for CI logs.
//! Colour only on a terminal, and never when `NO_COLOR` is set
//! (no-color.org: present and not empty).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use console::Style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exec::ScenarioResult;
use crate::report::terminal;

/// How the terminal is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Display {
    /// A progress bar beneath the lines.
    pub progress: bool,
    /// PASS, FAIL and SKIP in colour.
    pub color: bool,
}

impl Display {
    /// From stdout and the environment.
    pub fn detect() -> Display {
        let tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Display {
            progress: tty,
            color: tty && !no_color,
        }
    }
}

/// The live view of one run.
pub struct Live {
    bar: Option<ProgressBar>,
    color: bool,
    secrets: Vec<String>,
}

impl Live {
    pub fn new(scenarios: usize, display: Display, secrets: Vec<String>) -> Live {
        let bar = display.progress.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(scenarios as u64), ProgressDrawTarget::stdout());
            let template = if display.color {
                "{spinner:.cyan} [{elapsed}] {bar:30.cyan/blue} {pos}/{len} {wide_msg}"
            } else {
                "{spinner} [{elapsed}] {bar:30} {pos}/{len} {wide_msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Live {
            bar,
            color: display.color,
            secrets,
        }
    }

    /// Prints a finished scenario (above the bar, if any) and advances.
    pub fn finished(&self, result: &ScenarioResult) {
        let text = paint(&terminal::scenario(result, &self.secrets), self.color);
        match &self.bar {
            Some(bar) => {
                bar.println(text.trim_end_matches('\n'));
                bar.inc(1);
                bar.set_message(result.full_name.clone());
            }
            // A closed pipe (`| head`) must not stop the run: its cleanups are still due.
            None => {
                let _ = std::io::stdout().write_all(text.as_bytes());
            }
        }
    }

    /// Removes the bar before the closing lines.
    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Colours the verdict word that starts a line (PASS, FAIL, SKIP).
pub fn paint(text: &str, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let styles = [
        ("PASS ", Style::new().green().bold()),
        ("FAIL ", Style::new().red().bold()),
        ("SKIP ", Style::new().yellow().bold()),
    ];
    let mut out = String::with_capacity(text.len() + 32);
    for line in text.split_inclusive('\n') {
        match styles.iter().find(|(word, _)| line.starts_with(word)) {
            Some((word, style)) => {
                let word = word.trim_end();
                out.push_str(&style.clone().force_styling(true).apply_to(word).to_string());
                out.push_str(&line[word.len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::paint;

    #[test]
    fn only_the_leading_verdict_word_is_painted() {
        let text = "PASS a (1 ms)\nFAIL b › s\n  status: PASS is not a verdict here\n";
        assert_eq!(paint(text, false), text);
        let painted = paint(text, true);
        assert!(
            painted.starts_with("\u{1b}[32m\u{1b}[1mPASS\u{1b}[0m a (1 ms)\n"),
            "{painted:?}"
        );
        assert!(
            painted.contains("\u{1b}[31m\u{1b}[1mFAIL\u{1b}[0m b › s\n"),
            "{painted:?}"
        );
        assert!(
            painted.ends_with("  status: PASS is not a verdict here\n"),
            "{painted:?}"
        );
    }
}
