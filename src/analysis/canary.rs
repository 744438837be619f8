//! The canary's state as the StatefulSet carries it (the `kubectl-sts.io/canary`
//! annotation), its steps, and the progress every view shows. Pure data and
//! parsing: `ops::canary` plans and decides with it, `status` reads it.

use k8s_openapi::api::apps::v1::StatefulSet;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The annotation on the StatefulSet's metadata holding the canary state.
pub const STATE_ANNOTATION: &str = "kubectl-sts.io/canary";
/// kubectl's change-cause annotation.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
/// Default `--steps`: one pod, then half, then all.
pub const DEFAULT_STEPS: &str = "1,50%,100%";

/// One `--steps` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepSpec {
    /// A number of pods.
    Count(u32),
    /// A percentage of the pods above the floor (rounded up).
    Percent(u32),
}

impl std::fmt::Display for StepSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepSpec::Count(n) => write!(f, "{n}"),
            StepSpec::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Parses `--steps` ("1,25%,100%"): counts or percentages, increasing,
/// ending at 100%.
pub fn parse_steps(s: &str) -> Result<Vec<StepSpec>, String> {
    let mut out = Vec::new();
    for raw in s.split(',') {
        let t = raw.trim();
        if t.is_empty() {
            return Err(format!("empty entry in --steps {s:?}"));
        }
        let spec = if let Some(p) = t.strip_suffix('%') {
            let v: u32 = p
                .parse()
                .map_err(|_| format!("invalid percentage {t:?} in --steps"))?;
            if v == 0 || v > 100 {
                return Err(format!(
                    "percentage {t:?} in --steps must be between 1% and 100%"
                ));
            }
            StepSpec::Percent(v)
        } else {
            let v: u32 = t.parse().map_err(|_| {
                format!("invalid step {t:?} in --steps (use a pod count or a percentage)")
            })?;
            if v == 0 {
                return Err("a step of 0 pods does nothing".to_string());
            }
            StepSpec::Count(v)
        };
        out.push(spec);
    }
    // Same-kind entries must increase (mixed kinds are checked once resolved).
    let mut last_c = 0;
    let mut last_p = 0;
    for st in &out {
        match *st {
            StepSpec::Count(n) => {
                if n <= last_c {
                    return Err(format!("--steps must increase: {n} after {last_c}"));
                }
                last_c = n;
            }
            StepSpec::Percent(p) => {
                if p <= last_p {
                    return Err(format!("--steps must increase: {p}% after {last_p}%"));
                }
                last_p = p;
            }
        }
    }
    if out.last() != Some(&StepSpec::Percent(100)) {
        return Err(format!("--steps {s:?} must end at 100%"));
    }
    Ok(out)
}

/// Resolves the steps against `e` pods above the floor: rounded up, capped at
/// `e`, equal counts merged. Errors when a resolved count decreases.
pub fn resolve_steps(specs: &[StepSpec], e: i32) -> Result<Vec<i32>, String> {
    let mut out: Vec<i32> = Vec::new();
    for s in specs {
        let n = match *s {
            StepSpec::Count(c) => i64::from(c),
            StepSpec::Percent(p) => (i64::from(e) * i64::from(p) + 99) / 100,
        };
        let n = n.min(i64::from(e)).max(1) as i32;
        if let Some(&last) = out.last() {
            if n < last {
                return Err(format!(
                    "--steps decrease once resolved against {e} pods ({s} is {n} pods, after {last})"
                ));
            }
            if n == last {
                continue;
            }
        }
        out.push(n);
    }
    Ok(out)
}

/// The partition for `n` updated pods: `max(f, R − n)`.
pub fn partition_for(n: i32, replicas: i32, floor: i32) -> i32 {
    floor.max(replicas - n)
}

/// The phase recorded in the canary state (`running`, `gateFailed`,
/// `aborting` in JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CanaryPhase {
    /// Steps are being taken (or the canary waits between steps).
    Running,
    /// The health gate failed and the canary stopped without rolling back
    /// (`--no-auto-abort`); [`CanaryState::gate`] says why.
    GateFailed,
    /// The template was restored; pods are being returned to `from`.
    Aborting,
}

impl CanaryPhase {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            CanaryPhase::Running => "running",
            CanaryPhase::GateFailed => "gateFailed",
            CanaryPhase::Aborting => "aborting",
        }
    }
}

/// What someone asked of a running canary from another terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RequestAction {
    /// Stop between steps (exit 5 in the running session).
    Pause,
    /// Jump to the last step.
    Promote,
    /// Roll back (the requesting process does it itself).
    Abort,
}

impl RequestAction {
    /// The verb as the messages use it.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestAction::Pause => "pause",
            RequestAction::Promote => "promote",
            RequestAction::Abort => "abort",
        }
    }
}

/// A request recorded in the canary state: pending in
/// [`CanaryState::request`], or handled in [`CanaryState::last`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// What was asked.
    pub action: RequestAction,
    /// Who asked: the Kubernetes user and the local user, host and pid.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// A random id, so that the asker can see its own request answered.
    pub id: String,
    /// The session that acted on it, once handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled_by: Option<String>,
}

/// The canary's state, stored as JSON in [`STATE_ANNOTATION`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryState {
    /// The revision the canary started from (ControllerRevision name).
    pub from: String,
    /// The canary's revision (empty until the controller has observed the change).
    pub to: String,
    /// The user's partition before the canary.
    pub floor: i32,
    /// `spec.replicas` the steps were resolved against.
    pub replicas: i32,
    /// `--steps` as given.
    pub steps: Vec<StepSpec>,
    /// Steps resolved to pod counts above the floor.
    pub counts: Vec<i32>,
    /// Number of steps completed (0 = none).
    pub completed: usize,
    /// Where the canary stands.
    pub phase: CanaryPhase,
    /// The `from` ControllerRevision's data (a template-replacing patch).
    pub from_data: Value,
    /// When the canary started (RFC 3339).
    pub started: String,
    /// A random id naming this canary: a session only writes a state that
    /// carries the id it started or resumed with.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Who started it (the Kubernetes user and the local user, host and pid).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
    /// A hash of the pod template the canary set: a different template
    /// means it was changed outside the canary.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub template: String,
    /// A request from another terminal that no session has acted on yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// The last request a session acted on (or the abort, with who asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Request>,
    /// Why the health gate failed (phase `gateFailed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
    /// The partition the canary wrote last, in the same request as this
    /// state (start and step patches): a different live partition was set
    /// by someone else. Absent in states written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_partition: Option<i32>,
}

impl CanaryState {
    /// The state on `sts`, if any (an unreadable annotation is an error).
    pub fn read(sts: &StatefulSet) -> Option<Result<CanaryState, String>> {
        let raw = sts.metadata.annotations.as_ref()?.get(STATE_ANNOTATION)?;
        Some(
            serde_json::from_str(raw)
                .map_err(|e| format!("the {STATE_ANNOTATION} annotation is not readable: {e}")),
        )
    }

    /// Pods above the floor.
    pub fn extent(&self) -> i32 {
        self.replicas - self.floor
    }

    /// Partition for step index `i` (0-based).
    pub fn partition_of(&self, i: usize) -> i32 {
        let n = self.counts.get(i).copied().unwrap_or(self.extent());
        partition_for(n, self.replicas, self.floor)
    }

    /// Re-plans against a new replica count, keeping completed steps.
    pub fn replan(&mut self, replicas: i32) -> Result<(), String> {
        self.replicas = replicas;
        self.counts = resolve_steps(&self.steps, self.extent())?;
        self.completed = self.completed.min(self.counts.len());
        Ok(())
    }
}

/// What the status view shows about a canary in progress.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryProgress {
    pub from: String,
    pub to: String,
    pub floor: i32,
    pub replicas: i32,
    pub steps: Vec<String>,
    pub counts: Vec<i32>,
    pub completed: usize,
    pub phase: CanaryPhase,
    pub partition: Option<i32>,
    pub started: String,
    /// Who started the canary (empty for states written before it was recorded).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub started_by: String,
    /// A request from another terminal not acted on yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// The last request acted on, or the abort and who asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<Request>,
    /// Why the health gate failed (phase `gateFailed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
    /// The partition the canary wrote last (absent in older states).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_partition: Option<i32>,
}

/// The canary in progress on `sts`, if any.
pub fn progress(sts: &StatefulSet) -> Option<CanaryProgress> {
    let st = CanaryState::read(sts)?.ok()?;
    Some(CanaryProgress {
        from: st.from.clone(),
        to: st.to.clone(),
        floor: st.floor,
        replicas: st.replicas,
        steps: st.steps.iter().map(|s| s.to_string()).collect(),
        counts: st.counts.clone(),
        completed: st.completed,
        phase: st.phase,
        partition: partition(sts),
        started: st.started.clone(),
        started_by: st.by.clone(),
        request: st.request.clone(),
        last: st.last.clone(),
        gate: st.gate.clone(),
        set_partition: st.set_partition,
    })
}

/// `spec.updateStrategy.rollingUpdate.partition`, when set.
pub fn partition(sts: &StatefulSet) -> Option<i32> {
    sts.spec
        .as_ref()?
        .update_strategy
        .as_ref()?
        .rolling_update
        .as_ref()?
        .partition
}
