//! Canary output: a text line per event, or one JSON object per line
//! (`-o json`), flushed as it happens; on a terminal, one live status line
//! (indicatif, on stderr) that is cleared before any other line is written;
//! the change summary and the plan.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::Printer;
use crate::ops::canary::machine::Live;
use crate::ops::canary::summary::{Change, Scope};

/// Writes canary events in the chosen format.
pub struct Reporter<'a> {
    pub printer: &'a Printer,
    pub json: bool,
    /// The live line, when stdout and stderr are terminals (text output).
    live: Option<Mutex<Option<indicatif::ProgressBar>>>,
}

impl<'a> Reporter<'a> {
    /// A reporter; the live line only in text mode with stdout and stderr
    /// on a terminal (plain lines otherwise).
    pub fn new(printer: &'a Printer, json: bool) -> Reporter<'a> {
        let live = (!json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal())
            .then(|| Mutex::new(None));
        Reporter {
            printer,
            json,
            live,
        }
    }

    /// Runs `f` with the live line out of the way (it is drawn again on
    /// its next tick).
    fn quiet(&self, f: impl FnOnce()) {
        let bar = self
            .live
            .as_ref()
            .and_then(|m| m.lock().ok().and_then(|b| b.clone()));
        match bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// One event: `kind` (step-started, pod-updated, pod-ready, gate-failed,
    /// paused, aborted, done, …), structured `fields`, and the text line.
    pub fn event(&self, kind: &str, fields: Value, text: &str) {
        if self.json {
            let mut obj =
                json!({"event": kind, "time": k8s_openapi::jiff::Timestamp::now().to_string()});
            if let (Some(o), Value::Object(f)) = (obj.as_object_mut(), fields) {
                o.extend(f);
            }
            self.printer.json_line(&obj);
        } else if !text.is_empty() {
            self.quiet(|| self.printer.out(text));
        }
    }

    /// An event that is bad news (gate failed, aborting, stopped): red on a
    /// terminal.
    pub fn bad(&self, kind: &str, fields: Value, text: &str) {
        let t = self.printer.style.red(text);
        self.event(kind, fields, &t);
    }

    /// Plain text that only the text format shows (plans, summaries).
    pub fn text(&self, text: &str) {
        if !self.json {
            self.quiet(|| self.printer.out(text));
        }
    }

    /// A note on stderr (`note: …`), in every format.
    pub fn note(&self, text: &str) {
        self.quiet(|| self.printer.note(text));
    }

    /// A person declined at a prompt before anything was written
    /// (conventions: no `error:` prefix).
    pub fn declined(&self) {
        self.clear_live();
        let _ = writeln!(
            std::io::stderr().lock(),
            "not confirmed; nothing was changed"
        );
    }

    /// Shows `msg` on the live line (nothing without one).
    pub fn live(&self, msg: &str) {
        let Some(m) = &self.live else { return };
        let Ok(mut slot) = m.lock() else { return };
        let bar = slot.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        bar.set_message(msg.to_string());
    }

    /// Removes the live line (before a prompt, and at the end).
    pub fn clear_live(&self) {
        let Some(m) = &self.live else { return };
        if let Ok(mut slot) = m.lock()
            && let Some(b) = slot.take()
        {
            b.finish_and_clear();
        }
    }

    /// Whether a live line is shown (so the caller refreshes it each second).
    pub fn has_live(&self) -> bool {
        self.live.is_some()
    }
}

impl Drop for Reporter<'_> {
    fn drop(&mut self) {
        self.clear_live();
    }
}

/// The live line's text for a step.
pub fn live_text(step: usize, of: usize, live: &Live) -> String {
    match live {
        Live::Waiting {
            updated,
            ready,
            want,
        } => format!("step {step}/{of}: {updated}/{want} pod(s) updated, {ready} Ready"),
        Live::Soaking { elapsed, soak } => format!(
            "step {step}/{of}: soaking, {}s of {}s",
            elapsed.as_secs(),
            soak.as_secs_f64()
        ),
    }
}

/// The change summary, one line per change, under `title`.
pub fn changes_text(title: &str, changes: &[Change]) -> String {
    let mut s = format!("{title}\n");
    if changes.is_empty() {
        s.push_str("  (no change)\n");
    }
    for c in changes {
        let what = match &c.scope {
            Scope::Container(n) => format!("container {n}"),
            Scope::InitContainer(n) => format!("init container {n}"),
            Scope::Pod => "pod".to_string(),
        };
        let change = match (&c.from, &c.to) {
            (Some(a), Some(b)) => format!("{a} → {b}"),
            (None, Some(b)) => format!("added: {b}"),
            (Some(a), None) => format!("removed (was {a})"),
            (None, None) => "changed".to_string(),
        };
        if c.field == "container" {
            s.push_str(&format!("  {what}: {change}\n"));
        } else {
            s.push_str(&format!("  {what}: {} {change}\n", c.field));
        }
    }
    s.trim_end().to_string()
}

/// The changes as JSON (for `-o json`).
pub fn changes_json(changes: &[Change]) -> Value {
    serde_json::to_value(changes).unwrap_or(Value::Null)
}

/// A patch shown to a person (pretty JSON).
pub fn patch_text(patch: &Value) -> String {
    serde_json::to_string_pretty(patch).unwrap_or_default()
}
