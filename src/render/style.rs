//! Colours by state. Meaning never depends on colour alone.

use owo_colors::OwoColorize;

use crate::analysis::finding::Severity;

/// Whether to colour, and how.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, s: &str, f: impl Fn(&str) -> String) -> String {
        if self.color { f(s) } else { s.to_string() }
    }
    pub fn green(&self, s: &str) -> String {
        self.paint(s, |x| x.green().to_string())
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint(s, |x| x.yellow().to_string())
    }
    pub fn red(&self, s: &str) -> String {
        self.paint(s, |x| x.red().to_string())
    }
    pub fn red_bold(&self, s: &str) -> String {
        self.paint(s, |x| x.red().bold().to_string())
    }
    pub fn cyan(&self, s: &str) -> String {
        self.paint(s, |x| x.cyan().to_string())
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint(s, |x| x.dimmed().to_string())
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint(s, |x| x.bold().to_string())
    }
    /// Coloured by severity.
    pub fn severity(&self, sev: Severity) -> String {
        match sev {
            Severity::Error => self.red("ERROR"),
            Severity::Warning => self.yellow("WARNING"),
            Severity::Info => self.cyan("INFO"),
        }
    }
    /// Green when good, red otherwise.
    pub fn ok(&self, good: bool, s: &str) -> String {
        if good { self.green(s) } else { self.red(s) }
    }
}
