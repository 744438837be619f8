//! One model of health for every view: each finding says what it does to its
//! object's health ([`Health`]), and the object's verdict is derived from its
//! findings alone ([`verdict`]). The fleet line, the header of the detailed
//! view, `--fail-on` and the JSON all read the same [`Verdict`], so a summary
//! can never contradict the details it summarises.

use serde::Serialize;

use super::finding::{Finding, Severity};

/// The health of one StatefulSet or DaemonSet. Ordered from best to worst:
/// the verdict is the worst state any finding puts the object in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Health {
    /// Every pod runs the update revision and is Ready; nothing to do.
    #[default]
    Healthy,
    /// `replicas: 0` (a StatefulSet), or no node is eligible (a DaemonSet).
    ScaledToZero,
    /// The controller is moving things and will finish on its own (a
    /// rollout, a scale, a spec change not yet observed).
    Progressing,
    /// A change is held on purpose: a canary between steps, or a user's
    /// partition that keeps pods on the old revision.
    Paused,
    /// Some pods are not serving (not Ready, missing, misscheduled), and the
    /// controller may still recover them.
    Degraded,
    /// Nothing will move without a person: the forced-rollback trap, a
    /// crash-looping update, repeated FailedCreate (quota, admission),
    /// OnDelete pods waiting to be deleted, a failed canary gate.
    Stalled,
}

impl Health {
    /// The name shown in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::ScaledToZero => "ScaledToZero",
            Health::Progressing => "Progressing",
            Health::Paused => "Paused",
            Health::Degraded => "Degraded",
            Health::Stalled => "Stalled",
        }
    }
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An object's verdict: its health, the finding that decided it, and the
/// worst severity among its findings (what `--fail-on` reads).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub health: Health,
    /// The deciding finding's message (empty when healthy with no finding);
    /// `(+N more)` counts the other findings at warning or error level.
    pub reason: String,
    /// The deciding finding's id, e.g. `rollout.forced_rollback_trap`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// The most severe finding's severity (`None`: no findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst: Option<Severity>,
}

/// Derives the verdict from the findings (which must already include every
/// check's result). `scaled_to_zero` turns a healthy object into
/// [`Health::ScaledToZero`]. The deciding finding is the one with the worst
/// health, then the highest severity, then the first in the list's order.
pub fn verdict(findings: &[Finding], scaled_to_zero: bool) -> Verdict {
    let worst = findings.iter().map(|f| f.severity).max();
    let decider = findings
        .iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| {
            (a.health, a.severity)
                .cmp(&(b.health, b.severity))
                .then_with(|| ib.cmp(ia))
        })
        .map(|(_, f)| f);
    let health = decider.map(|f| f.health).unwrap_or_default();
    let health = if health == Health::Healthy && scaled_to_zero {
        Health::ScaledToZero
    } else {
        health
    };
    let Some(d) = decider.filter(|d| d.health > Health::Healthy || d.severity > Severity::Info)
    else {
        return Verdict {
            health,
            reason: String::new(),
            finding: None,
            worst,
        };
    };
    let others = findings
        .iter()
        .filter(|f| !std::ptr::eq(*f, d) && f.severity > Severity::Info)
        .count();
    let mut reason = format!("{}: {}", d.object, d.message);
    if others > 0 {
        reason.push_str(&format!(" (+{others} more)"));
    }
    Verdict {
        health,
        reason,
        finding: Some(d.id.clone()),
        worst,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, sev: Severity, h: Health) -> Finding {
        Finding::new(id, sev, "pod/x", id).health(h)
    }

    #[test]
    fn healthy_without_findings_and_scaled_to_zero() {
        assert_eq!(verdict(&[], false).health, Health::Healthy);
        assert_eq!(verdict(&[], false).reason, "");
        assert_eq!(verdict(&[], true).health, Health::ScaledToZero);
        assert_eq!(verdict(&[], true).worst, None);
    }

    #[test]
    fn the_worst_health_decides_then_severity() {
        let v = verdict(
            &[
                f("a", Severity::Error, Health::Degraded),
                f("b", Severity::Warning, Health::Stalled),
                f("c", Severity::Info, Health::Progressing),
            ],
            false,
        );
        assert_eq!(v.health, Health::Stalled);
        assert_eq!(v.finding.as_deref(), Some("b"));
        assert_eq!(v.reason, "pod/x: b (+1 more)");
        assert_eq!(v.worst, Some(Severity::Error));
        let v = verdict(
            &[
                f("a", Severity::Warning, Health::Degraded),
                f("b", Severity::Error, Health::Degraded),
            ],
            true,
        );
        assert_eq!(
            (v.health, v.finding.as_deref()),
            (Health::Degraded, Some("b"))
        );
    }

    #[test]
    fn a_warning_that_leaves_the_object_healthy_is_still_the_reason() {
        let v = verdict(
            &[f("pvc.out_of_range", Severity::Warning, Health::Healthy)],
            false,
        );
        assert_eq!(v.health, Health::Healthy);
        assert_eq!(v.finding.as_deref(), Some("pvc.out_of_range"));
        assert_eq!(v.worst, Some(Severity::Warning));
        let v = verdict(&[f("pvc.kept", Severity::Info, Health::Healthy)], false);
        assert_eq!((v.health, v.reason.as_str()), (Health::Healthy, ""));
    }
}
