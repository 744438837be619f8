//! Why a daemon pod is missing or not Ready, from the pod and the events.
//! Pure.

use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::analysis::pod;

/// Why a pod is not Ready: `detail` for its own row (restart counts,
/// kubelet messages), `group` for grouping pods with the same cause, and
/// the container whose logs tell more when it crashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotReady {
    pub detail: String,
    pub group: String,
    /// A container problem (crash loop, image pull, config error) or a
    /// Failed pod: nothing a wait fixes.
    pub broken: bool,
    /// The container that crashed, for `kubectl logs --previous`.
    pub crashed: Option<String>,
}

/// Why a pod is not Ready, in the terms the user can act on.
pub fn not_ready(p: &Pod) -> NotReady {
    let plain = |s: String| NotReady {
        detail: s.clone(),
        group: s,
        broken: false,
        crashed: None,
    };
    if pod::is_terminating(p) {
        return plain("pod is terminating".to_string());
    }
    if pod::phase(p) == "Failed" {
        let r = p
            .status
            .as_ref()
            .and_then(|s| s.reason.clone())
            .unwrap_or_else(|| "Failed".into());
        let s = format!(
            "pod Failed ({r}); the controller deletes and recreates it with back-off (1s doubling to 15m)"
        );
        return NotReady {
            broken: true,
            ..plain(s)
        };
    }
    if let Some(m) = pod::unschedulable_message(p) {
        return plain(format!("Pending, not scheduled: {m}"));
    }
    if let Some((c, reason, msg)) = pod::container_problem(p) {
        let with_msg = |s: String| {
            if msg.is_empty() {
                s
            } else {
                format!("{s}: {msg}")
            }
        };
        return match reason.as_str() {
            "CrashLoopBackOff" => NotReady {
                detail: with_msg(format!(
                    "container {c} CrashLoopBackOff after {} restarts",
                    pod::restarts(p)
                )),
                group: format!("container {c} CrashLoopBackOff"),
                broken: true,
                crashed: Some(c),
            },
            "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" => {
                let img = p
                    .spec
                    .as_ref()
                    .and_then(|s| s.containers.iter().find(|x| x.name == c))
                    .and_then(|x| x.image.clone())
                    .unwrap_or_default();
                NotReady {
                    detail: with_msg(format!(
                        "container {c} {reason}: image {img} cannot be pulled"
                    )),
                    group: format!("container {c}: image {img} cannot be pulled"),
                    broken: true,
                    crashed: None,
                }
            }
            _ => NotReady {
                detail: with_msg(format!("container {c} {reason}")),
                group: format!("container {c} {reason}"),
                broken: true,
                crashed: pod::restarts(p).gt(&0).then_some(c),
            },
        };
    }
    match pod::phase(p) {
        "Running" => {
            let msg = p
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
                .and_then(|c| c.message.clone())
                .unwrap_or_default();
            NotReady {
                detail: if msg.is_empty() {
                    "Running but readiness failing".to_string()
                } else {
                    format!("Running but readiness failing ({msg})")
                },
                group: "Running but readiness failing".to_string(),
                broken: false,
                crashed: None,
            }
        }
        "Pending" if pod::node_name(p).is_none() => {
            plain("Pending, waiting for the scheduler".to_string())
        }
        ph => plain(format!("{ph}, containers not ready yet")),
    }
}

/// When an event last happened.
pub fn event_time(e: &Event) -> Option<Timestamp> {
    e.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
        .or(e.last_timestamp.as_ref().map(|t| t.0))
        .or(e.event_time.as_ref().map(|t| t.0))
        .or(e.first_timestamp.as_ref().map(|t| t.0))
}

/// The latest event with `reason` on the object `kind/name`.
pub fn latest_event<'a>(
    events: &'a [Event],
    kind: &str,
    name: &str,
    reason: &str,
) -> Option<&'a Event> {
    events
        .iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some(kind)
                && e.involved_object.name.as_deref() == Some(name)
                && e.reason.as_deref() == Some(reason)
        })
        .max_by_key(|e| event_time(e))
}

/// How recent a FailedCreate must be to explain a missing pod. The
/// controller retries a failing creation with its work queue's back-off
/// (up to about 17 minutes between tries), and each try records the event
/// again.
pub const FAILED_CREATE_WINDOW: SignedDuration = SignedDuration::from_mins(20);

/// The API server's words from the latest recent FailedCreate on the
/// DaemonSet (`Error creating: …` without its prefix).
pub fn recent_failed_create(events: &[Event], ds: &str, now: Timestamp) -> Option<String> {
    let e = latest_event(events, "DaemonSet", ds, "FailedCreate")?;
    let t = event_time(e)?;
    if now.duration_since(t) > FAILED_CREATE_WINDOW {
        return None;
    }
    let m = e.message.clone().unwrap_or_default();
    Some(m.strip_prefix("Error creating: ").unwrap_or(&m).to_string())
}

/// The latest FailedDaemonPod message about `node` (a Failed pod deleted,
/// its replacement waiting on the back-off).
pub fn failed_daemon_pod(events: &[Event], ds: &str, node: &str) -> Option<String> {
    latest_event(events, "DaemonSet", ds, "FailedDaemonPod")
        .and_then(|e| e.message.clone())
        .filter(|m| m.contains(&format!("on node {node}")))
}
