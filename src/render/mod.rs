//! The only place that writes what the user sees. Stdout carries the
//! result; errors, hints, notes and progress go to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod canary;
pub mod daemonset;
pub mod fleet;
pub mod prune;
pub mod statefulset;
pub mod style;

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::cli::ColorChoice;
pub use style::Style;

/// Writes results and messages, with or without colour.
pub struct Printer {
    pub style: Style,
}

impl Printer {
    /// Colour per `--color`, `NO_COLOR` and whether stdout is a terminal.
    pub fn new(choice: ColorChoice) -> Printer {
        let on = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Printer {
            style: Style { color: on },
        }
    }

    /// Writes text to stdout (a trailing newline is added when missing).
    pub fn out(&self, text: &str) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = o.write_all(b"\n");
        }
        let _ = o.flush();
    }

    /// Writes a JSON document to stdout.
    pub fn json<T: Serialize>(&self, v: &T) {
        match serde_json::to_string_pretty(v) {
            Ok(s) => self.out(&s),
            Err(e) => self.error(&format!("cannot encode JSON: {e}"), None),
        }
    }

    /// Writes one compact JSON line to stdout and flushes (event streams).
    pub fn json_line<T: Serialize>(&self, v: &T) {
        if let Ok(s) = serde_json::to_string(v) {
            self.out(&s);
        }
    }

    /// Writes a YAML document to stdout.
    pub fn yaml<T: Serialize>(&self, v: &T) {
        match serde_saphyr::to_string(v) {
            Ok(s) => self.out(&s),
            Err(e) => self.error(&format!("cannot encode YAML: {e}"), None),
        }
    }

    /// `error: …` and optionally `hint: …` on stderr.
    pub fn error(&self, message: &str, hint: Option<&str>) {
        let err_style = Style {
            color: self.style.color && std::io::stderr().is_terminal(),
        };
        let mut e = std::io::stderr().lock();
        let _ = writeln!(e, "{} {message}", err_style.red_bold("error:"));
        if let Some(h) = hint {
            let _ = writeln!(e, "{} {h}", err_style.cyan("hint:"));
        }
    }

    /// A note on stderr (`note: …`).
    pub fn note(&self, message: &str) {
        let _ = writeln!(std::io::stderr().lock(), "note: {message}");
    }

    /// Clears the terminal (for `--watch` re-renders on a TTY).
    pub fn clear(&self) {
        if std::io::stdout().is_terminal() {
            self.out_raw("\x1b[2J\x1b[H");
        }
    }

    fn out_raw(&self, s: &str) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(s.as_bytes());
        let _ = o.flush();
    }
}
