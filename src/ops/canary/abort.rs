//! The abort's verdicts (B10 abort steps 2–4) and whether an abort may go
//! on. Pure.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;

use super::ownership::{self, Lost};
use super::{CanaryState, pod_revision, pods_by_index, replicas, update_revision};
use crate::analysis::pod;

/// What the abort loop should do now (B10 abort steps 2–4).
#[derive(Clone, Debug, PartialEq)]
pub enum AbortVerdict {
    /// The controller has not observed the revert yet.
    WaitObserved,
    /// Someone else changed the StatefulSet: stop and report.
    Foreign(String),
    /// Delete these pods (highest ordinal first); they are stuck on a bad revision.
    Delete(Vec<(String, String, String)>),
    /// Waiting for the controller to bring pods back on `from`.
    Waiting { on_from_ready: usize, want: usize },
    /// Every index ≥ floor is on `from` and Ready.
    Done,
}

/// Evaluates the abort. `min_generation` is the generation our abort patch produced.
pub fn evaluate_abort(
    sts: &StatefulSet,
    state: &CanaryState,
    min_generation: i64,
    pods: &[Pod],
) -> AbortVerdict {
    let og = sts
        .status
        .as_ref()
        .and_then(|s| s.observed_generation)
        .unwrap_or(0);
    let gen_ = sts.metadata.generation.unwrap_or(0);
    if og < min_generation || og < gen_ {
        return AbortVerdict::WaitObserved;
    }
    let upd = update_revision(sts).unwrap_or_default();
    if upd != state.from {
        return AbortVerdict::Foreign(format!(
            "the update revision is {upd}, not {} — someone else changed the StatefulSet",
            state.from
        ));
    }
    let by_index = pods_by_index(sts, pods);
    let r = replicas(sts);
    let mut del = Vec::new();
    let mut good = 0;
    for i in (state.floor..r).rev() {
        let Some(p) = by_index.get(&i) else { continue };
        let on_from = pod_revision(p) == Some(state.from.as_str());
        let ready = pod::is_ready(p) && !pod::is_terminating(p);
        if on_from && ready {
            good += 1;
        } else if !on_from && !ready && !pod::is_terminating(p) {
            del.push((
                p.metadata.name.clone().unwrap_or_default(),
                p.metadata.uid.clone().unwrap_or_default(),
                p.metadata.resource_version.clone().unwrap_or_default(),
            ));
        }
    }
    let want = (r - state.floor).max(0) as usize;
    if !del.is_empty() {
        AbortVerdict::Delete(del)
    } else if good == want {
        AbortVerdict::Done
    } else {
        AbortVerdict::Waiting {
            on_from_ready: good,
            want,
        }
    }
}

/// Whether an abort session may go on with `live`: the state must still be
/// this canary's (being aborted). `Err` says what changed.
pub fn check_abort(mine: &CanaryState, uid: &str, live: Option<&StatefulSet>) -> Result<(), Lost> {
    let mut aborting = mine.clone();
    aborting.phase = super::CanaryPhase::Aborting;
    ownership::check(&aborting, uid, live)
}
