//! The fleet table.

use super::Style;
use super::statefulset::{plain_table, table_text};
use crate::analysis::fleet::Fleet;

/// One line per set.
pub fn fleet_table(f: &Fleet, all_ns: bool, st: &Style) -> String {
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
        let kind = if r.kind == "StatefulSet" { "sts" } else { "ds" };
        let health = match r.verdict {
            "Healthy" => st.green(r.verdict),
            "Degraded" => st.red(r.verdict),
            other => st.yellow(other),
        };
        cells.extend([
            format!("{kind}/{}", r.name),
            r.desired.to_string(),
            r.ready.to_string(),
            r.updated.to_string(),
            r.available.to_string(),
            health,
            r.reason.clone(),
        ]);
        t.add_row(cells);
    }
    let mut s = table_text(&mut t);
    s.push('\n');
    s
}
