//! Canary output: a text line per event, or one JSON object per line
//! (`-o json`), flushed as it happens.

use serde_json::{Value, json};

use super::Printer;

/// Writes canary events in the chosen format.
pub struct Reporter<'a> {
    pub printer: &'a Printer,
    pub json: bool,
}

impl Reporter<'_> {
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
        } else {
            self.printer.out(text);
        }
    }

    /// Plain text that only the text format shows (plans, summaries).
    pub fn text(&self, text: &str) {
        if !self.json {
            self.printer.out(text);
        }
    }
}

/// A spinner on stderr while waiting (only on a terminal); cleared on drop.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// A spinner when `on`, else nothing.
    pub fn new(on: bool) -> Progress {
        let bar = on.then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        Progress { bar }
    }

    /// Updates the message.
    pub fn set(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_string());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
