//! The canary's step machine: (state, snapshot, now) → what to do next.
//! Every decision the running command takes lives here — where to resume,
//! whether to ask, take a step, pause or stop; when a step is complete; when
//! the health gate fails (on a pod's state, a restart, the controller's
//! FailedCreate or the deadline); remote requests; ownership — so that the
//! command only reads, writes, prompts and prints. No I/O; `now` is a
//! parameter.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;

pub use super::abort::{AbortVerdict, check_abort, evaluate_abort};
pub use super::gate::{
    Gate, PodCause, PodView, StepVerdict, evaluate_step, not_ready_on_to, pod_cause, pod_views,
};
use super::ownership::{self, Lost};
use super::{CanaryState, Request, failed_create, replicas, update_revision};

/// What the watch shows at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot<'a> {
    pub sts: Option<&'a StatefulSet>,
    pub pods: &'a [Pod],
    pub failed_creates: &'a [Event],
}

// ---------------------------------------------------------------------------
// Before the first step: learning the canary's revision.

/// What to do while waiting for the controller to observe the start patch.
#[derive(Clone, Debug, PartialEq)]
pub enum Observe {
    /// Not observed yet.
    Wait,
    /// The controller's update revision for the canary's template.
    Learned(String),
    /// The update revision is still `from`: the change alters nothing.
    Unchanged(String),
    /// The canary is no longer this session's.
    Lost(Lost),
}

/// Waits for the controller to observe the canary's template.
pub fn observe_start(mine: &CanaryState, uid: &str, sts: Option<&StatefulSet>) -> Observe {
    if let Err(l) = ownership::check(mine, uid, sts) {
        return Observe::Lost(l);
    }
    let Some(s) = sts else {
        return Observe::Lost(Lost::Deleted);
    };
    let og = s
        .status
        .as_ref()
        .and_then(|st| st.observed_generation)
        .unwrap_or(0);
    match update_revision(s) {
        Some(u) if og >= s.metadata.generation.unwrap_or(0) => {
            if u == mine.from {
                Observe::Unchanged(u.to_string())
            } else {
                Observe::Learned(u.to_string())
            }
        }
        _ => Observe::Wait,
    }
}

// ---------------------------------------------------------------------------
// Between steps.

/// How the session was asked to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    /// `--auto`: continue between steps without asking.
    pub auto: bool,
    /// `--yes` (or `--auto`): no confirmation needed.
    pub assume_yes: bool,
    /// A terminal to ask on (stdin and stderr).
    pub interactive: bool,
}

/// The step to resume at for the current partition: the first whose
/// partition is at or below it (0 while the change is held).
pub fn resume_step(state: &CanaryState, current: i32) -> usize {
    if current >= state.replicas {
        return 0;
    }
    (0..state.counts.len())
        .find(|&k| state.partition_of(k) <= current)
        .unwrap_or(0)
}

/// The last step's index.
pub fn last_step(state: &CanaryState) -> usize {
    state.counts.len().saturating_sub(1)
}

/// What to do about step `i` (0-based) at partition `current`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// The partition is already step `i`'s: wait for it.
    Wait,
    /// Send step `i`'s partition.
    Take,
    /// Ask the person whether to take step `i`.
    Ask,
    /// No terminal and nothing allows the next step: pause (exit 5).
    Pause,
    /// No terminal, no `--yes`: the first step needs one (exit 4).
    NeedYes,
}

/// Decides about step `i`. `advanced`: this run already sent a step (without
/// a terminal, `--yes` takes one step per run). `promoting`: the person
/// asked for the last step at once.
pub fn next_move(
    state: &CanaryState,
    i: usize,
    current: i32,
    mode: Mode,
    advanced: bool,
    promoting: bool,
) -> Move {
    if state.partition_of(i) == current {
        return Move::Wait;
    }
    if mode.auto || promoting {
        return Move::Take;
    }
    let held = current >= state.replicas;
    if held && i == 0 {
        return if mode.interactive || mode.assume_yes {
            Move::Take
        } else {
            Move::NeedYes
        };
    }
    if mode.interactive {
        Move::Ask
    } else if mode.assume_yes && !advanced {
        Move::Take
    } else {
        Move::Pause
    }
}

/// Whether `spec.replicas` still matches the canary's plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// The replicas the steps were resolved against.
    Unchanged,
    /// Changed, and the controller is still creating or removing pods: pause.
    InProgress { replicas: i32 },
    /// Changed and settled: re-plan the steps for `replicas`.
    Replan { replicas: i32 },
}

/// Compares `sts`'s replicas with the plan's.
pub fn scale(mine: &CanaryState, sts: &StatefulSet) -> Scale {
    let r = replicas(sts);
    if r == mine.replicas {
        return Scale::Unchanged;
    }
    let existing = sts.status.as_ref().map(|s| s.replicas).unwrap_or(0);
    if existing != r {
        Scale::InProgress { replicas: r }
    } else {
        Scale::Replan { replicas: r }
    }
}

/// What the person at the prompt between steps chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Continue,
    Abort,
    Pause,
}

// ---------------------------------------------------------------------------
// During a step.

/// What happened to a pod that the log reports once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodEvent {
    /// The pod carries the canary's revision.
    Updated {
        pod: String,
        uid: String,
        revision: String,
    },
    /// The pod on the canary's revision is Ready.
    Ready {
        pod: String,
        uid: String,
        revision: String,
    },
}

/// What the session has reported and seen, across steps: every pod is
/// reported once per name and revision (a pod the controller recreates on
/// the same revision is not news), and restarts count per pod (uid) from
/// the first sight.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodLog {
    updated: BTreeSet<String>,
    ready: BTreeSet<String>,
    baseline: BTreeMap<String, i32>,
}

/// Where a step stands while it is not complete.
#[derive(Clone, Debug, PartialEq)]
pub enum Live {
    /// Pods are being updated or becoming Ready.
    Waiting {
        updated: usize,
        ready: usize,
        want: usize,
    },
    /// Every pod is Ready; `elapsed` of `soak` done.
    Soaking { elapsed: Duration, soak: Duration },
}

/// The next action while a step is waited on.
#[derive(Clone, Debug, PartialEq)]
pub enum StepAction {
    /// Keep waiting; wake by `wake` at the latest (for the soak or the deadline).
    Wait { live: Live, wake: Timestamp },
    /// The step is complete.
    Complete,
    /// The health gate failed: abort (or stop with `--no-auto-abort`).
    Gate(Gate),
    /// Not the canary's fault: pause (exit 5).
    Pause(String),
    /// `--timeout` passed with fewer pods updated than wanted and none of
    /// them failing.
    TimedOut {
        updated: usize,
        ready: usize,
        want: usize,
    },
    /// Someone asked this canary to pause or promote.
    Request(Request),
    /// The canary is no longer this session's: stop, write nothing.
    Lost(Lost),
}

/// One evaluation: pod events to report (once each), and the action.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub events: Vec<PodEvent>,
    pub action: StepAction,
}

/// A step being waited on.
#[derive(Clone, Debug, PartialEq)]
pub struct StepWatch {
    /// The partition of the step.
    pub partition: i32,
    /// The generation the step patch produced: the step is not complete
    /// before the controller has observed it.
    pub min_generation: i64,
    /// When the wait began (FailedCreate events count from a second before).
    pub since: Timestamp,
    /// How long every updated pod must stay Ready.
    pub soak: Duration,
    /// How long the updated pods may take to become Ready.
    pub timeout: Duration,
    soak_since: Option<Timestamp>,
}

/// `t + d`, saturating.
pub fn later(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

fn since(now: Timestamp, then: Timestamp) -> Duration {
    now.duration_since(then).unsigned_abs()
}

impl StepWatch {
    /// Starts waiting for the step at `partition` at `now`.
    pub fn new(
        partition: i32,
        min_generation: i64,
        now: Timestamp,
        soak: Duration,
        timeout: Duration,
    ) -> StepWatch {
        StepWatch {
            partition,
            min_generation,
            since: now,
            soak,
            timeout,
            soak_since: None,
        }
    }

    /// The deadline for the updated pods to be Ready.
    pub fn deadline(&self) -> Timestamp {
        later(self.since, self.timeout)
    }

    /// Evaluates `snap` at `now`. `uid` is the StatefulSet's; `ignored`
    /// the ids of requests pending when the session began.
    pub fn observe(
        &mut self,
        log: &mut PodLog,
        mine: &CanaryState,
        uid: &str,
        ignored: &[String],
        snap: Snapshot<'_>,
        now: Timestamp,
    ) -> Observation {
        let mut events = Vec::new();
        let action = self.decide(log, mine, uid, ignored, snap, now, &mut events);
        Observation { events, action }
    }

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        log: &mut PodLog,
        mine: &CanaryState,
        uid: &str,
        ignored: &[String],
        snap: Snapshot<'_>,
        now: Timestamp,
        events: &mut Vec<PodEvent>,
    ) -> StepAction {
        if let Err(l) = ownership::check(mine, uid, snap.sts) {
            return StepAction::Lost(l);
        }
        let Some(sts) = snap.sts else {
            return StepAction::Lost(Lost::Deleted);
        };
        if let Some(r) = ownership::pending_request(sts, ignored) {
            return StepAction::Request(r);
        }
        let (mut verdict, views) = evaluate_step(sts, mine, self.partition, snap.pods, now);
        let og = sts
            .status
            .as_ref()
            .and_then(|s| s.observed_generation)
            .unwrap_or(0);
        let want = (replicas(sts) - self.partition).max(0) as usize;
        // The watch may not have seen the step patch observed yet.
        if og < self.min_generation && verdict == StepVerdict::Healthy {
            verdict = StepVerdict::Waiting {
                updated: 0,
                ready: 0,
                want,
            };
        }
        let mut restarted = None;
        for v in views
            .iter()
            .filter(|v| v.revision == mine.to && v.index >= self.partition)
        {
            let key = format!("{}@{}", v.name, v.revision);
            if log.updated.insert(key.clone()) {
                events.push(PodEvent::Updated {
                    pod: v.name.clone(),
                    uid: v.uid.clone(),
                    revision: v.revision.clone(),
                });
            }
            if v.ready && log.ready.insert(key) {
                events.push(PodEvent::Ready {
                    pod: v.name.clone(),
                    uid: v.uid.clone(),
                    revision: v.revision.clone(),
                });
            }
            let b = *log.baseline.entry(v.uid.clone()).or_insert(v.restarts);
            if v.restarts > b && restarted.is_none() {
                restarted = Some(Gate::Restarted {
                    pod: v.name.clone(),
                    revision: v.revision.clone(),
                    restarts: v.restarts,
                });
            }
        }
        // The container's own reason (CrashLoopBackOff, …) is the more telling one.
        if let Some(g) = restarted
            && !matches!(verdict, StepVerdict::GateFailed(_))
        {
            return StepAction::Gate(g);
        }
        match verdict {
            StepVerdict::GateFailed(pods) => StepAction::Gate(Gate::Broken { pods }),
            StepVerdict::Paused(m) => StepAction::Pause(m),
            StepVerdict::Healthy => {
                let s = *self.soak_since.get_or_insert(now);
                let elapsed = since(now, s);
                if elapsed >= self.soak {
                    StepAction::Complete
                } else {
                    StepAction::Wait {
                        live: Live::Soaking {
                            elapsed,
                            soak: self.soak,
                        },
                        wake: later(s, self.soak),
                    }
                }
            }
            StepVerdict::Waiting {
                updated,
                ready,
                want,
            } => {
                self.soak_since = None;
                let name = sts.metadata.name.as_deref().unwrap_or_default();
                let events_since = self.since.as_second() - 1;
                if updated < want
                    && let Some(m) = failed_create(snap.failed_creates, name, events_since)
                {
                    return StepAction::Gate(Gate::FailedCreate { message: m });
                }
                if now >= self.deadline() {
                    if updated > ready {
                        return StepAction::Gate(Gate::NotReadyInTime {
                            want,
                            timeout: secs(self.timeout),
                            pods: not_ready_on_to(sts, mine, self.partition, snap.pods),
                        });
                    }
                    return StepAction::TimedOut {
                        updated,
                        ready,
                        want,
                    };
                }
                StepAction::Wait {
                    live: Live::Waiting {
                        updated,
                        ready,
                        want,
                    },
                    wake: self.deadline(),
                }
            }
        }
    }
}

/// A duration as the messages show it (`300s`, `1.5s`).
pub fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
