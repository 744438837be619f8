//! The fleet table.

use super::Style;
use super::statefulset::{plain_table, table_text};
use crate::analysis::fleet::Fleet;
use crate::analysis::health::Health;

/// The REASON column is cut to this many characters, so that a line fits
/// 120 columns (`-o wide` and JSON
/// carry it whole).
const REASON_WIDTH: usize = 60;

/// A health verdict, coloured by how bad it is.
pub fn health_cell(h: Health, st: &Style) -> String {
    match h {
        Health::Healthy | Health::ScaledToZero => st.green(h.as_str()),
        Health::Progressing | Health::Paused => st.yellow(h.as_str()),
        Health::Degraded | Health::Stalled => st.red(h.as_str()),
    }
}

/// `text` cut to `max` characters, with `…` when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// One line per set.
pub fn fleet_table(f: &Fleet, all_ns: bool, wide: bool, st: &Style) -> String {
    if f.items.is_empty() {
        return "No StatefulSets or DaemonSets found.\n".to_string();
    }
    let mut headers: Vec<String> = Vec::new();
    if all_ns {
        headers.push("NAMESPACE".into());
    }
    headers.extend(
        [
            "KIND/NAME",
            "DESIRED",
            "READY",
            "UPDATED",
            "AVAILABLE",
            "HEALTH",
            "REASON",
        ]
        .map(String::from),
    );
    let mut t = plain_table(headers);
    for r in &f.items {
        let mut cells = Vec::new();
        if all_ns {
            cells.push(r.namespace.clone());
        }
        let kind = r.kind.short();
        let health = health_cell(r.verdict, st);
        cells.extend([
            format!("{kind}/{}", r.name),
            r.desired.to_string(),
            r.ready.to_string(),
            r.updated.to_string(),
            r.available.to_string(),
            health,
            if wide {
                r.reason.clone()
            } else {
                shorten(&r.reason, REASON_WIDTH)
            },
        ]);
        t.add_row(cells);
    }
    let mut s = table_text(&mut t);
    s.push('\n');
    s
}
