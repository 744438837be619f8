//! The health gate and step completion: each pod's view, why a pod is not
//! healthy (in the status view's words), and the verdict on a step at one
//! moment (B10 "step complete" and "health gate"). Pure.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::{
    CanaryState, min_ready, observed, pod_revision, pods_by_index, replicas, start, update_revision,
};
use crate::analysis::pod;

/// One pod's view during a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodView {
    pub name: String,
    pub index: i32,
    pub uid: String,
    pub revision: String,
    pub ready: bool,
    pub restarts: i32,
}

/// Every in-range pod, by index.
pub fn pod_views(sts: &StatefulSet, pods: &[Pod]) -> Vec<PodView> {
    pods_by_index(sts, pods)
        .into_iter()
        .map(|(i, p)| PodView {
            name: p.metadata.name.clone().unwrap_or_default(),
            index: i,
            uid: p.metadata.uid.clone().unwrap_or_default(),
            revision: pod_revision(p).unwrap_or_default().to_string(),
            ready: pod::is_ready(p) && !pod::is_terminating(p),
            restarts: pod::restarts(p),
        })
        .collect()
}

/// Why a pod is not healthy, in the words of the status view.
pub fn pod_cause(p: &Pod) -> String {
    if pod::is_terminating(p) {
        return "terminating".into();
    }
    if let Some((c, reason, m)) = pod::container_problem(p) {
        return if m.is_empty() {
            format!("container {c} is in {reason}")
        } else {
            format!("container {c} is in {reason}: {m}")
        };
    }
    if let Some(m) = pod::unschedulable_message(p) {
        return format!("cannot be scheduled: {m}");
    }
    match pod::phase(p) {
        "Running" => {
            let waiting: Vec<String> = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .map(|cs| {
                    cs.iter()
                        .filter(|c| !c.ready)
                        .map(|c| c.name.clone())
                        .collect()
                })
                .unwrap_or_default();
            if waiting.is_empty() {
                "running but not Ready".into()
            } else {
                format!(
                    "running but not Ready (readiness of container {} failing)",
                    waiting.join(", ")
                )
            }
        }
        "Pending" if pod::node_name(p).is_none() => "Pending, not scheduled yet".into(),
        other => format!("{other}, not Ready"),
    }
}

/// A failing pod named by the gate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodCause {
    pub pod: String,
    pub revision: String,
    pub cause: String,
}

impl PodCause {
    fn line(&self) -> String {
        format!("pod {} ({}): {}", self.pod, self.revision, self.cause)
    }
}

/// Why the health gate failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Gate {
    /// Pods on the canary's revision are broken (CrashLoopBackOff, …).
    Broken { pods: Vec<PodCause> },
    /// A pod on the canary's revision restarted during the step.
    Restarted {
        pod: String,
        revision: String,
        restarts: i32,
    },
    /// Updated pods not Ready within `--timeout`.
    NotReadyInTime {
        want: usize,
        timeout: String,
        pods: Vec<PodCause>,
    },
    /// The controller cannot create the new revision's pods.
    FailedCreate { message: String },
}

impl Gate {
    /// The message after `health gate failed: `.
    pub fn message(&self) -> String {
        match self {
            Gate::Broken { pods } => lines(pods),
            Gate::Restarted {
                pod,
                revision,
                restarts,
            } => format!("pod {pod} on {revision} restarted ({restarts} restarts)"),
            Gate::NotReadyInTime {
                want,
                timeout,
                pods,
            } => format!(
                "{} of {want} updated pod(s) not Ready within {timeout}: {}",
                pods.len(),
                lines(pods)
            ),
            Gate::FailedCreate { message } => {
                format!("the controller cannot create the new revision's pods: {message}")
            }
        }
    }
}

fn lines(pods: &[PodCause]) -> String {
    pods.iter()
        .map(PodCause::line)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The verdict on a step at one moment.
#[derive(Clone, Debug, PartialEq)]
pub enum StepVerdict {
    /// Not there yet: `updated` of `want` pods on `to`, `ready` of them Ready.
    Waiting {
        updated: usize,
        ready: usize,
        want: usize,
    },
    /// Every index ≥ partition is on `to` and Ready/Available.
    Healthy,
    /// Pods on `to` are broken: abort.
    GateFailed(Vec<PodCause>),
    /// Something not the canary's fault: pause.
    Paused(String),
}

const BROKEN: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
];

/// Evaluates a step (B10 "step complete" and "health gate").
pub fn evaluate_step(
    sts: &StatefulSet,
    state: &CanaryState,
    partition: i32,
    pods: &[Pod],
    now: Timestamp,
) -> (StepVerdict, Vec<PodView>) {
    let name = sts.metadata.name.as_deref().unwrap_or_default();
    let r = replicas(sts);
    let views = pod_views(sts, pods);
    if r != state.replicas {
        return (
            StepVerdict::Paused(format!(
                "spec.replicas changed from {} to {r} during the canary",
                state.replicas
            )),
            views,
        );
    }
    let by_index = pods_by_index(sts, pods);
    let st = start(sts);
    let mr = min_ready(sts);
    // Health gate over every pod.
    let mut broken = Vec::new();
    for (i, p) in &by_index {
        if pod::is_terminating(p) {
            continue;
        }
        let rev = pod_revision(p).unwrap_or_default();
        let bad = pod::container_problem(p).filter(|(_, r, _)| BROKEN.contains(&r.as_str()));
        if let Some((c, reason, _)) = bad {
            if rev == state.to {
                broken.push(PodCause {
                    pod: format!("{name}-{}", i + st),
                    revision: rev.to_string(),
                    cause: format!("container {c} is in {reason}"),
                });
                continue;
            }
            return (
                StepVerdict::Paused(format!(
                    "pod {name}-{} ({rev}): container {c} is in {reason}; it is not on the canary's revision",
                    i + st
                )),
                views,
            );
        }
        if *i < partition && rev != state.to && !pod::is_ready(p) {
            return (
                StepVerdict::Paused(format!(
                    "pod {name}-{} on {rev} is not Ready ({}); it is not on the canary's revision",
                    i + st,
                    pod::display_status(p)
                )),
                views,
            );
        }
    }
    if !broken.is_empty() {
        return (StepVerdict::GateFailed(broken), views);
    }
    let want = (r - partition).max(0) as usize;
    if !observed(sts) || update_revision(sts) != Some(state.to.as_str()) {
        return (
            StepVerdict::Waiting {
                updated: 0,
                ready: 0,
                want,
            },
            views,
        );
    }
    let mut updated = 0;
    let mut ready = 0;
    for i in partition..r {
        if let Some(p) = by_index.get(&i)
            && !pod::is_terminating(p)
            && pod_revision(p) == Some(state.to.as_str())
        {
            updated += 1;
            if pod::is_ready(p) && pod::is_available(p, mr, now) {
                ready += 1;
            }
        }
    }
    if ready == want {
        (StepVerdict::Healthy, views)
    } else {
        (
            StepVerdict::Waiting {
                updated,
                ready,
                want,
            },
            views,
        )
    }
}

/// The pods a timeout names: every pod at or above the partition on `to`
/// that is not Ready, with its cause.
pub fn not_ready_on_to(
    sts: &StatefulSet,
    state: &CanaryState,
    partition: i32,
    pods: &[Pod],
) -> Vec<PodCause> {
    let by_index = pods_by_index(sts, pods);
    let r = replicas(sts);
    (partition..r)
        .rev()
        .filter_map(|i| by_index.get(&i))
        .filter(|p| pod_revision(p) == Some(state.to.as_str()) && !pod::is_ready(p))
        .map(|p| PodCause {
            pod: p.metadata.name.clone().unwrap_or_default(),
            revision: state.to.clone(),
            cause: pod_cause(p),
        })
        .collect()
}
