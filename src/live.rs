//! What the terminal shows while a run goes: each scenario's line as soon
//! as it finishes and, when stdout is a terminal, a progress bar beneath
//! (indicatif). Piped or redirected, plain lines only, for CI logs.
//! Colour only on a terminal, and never when `NO_COLOR` is set
//! (no-color.org: present and not empty).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use console::Style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exec::{Observer, Outcome, ScenarioResult};
use crate::http::Exchange;
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
    /// Every exchange is printed as it finishes (`--verbose`).
    verbose: bool,
    secrets: Vec<String>,
    /// Set once interrupted: the bar is gone, lines are printed plainly.
    stopped: AtomicBool,
    /// The scenarios the interruption stopped, told once at the end.
    interrupted: Mutex<Vec<String>>,
}

impl Live {
    pub fn new(scenarios: usize, display: Display, secrets: Vec<String>, verbose: bool) -> Live {
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
            verbose,
            secrets,
            stopped: AtomicBool::new(false),
            interrupted: Mutex::new(Vec::new()),
        }
    }

    /// The bar while it is shown.
    fn live_bar(&self) -> Option<&ProgressBar> {
        self.bar
            .as_ref()
            .filter(|_| !self.stopped.load(Ordering::SeqCst))
    }

    /// Prints lines above the bar, or plainly.
    fn print(&self, text: &str) {
        match self.live_bar() {
            Some(bar) => bar.println(text.trim_end_matches('\n')),
            // A closed pipe (`| head`) must not stop the run: its cleanups are still due.
            None => {
                let _ = std::io::stdout().write_all(text.as_bytes());
            }
        }
    }

    /// Prints a finished scenario (above the bar, if any) and advances. One
    /// the interruption kept from running is kept for the closing list.
    pub fn finished(&self, result: &ScenarioResult) {
        if result.interrupted
            && let Ok(mut names) = self.interrupted.lock()
        {
            names.push(result.full_name.clone());
        }
        let untold = result.interrupted && matches!(result.outcome, Outcome::Skipped(_));
        if !untold {
            self.print(&paint(
                &terminal::scenario(result, &self.secrets),
                self.color,
            ));
        }
        if let Some(bar) = self.live_bar() {
            bar.inc(1);
            bar.set_message(result.full_name.clone());
        }
    }

    /// Prints an exchange as it finishes, with `--verbose`.
    pub fn exchange(&self, scenario: &str, step: &str, exchange: &Exchange) {
        if self.verbose {
            self.print(&terminal::exchange(scenario, step, exchange, &self.secrets));
        }
    }

    /// The run was interrupted: the bar goes at once, so that the messages
    /// that follow are not drawn over.
    pub fn interrupt(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Removes the bar, and names the scenarios an interruption stopped.
    pub fn done(&self) {
        self.interrupt();
        let names = self
            .interrupted
            .lock()
            .map(|n| n.clone())
            .unwrap_or_default();
        if !names.is_empty() {
            let mut sorted = names;
            sorted.sort();
            self.print(&format!(
                "SKIP {} scenario{} interrupted (not run, or not run to the end): {}\n",
                sorted.len(),
                if sorted.len() == 1 { "" } else { "s" },
                sorted.join(", ")
            ));
        }
    }
}

impl Observer for Live {
    fn scenario_finished(&self, result: &ScenarioResult) {
        self.finished(result);
    }

    fn exchange(&self, scenario: &str, step: &str, exchange: &Exchange) {
        Live::exchange(self, scenario, step, exchange);
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
    use super::{Display, Live, paint};

    #[test]
    fn an_interruption_clears_the_bar_and_later_lines_are_plain() {
        let display = Display {
            progress: true,
            color: false,
        };
        let live = Live::new(3, display, Vec::new(), false);
        assert!(live.live_bar().is_some());
        live.interrupt();
        assert!(live.bar.as_ref().unwrap().is_finished());
        assert!(live.live_bar().is_none());
    }

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
