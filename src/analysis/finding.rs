//! Findings: what is wrong (or worth knowing), how bad, and the fix.

use serde::Serialize;

use super::health::Health;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// Lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable dotted id, e.g. `service.missing`, `pvc.out_of_range`.
    pub id: String,
    pub severity: Severity,
    /// The object it is about, `kind/name` (e.g. `pod/web-2`).
    pub object: String,
    /// What is wrong, one sentence.
    pub message: String,
    /// What to do about it (a command or a change), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// What it does to its object's health (see [`crate::analysis::health`]).
    pub health: Health,
    /// When one finding stands for several objects with the same cause:
    /// all of them, `object` first (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<String>,
}

impl Finding {
    pub fn new(
        id: &str,
        severity: Severity,
        object: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            id: id.to_string(),
            severity,
            object: object.into(),
            message: message.into(),
            fix: None,
            objects: Vec::new(),
            health: match severity {
                Severity::Error => Health::Degraded,
                Severity::Warning | Severity::Info => Health::Healthy,
            },
        }
    }

    /// Sets what the finding does to its object's health (the default is
    /// Degraded for errors, Healthy otherwise).
    pub fn health(mut self, health: Health) -> Finding {
        self.health = health;
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(fix.into());
        self
    }
}

impl Finding {
    /// Every object the finding is about (`object` alone, or the group).
    pub fn all_objects(&self) -> Vec<&str> {
        if self.objects.is_empty() {
            vec![self.object.as_str()]
        } else {
            self.objects.iter().map(String::as_str).collect()
        }
    }
}

/// Sorts most severe first, then by id and object (stable output).
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.object.cmp(&b.object))
            .then_with(|| a.id.cmp(&b.id))
    });
}
