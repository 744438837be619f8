//! Whether the canary on the StatefulSet is still the one a session drives,
//! and what changed when it is not. Checked on every watch event and right
//! before every write: a session never writes over a state that someone
//! else aborted, promoted, replaced or removed, nor steps a template edited
//! outside the canary.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;

use super::{
    CanaryPhase, CanaryState, Request, RequestAction, observed, partition, update_revision,
};

/// A stable hash of the StatefulSet's pod template (FNV-1a over its JSON),
/// as hex. The same template always gives the same hash, in every build.
pub fn template_hash(sts: &StatefulSet) -> String {
    match sts.spec.as_ref() {
        Some(s) => hash_template(&s.template),
        None => String::new(),
    }
}

/// [`template_hash`] of a template.
pub fn hash_template(t: &PodTemplateSpec) -> String {
    let bytes = serde_json::to_vec(t).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The template a ControllerRevision's `data` holds (`spec.template`,
/// without the `$patch` directive).
pub fn revision_template(data: &Value) -> Option<PodTemplateSpec> {
    let mut t = data["spec"]["template"].clone();
    t.as_object_mut()?.remove("$patch");
    serde_json::from_value(t).ok()
}

/// Why a session no longer drives the canary on the StatefulSet.
#[derive(Clone, Debug, PartialEq)]
pub enum Lost {
    /// The StatefulSet is gone.
    Deleted,
    /// A StatefulSet of the same name with another uid.
    Recreated,
    /// The state annotation was removed; `how` is what the object suggests.
    StateRemoved(Removal),
    /// The state annotation cannot be read.
    Unreadable(String),
    /// Another canary's state (another id).
    Replaced { by: String, started: String },
    /// Someone else is rolling the canary back.
    Aborted {
        by: Option<String>,
        at: Option<String>,
    },
    /// The pod template differs from the one the canary set.
    TemplateEdited { update: Option<String> },
    /// The controller's update revision is not the canary's.
    RevisionMoved { update: String },
    /// The partition is not the one the canary wrote last.
    PartitionMoved { set: i32, now: Option<i32> },
}

/// What the StatefulSet looks like once the state is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// The template is back on `from`: rolled back by someone else.
    RolledBack,
    /// Every pod at or above the floor gets `to`: finished by someone else.
    Finished,
    /// Neither.
    Unknown,
}

impl Lost {
    /// What changed, for the message (`name` is the StatefulSet's).
    pub fn message(&self, name: &str, mine: &CanaryState) -> String {
        match self {
            Lost::Deleted => format!("statefulset {name} was deleted"),
            Lost::Recreated => format!(
                "statefulset {name} was deleted and created again: the canary on it is gone"
            ),
            Lost::StateRemoved(Removal::RolledBack) => format!(
                "the canary on statefulset {name} was aborted by someone else: its state is removed and the template is back on {}",
                mine.from
            ),
            Lost::StateRemoved(Removal::Finished) => format!(
                "the canary on statefulset {name} was finished by someone else: its state is removed and every pod gets {}",
                show_rev(&mine.to)
            ),
            Lost::StateRemoved(Removal::Unknown) => {
                format!("the canary state was removed from statefulset {name} by someone else")
            }
            Lost::Unreadable(e) => format!("the canary state on statefulset {name} changed: {e}"),
            Lost::Replaced { by, started } => format!(
                "another canary now runs on statefulset {name} (started {started}{})",
                if by.is_empty() {
                    String::new()
                } else {
                    format!(" by {by}")
                }
            ),
            Lost::Aborted { by, at } => format!(
                "the canary on statefulset {name} is being aborted by {}{}",
                by.as_deref().unwrap_or("someone else"),
                at.as_deref()
                    .map(|a| format!(" (at {a})"))
                    .unwrap_or_default()
            ),
            Lost::TemplateEdited { update } => format!(
                "the pod template of statefulset {name} was changed outside the canary{}",
                match update {
                    Some(u) if *u != mine.to => format!(
                        " (update revision {u}, not the canary's {})",
                        show_rev(&mine.to)
                    ),
                    _ => String::new(),
                }
            ),
            Lost::PartitionMoved { set, now } => format!(
                "the partition of statefulset {name} was changed outside the canary: it is {}, the canary set {set}",
                now.map(|p| p.to_string()).unwrap_or_else(|| "unset".into())
            ),
            Lost::RevisionMoved { update } => format!(
                "the update revision of statefulset {name} is {update}, not the canary's {}: the template was changed outside the canary",
                show_rev(&mine.to)
            ),
        }
    }

    /// Whether the template differs from the canary's (show the change).
    pub fn template_changed(&self) -> bool {
        matches!(
            self,
            Lost::TemplateEdited { .. } | Lost::RevisionMoved { .. }
        )
    }
}

fn show_rev(r: &str) -> &str {
    if r.is_empty() { "(not known yet)" } else { r }
}

/// Whether `a` and `b` are the same canary (same id; states written before
/// ids: same start time and `from`).
pub fn same_canary(a: &CanaryState, b: &CanaryState) -> bool {
    if !a.id.is_empty() || !b.id.is_empty() {
        return a.id == b.id;
    }
    a.started == b.started && a.from == b.from
}

/// Checks that `live` still carries the canary `mine` (of the StatefulSet
/// with `uid`), unchanged by anyone else. The session's own writes change
/// only the partition and the state's progress, which this ignores.
pub fn check(mine: &CanaryState, uid: &str, live: Option<&StatefulSet>) -> Result<(), Lost> {
    let Some(live) = live else {
        return Err(Lost::Deleted);
    };
    if !uid.is_empty() && live.metadata.uid.as_deref().is_some_and(|u| u != uid) {
        return Err(Lost::Recreated);
    }
    let theirs = match CanaryState::read(live) {
        None => return Err(Lost::StateRemoved(removal(mine, live))),
        Some(Err(e)) => return Err(Lost::Unreadable(e)),
        Some(Ok(s)) => s,
    };
    if !same_canary(mine, &theirs) {
        return Err(Lost::Replaced {
            by: theirs.by,
            started: theirs.started,
        });
    }
    if theirs.phase == CanaryPhase::Aborting && mine.phase != CanaryPhase::Aborting {
        let abort = theirs.last.filter(|r| r.action == RequestAction::Abort);
        return Err(Lost::Aborted {
            by: abort.as_ref().map(|r| r.by.clone()),
            at: abort.map(|r| r.at),
        });
    }
    if mine.phase == CanaryPhase::Aborting {
        // The template is being restored: only the identity matters.
        return Ok(());
    }
    if !mine.template.is_empty() && template_hash(live) != mine.template {
        return Err(Lost::TemplateEdited {
            update: observed(live)
                .then(|| update_revision(live).map(str::to_string))
                .flatten(),
        });
    }
    if !mine.to.is_empty()
        && observed(live)
        && let Some(u) = update_revision(live)
        && u != mine.to
    {
        return Err(Lost::RevisionMoved {
            update: u.to_string(),
        });
    }
    // The canary writes the partition and `set_partition` in one request:
    // any other partition was set by someone else (a hold, or pods moved
    // by hand), and acting on it would override them.
    if let Some(set) = theirs.set_partition
        && partition(live) != Some(set)
    {
        return Err(Lost::PartitionMoved {
            set,
            now: partition(live),
        });
    }
    Ok(())
}

fn removal(mine: &CanaryState, live: &StatefulSet) -> Removal {
    let from_hash = revision_template(&mine.from_data).map(|t| hash_template(&t));
    let update = update_revision(live);
    if from_hash.as_deref() == Some(template_hash(live).as_str())
        || (observed(live) && update == Some(mine.from.as_str()))
    {
        return Removal::RolledBack;
    }
    let on_to = (!mine.template.is_empty() && template_hash(live) == mine.template)
        || (!mine.to.is_empty() && update == Some(mine.to.as_str()));
    if on_to && partition(live).unwrap_or(0) <= mine.floor {
        return Removal::Finished;
    }
    Removal::Unknown
}

/// A request on `live`'s state that this session has not seen before
/// (`ignored` holds the ids of requests that were pending when the session
/// began: an explicit resume supersedes them).
pub fn pending_request(live: &StatefulSet, ignored: &[String]) -> Option<Request> {
    let st = CanaryState::read(live)?.ok()?;
    st.request.filter(|r| !ignored.contains(&r.id))
}
