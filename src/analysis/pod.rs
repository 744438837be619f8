//! Small pure facts about pods, shared by the StatefulSet and DaemonSet views.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

/// The pod's Ready condition is True.
pub fn is_ready(p: &Pod) -> bool {
    condition_true(p, "Ready")
}

/// Whether condition `type_` is True.
pub fn condition_true(p: &Pod, type_: &str) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

/// Running and Ready (what the StatefulSet controller calls healthy).
pub fn is_running_and_ready(p: &Pod) -> bool {
    phase(p) == "Running" && is_ready(p)
}

/// Ready for at least `min_ready_seconds` at `now` (podutil.IsPodAvailable).
pub fn is_available(p: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    if !is_ready(p) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    let since = p
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0);
    match since {
        Some(t) => now.as_second() - t.as_second() >= i64::from(min_ready_seconds),
        None => false,
    }
}

/// `status.phase`, or `Unknown`.
pub fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Unknown")
}

/// Being deleted.
pub fn is_terminating(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_some()
}

/// Sum of container restarts.
pub fn restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).sum())
        .unwrap_or(0)
}

/// The most telling waiting/terminated reason of a container
/// (CrashLoopBackOff, ImagePullBackOff, ErrImagePull, OOMKilled, …), with
/// the container name and message.
pub fn container_problem(p: &Pod) -> Option<(String, String, String)> {
    let statuses = p.status.as_ref()?.container_statuses.as_ref()?;
    for c in statuses {
        if let Some(w) = c.state.as_ref().and_then(|s| s.waiting.as_ref())
            && let Some(r) = &w.reason
            && r != "ContainerCreating"
            && r != "PodInitializing"
        {
            return Some((
                c.name.clone(),
                r.clone(),
                w.message.clone().unwrap_or_default(),
            ));
        }
        if let Some(t) = c.state.as_ref().and_then(|s| s.terminated.as_ref())
            && t.exit_code != 0
        {
            let r = t
                .reason
                .clone()
                .unwrap_or_else(|| format!("exit code {}", t.exit_code));
            return Some((c.name.clone(), r, t.message.clone().unwrap_or_default()));
        }
    }
    None
}

/// The status column kubectl shows: the container problem reason if any,
/// `Terminating`, else the phase.
pub fn display_status(p: &Pod) -> String {
    if is_terminating(p) {
        return "Terminating".to_string();
    }
    if let Some((_, reason, _)) = container_problem(p) {
        return reason;
    }
    if let Some(r) = p.status.as_ref().and_then(|s| s.reason.as_ref()) {
        return r.clone();
    }
    phase(p).to_string()
}

/// The scheduler's message when the pod is unschedulable.
pub fn unschedulable_message(p: &Pod) -> Option<String> {
    p.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .map(|c| {
            c.message
                .clone()
                .unwrap_or_else(|| c.reason.clone().unwrap_or_default())
        })
}

/// The node the pod is bound to.
pub fn node_name(p: &Pod) -> Option<&str> {
    p.spec.as_ref().and_then(|s| s.node_name.as_deref())
}

/// A label's value.
pub fn label<'a>(p: &'a Pod, key: &str) -> Option<&'a str> {
    p.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(key))
        .map(String::as_str)
}

/// Parses `<parent>-<ordinal>` the way the StatefulSet controller does
/// (`(.*)-([0-9]+)$`, int32).
pub fn parent_and_ordinal(name: &str) -> Option<(&str, i32)> {
    let (parent, ord) = name.rsplit_once('-')?;
    if ord.is_empty() || !ord.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((parent, ord.parse().ok()?))
}

/// Human age like kubectl: 45s, 12m, 5h, 3d.
pub fn age(created: Option<Timestamp>, now: Timestamp) -> String {
    let Some(c) = created else {
        return "<unknown>".to_string();
    };
    let s = (now.as_second() - c.as_second()).max(0);
    if s < 120 {
        format!("{s}s")
    } else if s < 3600 * 2 {
        format!("{}m", s / 60)
    } else if s < 86400 * 2 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinal_parsing_matches_controller_regex() {
        assert_eq!(parent_and_ordinal("web-0"), Some(("web", 0)));
        assert_eq!(parent_and_ordinal("my-web-12"), Some(("my-web", 12)));
        assert_eq!(parent_and_ordinal("web"), None);
        assert_eq!(parent_and_ordinal("web-"), None);
        assert_eq!(parent_and_ordinal("web-1a"), None);
        assert_eq!(parent_and_ordinal("web-99999999999"), None);
    }

    #[test]
    fn ages_like_kubectl() {
        let now = Timestamp::from_second(1_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let at = |s: i64| Timestamp::from_second(1_000_000 - s).ok();
        assert_eq!(age(at(5), now), "5s");
        assert_eq!(age(at(600), now), "10m");
        assert_eq!(age(at(3 * 3600), now), "3h");
        assert_eq!(age(at(3 * 86400), now), "3d");
    }
}
