//! Canary planning (partitioned rollouts), controller-semantics B10.
//!
//! Pure: plain k8s-openapi objects in, plans and verdicts out; `now` is a
//! parameter. Indices are `ordinal − start`; `R` = `spec.replicas`; `f` = the
//! user's partition before the canary (the floor).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use serde_json::{Value, json};

use crate::analysis::pod;
use crate::analysis::statefulset::checks::event_time;

pub use crate::analysis::canary::{
    CHANGE_CAUSE, CanaryPhase, CanaryProgress, CanaryState, DEFAULT_STEPS, Request, RequestAction,
    STATE_ANNOTATION, StepSpec, parse_steps, partition, partition_for, progress, resolve_steps,
};

pub mod abort;
pub mod gate;
pub mod machine;
pub mod ownership;
pub mod summary;

pub use machine::{AbortVerdict, PodView, StepVerdict, evaluate_abort, evaluate_step, pod_views};

/// The message of the controller's FailedCreate on StatefulSet `name` when
/// it repeats (3 times or more) and was last seen at or after `since` (epoch
/// seconds): admission, quota or validation rejects the pods of the new
/// revision, so waiting for them would only end in the timeout.
pub fn failed_create(events: &[Event], name: &str, since: i64) -> Option<String> {
    events
        .iter()
        .filter(|e| {
            e.reason.as_deref() == Some("FailedCreate")
                && e.involved_object.kind.as_deref() == Some("StatefulSet")
                && e.involved_object.name.as_deref() == Some(name)
        })
        .filter(|e| {
            let repeats = e
                .series
                .as_ref()
                .and_then(|s| s.count)
                .map_or(e.count.unwrap_or(1), |c| c + 1);
            repeats >= 3 && event_time(e) >= since
        })
        .max_by_key(|e| event_time(e))
        .map(|e| e.message.clone().unwrap_or_default())
}

/// Whether every `--image` set names a container that already runs that image.
pub fn images_unchanged(sts: &StatefulSet, images: &[(String, String)]) -> bool {
    let Some(spec) = sts.spec.as_ref().and_then(|s| s.template.spec.as_ref()) else {
        return false;
    };
    let all: Vec<_> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    images.iter().all(|(name, image)| {
        all.iter()
            .any(|c| &c.name == name && c.image.as_deref() == Some(image.as_str()))
    })
}

/// A patch of the template alone under the resourceVersion precondition,
/// sent with dryRun to see whether the change alters the template.
pub fn template_probe(resource_version: &str, template_patch: &Value) -> Value {
    json!({
        "metadata": {"resourceVersion": resource_version},
        "spec": {"template": template_patch}
    })
}

/// Parses `--soak` / `--timeout` ("30s", "5m", "1h", "500ms", "0", plain seconds).
pub fn parse_duration(flag: &str, s: &str) -> Result<Duration, String> {
    crate::duration::parse(s).ok_or_else(|| format!("invalid {flag} {s:?}"))
}

/// Parses repeated `--image CONTAINER=IMAGE`.
pub fn parse_images(items: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for it in items {
        let Some((c, i)) = it.split_once('=') else {
            return Err(format!("--image {it:?} must be CONTAINER=IMAGE"));
        };
        if c.trim().is_empty() || i.trim().is_empty() {
            return Err(format!("--image {it:?} must be CONTAINER=IMAGE"));
        }
        // The API server accepts it in the template but rejects every pod
        // created from it, so the canary would only time out.
        if i.trim() != i || c.trim() != c {
            return Err(format!(
                "--image {it:?} has leading or trailing whitespace; pods with it are rejected"
            ));
        }
        if out.iter().any(|(n, _)| n == c) {
            return Err(format!("--image names container {c:?} twice"));
        }
        out.push((c.to_string(), i.to_string()));
    }
    Ok(out)
}

/// The strategic-merge patch of the pod template for `--image` sets; every
/// named container must exist (containers or initContainers).
pub fn image_template_patch(
    sts: &StatefulSet,
    images: &[(String, String)],
) -> Result<Value, String> {
    let spec = sts.spec.as_ref().and_then(|s| s.template.spec.as_ref());
    let names: Vec<&str> = spec
        .map(|s| s.containers.iter().map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    let inits: Vec<&str> = spec
        .and_then(|s| s.init_containers.as_ref())
        .map(|v| v.iter().map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    let mut containers = Vec::new();
    let mut init_containers = Vec::new();
    for (c, img) in images {
        if names.contains(&c.as_str()) {
            containers.push(json!({"name": c, "image": img}));
        } else if inits.contains(&c.as_str()) {
            init_containers.push(json!({"name": c, "image": img}));
        } else {
            let mut all = names.clone();
            all.extend(inits.iter());
            return Err(format!(
                "container {c:?} not found in the pod template (containers: {})",
                all.join(", ")
            ));
        }
    }
    let mut s = serde_json::Map::new();
    if !containers.is_empty() {
        s.insert("containers".into(), Value::Array(containers));
    }
    if !init_containers.is_empty() {
        s.insert("initContainers".into(), Value::Array(init_containers));
    }
    Ok(json!({ "spec": Value::Object(s) }))
}

/// Validates a `--patch-file` body (YAML or JSON): a mapping with only
/// `metadata` and/or `spec`, i.e. a patch of the pod template.
pub fn parse_template_patch(text: &str) -> Result<Value, String> {
    let v: Value = serde_saphyr::from_str(text).map_err(|e| {
        // The parser's message may carry a snippet on further lines.
        let e = e.to_string();
        format!(
            "not valid YAML/JSON: {}",
            e.lines().next().unwrap_or_default().trim()
        )
    })?;
    let Some(m) = v.as_object() else {
        return Err("must be a mapping (a strategic-merge patch of the pod template)".into());
    };
    if m.is_empty() {
        return Err("the patch is empty".into());
    }
    for k in m.keys() {
        if k != "metadata" && k != "spec" {
            return Err(format!(
                "unexpected key {k:?}: the patch applies to the pod template, so only `metadata` and `spec` are allowed"
            ));
        }
    }
    Ok(v)
}

/// `spec.replicas` (default 1).
pub fn replicas(sts: &StatefulSet) -> i32 {
    sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `spec.ordinals.start` (default 0).
pub fn start(sts: &StatefulSet) -> i32 {
    sts.spec
        .as_ref()
        .and_then(|s| s.ordinals.as_ref())
        .and_then(|o| o.start)
        .unwrap_or(0)
}

pub(crate) fn min_ready(sts: &StatefulSet) -> i32 {
    sts.spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0)
}

/// The controller has observed the latest spec.
pub fn observed(sts: &StatefulSet) -> bool {
    let og = sts
        .status
        .as_ref()
        .and_then(|s| s.observed_generation)
        .unwrap_or(0);
    og >= sts.metadata.generation.unwrap_or(0) && og > 0
}

/// `status.updateRevision`.
pub fn update_revision(sts: &StatefulSet) -> Option<&str> {
    sts.status.as_ref()?.update_revision.as_deref()
}

/// A pod's `controller-revision-hash` label.
pub fn pod_revision(p: &Pod) -> Option<&str> {
    pod::label(p, "controller-revision-hash")
}

/// The in-range pods of `sts` by index (`ordinal − start`).
pub fn pods_by_index<'a>(sts: &StatefulSet, pods: &'a [Pod]) -> BTreeMap<i32, &'a Pod> {
    let name = sts.metadata.name.as_deref().unwrap_or_default();
    let st = start(sts);
    let r = replicas(sts);
    let mut m = BTreeMap::new();
    for p in pods {
        let Some(pn) = p.metadata.name.as_deref() else {
            continue;
        };
        if let Some((parent, ord)) = pod::parent_and_ordinal(pn)
            && parent == name
            && ord >= st
            && ord < st + r
        {
            m.insert(ord - st, p);
        }
    }
    m
}

/// Why a canary cannot start (exit 4), with the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub reason: String,
    pub fix: String,
}

fn refuse(reason: impl Into<String>, fix: impl Into<String>) -> Refusal {
    Refusal {
        reason: reason.into(),
        fix: fix.into(),
    }
}

/// B10 "settled": checks the StatefulSet can start a canary and returns
/// `(from, floor)`. `hpa` names an autoscaler targeting it; `target` is how
/// the fixes name the StatefulSet to kubectl (`web -n NS[ --context C]`).
pub fn check_startable(
    sts: &StatefulSet,
    pods: &[Pod],
    hpa: Option<&str>,
    allow_autoscaler: bool,
    target: &str,
) -> Result<(String, i32), Refusal> {
    let name = sts.metadata.name.as_deref().unwrap_or_default();
    let spec = sts.spec.clone().unwrap_or_default();
    let strategy = spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.type_.as_deref())
        .unwrap_or("RollingUpdate");
    if strategy == "OnDelete" {
        return Err(refuse(
            format!(
                "statefulset {name} uses the OnDelete update strategy: a partition does nothing, the controller never replaces pods"
            ),
            format!(
                "switch to RollingUpdate first: kubectl patch sts {target} -p '{{\"spec\":{{\"updateStrategy\":{{\"type\":\"RollingUpdate\"}}}}}}'"
            ),
        ));
    }
    let r = replicas(sts);
    if r == 0 {
        return Err(refuse(
            format!("statefulset {name} has 0 replicas: there is nothing to canary"),
            format!("scale it up first: kubectl scale sts {target} --replicas=N"),
        ));
    }
    if let Some(h) = hpa
        && !allow_autoscaler
    {
        return Err(refuse(
            format!(
                "HorizontalPodAutoscaler {h} targets statefulset {name}: it may change the replicas mid-canary"
            ),
            "pause the autoscaler, or pass --allow-autoscaler to accept re-planning when replicas change",
        ));
    }
    let status = sts.status.clone().unwrap_or_default();
    if !observed(sts) {
        return Err(refuse(
            format!(
                "statefulset {name} has a spec change the controller has not observed yet (observedGeneration {} < generation {})",
                status.observed_generation.unwrap_or(0),
                sts.metadata.generation.unwrap_or(0)
            ),
            format!("wait for it to settle (kubectl rollout status sts {target}) and re-run"),
        ));
    }
    if status.replicas != r {
        return Err(refuse(
            format!(
                "statefulset {name} is scaling: spec.replicas is {r} but {} pods exist",
                status.replicas
            ),
            "wait for the scale to finish and re-run",
        ));
    }
    let f = partition(sts).unwrap_or(0).max(0);
    if f >= r {
        return Err(refuse(
            format!(
                "statefulset {name} has partition {f} ≥ replicas {r}: a change is held, or nothing is above the floor"
            ),
            format!(
                "to adopt a held change, lower the partition below {r} first; to start fresh, set the partition you want as the floor"
            ),
        ));
    }
    let Some(update) = status.update_revision.clone() else {
        return Err(refuse(
            format!("statefulset {name} has no status.updateRevision yet"),
            "wait for the controller and re-run",
        ));
    };
    let by_index = pods_by_index(sts, pods);
    for i in 0..r {
        let ordinal = i + start(sts);
        let Some(p) = by_index.get(&i) else {
            return Err(refuse(
                format!("pod {name}-{ordinal} does not exist: a rollout or scale is in flight"),
                "wait for it to settle and re-run",
            ));
        };
        if !pod::is_ready(p) || pod::is_terminating(p) {
            return Err(refuse(
                format!(
                    "pod {name}-{ordinal} is not Ready ({})",
                    pod::display_status(p)
                ),
                format!(
                    "fix it first (kubectl sts status {target}); a canary needs every pod Ready to judge the new revision"
                ),
            ));
        }
        if i >= f && pod_revision(p) != Some(update.as_str()) {
            return Err(refuse(
                format!(
                    "a rollout is in flight: pod {name}-{ordinal} is on {} but the update revision is {update}",
                    pod_revision(p).unwrap_or("no revision")
                ),
                format!(
                    "wait for it to finish (kubectl rollout status sts {target}), or abort it, then re-run"
                ),
            ));
        }
    }
    Ok((update, f))
}

/// Adopting a change already applied under a hold (partition `p > floor`):
/// returns `(from, to)` where `from` is the single revision of the pods at
/// indices `[floor, p)` and `to` is `status.updateRevision`.
pub fn check_adoptable(
    sts: &StatefulSet,
    pods: &[Pod],
    floor: i32,
) -> Result<(String, String), Refusal> {
    let name = sts.metadata.name.as_deref().unwrap_or_default();
    let r = replicas(sts);
    let p = partition(sts).unwrap_or(0);
    let status = sts.status.clone().unwrap_or_default();
    if !observed(sts) {
        return Err(refuse(
            format!("statefulset {name} has a spec change the controller has not observed yet"),
            "wait a moment and re-run",
        ));
    }
    if status.replicas != r {
        return Err(refuse(
            format!(
                "statefulset {name} is scaling: spec.replicas is {r} but {} pods exist",
                status.replicas
            ),
            "wait for the scale to finish and re-run",
        ));
    }
    if floor < 0 || floor >= p.min(r) {
        return Err(refuse(
            format!(
                "nothing to adopt: the partition is {p} and the floor {floor}; a held change needs floor < partition"
            ),
            "apply the change with a partition holding it (e.g. partition = replicas), or start one with --image/--patch-file",
        ));
    }
    let Some(to) = status.update_revision.clone() else {
        return Err(refuse(
            format!("statefulset {name} has no status.updateRevision yet"),
            "wait for the controller and re-run",
        ));
    };
    let by_index = pods_by_index(sts, pods);
    let mut held: Vec<String> = Vec::new();
    for i in 0..r {
        let ordinal = i + start(sts);
        let Some(pd) = by_index.get(&i) else {
            return Err(refuse(
                format!("pod {name}-{ordinal} does not exist"),
                "wait for it to settle and re-run",
            ));
        };
        if !pod::is_ready(pd) || pod::is_terminating(pd) {
            return Err(refuse(
                format!(
                    "pod {name}-{ordinal} is not Ready ({})",
                    pod::display_status(pd)
                ),
                "fix it first; a canary needs every pod Ready",
            ));
        }
        let rev = pod_revision(pd).unwrap_or_default().to_string();
        if i >= floor && i < p && !held.contains(&rev) {
            held.push(rev);
        }
    }
    match held.as_slice() {
        [one] if *one != to => Ok((one.clone(), to)),
        [one] => Err(refuse(
            format!(
                "no change is held: the pods between the floor and the partition are already on the update revision {one}"
            ),
            "start a canary with --image or --patch-file",
        )),
        _ => Err(refuse(
            format!(
                "the pods between the floor ({floor}) and the partition ({p}) carry several revisions: {}",
                held.join(", ")
            ),
            "settle them on one revision first (or pick another --floor)",
        )),
    }
}

/// Writes the state without touching the spec (adoption), guarded.
pub fn adopt_patch(resource_version: &str, state: &CanaryState) -> Value {
    json!({"metadata": {"resourceVersion": resource_version, "annotations": {STATE_ANNOTATION: serde_json::to_string(state).unwrap_or_default()}}})
}

/// `state` recording `partition` as the one the canary wrote.
fn with_partition(state: &CanaryState, partition: i32) -> CanaryState {
    let mut s = state.clone();
    s.set_partition = Some(partition);
    s
}

/// The start patch: the template change and the hold (partition = R) in one
/// request guarded by resourceVersion, with the state and change-cause.
pub fn start_patch(
    resource_version: &str,
    template_patch: &Value,
    replicas: i32,
    state: &CanaryState,
    cause: &str,
) -> Value {
    json!({
        "metadata": {
            "resourceVersion": resource_version,
            "annotations": {
                STATE_ANNOTATION: serde_json::to_string(&with_partition(state, replicas)).unwrap_or_default(),
                CHANGE_CAUSE: cause,
            }
        },
        "spec": {
            "template": template_patch,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": replicas}}
        }
    })
}

/// A step patch: partition plus the updated state.
pub fn step_patch(
    resource_version: &str,
    partition: i32,
    state: &CanaryState,
    cause: &str,
) -> Value {
    json!({
        "metadata": {
            "resourceVersion": resource_version,
            "annotations": {
                STATE_ANNOTATION: serde_json::to_string(&with_partition(state, partition)).unwrap_or_default(),
                CHANGE_CAUSE: cause,
            }
        },
        "spec": {"updateStrategy": {"rollingUpdate": {"partition": partition}}}
    })
}

/// The abort patch (B10 abort step 1): the saved `from` data, which replaces
/// the template as `rollout undo` does, plus partition = floor.
pub fn abort_patch(resource_version: &str, state: &CanaryState, cause: &str) -> Value {
    let mut p = state.from_data.clone();
    if !p.is_object() {
        p = json!({});
    }
    let mut st = state.clone();
    st.phase = CanaryPhase::Aborting;
    let extra = json!({
        "metadata": {
            "resourceVersion": resource_version,
            "annotations": {
                STATE_ANNOTATION: serde_json::to_string(&st).unwrap_or_default(),
                CHANGE_CAUSE: cause,
            }
        },
        "spec": {"updateStrategy": {"rollingUpdate": {"partition": state.floor}}}
    });
    merge(&mut p, &extra);
    p
}

/// Writes the state alone (a request from another terminal, a handled
/// request, a failed gate), guarded by resourceVersion.
pub fn state_patch(resource_version: &str, state: &CanaryState) -> Value {
    json!({"metadata": {"resourceVersion": resource_version, "annotations": {STATE_ANNOTATION: serde_json::to_string(state).unwrap_or_default()}}})
}

/// A patch as a person reads it: the state annotation (a JSON string on the
/// wire) shown as the object it holds, and with `brief`, the saved template
/// of `from` replaced by a short note.
pub fn readable_patch(patch: &Value, brief: bool) -> Value {
    let mut p = patch.clone();
    let decoded = p["metadata"]["annotations"][STATE_ANNOTATION]
        .as_str()
        .and_then(|s| serde_json::from_str::<Value>(s).ok());
    if let Some(mut st) = decoded {
        if brief && let Some(m) = st.as_object_mut() {
            let from = m
                .get("from")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            m.insert(
                "fromData".into(),
                Value::String(format!("(the pod template of {from}, saved for an abort)")),
            );
        }
        p["metadata"]["annotations"][STATE_ANNOTATION] = st;
    }
    p
}

/// Whether resolved steps are a canary: refused when they collapse into one
/// all-at-once step, or when the first step updates more than half of the
/// `extent` pods above the floor (unless asked for explicitly).
pub fn check_steps(counts: &[i32], extent: i32) -> Result<(), String> {
    if counts.len() <= 1 {
        return Err(format!(
            "the steps resolve to a single step that updates all {extent} pod(s) above the floor at once: that is not a canary"
        ));
    }
    match counts.first() {
        Some(&first) if first * 2 > extent => Err(format!(
            "the first step updates {first} of the {extent} pods above the floor, more than half"
        )),
        _ => Ok(()),
    }
}

/// A short random-looking id from a clock reading and a process id.
pub fn make_id(nanos: u128, pid: u32) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in nanos.to_le_bytes().iter().chain(pid.to_le_bytes().iter()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

/// Removes the state annotation (guarded by resourceVersion).
pub fn clear_patch(resource_version: &str) -> Value {
    json!({"metadata": {"resourceVersion": resource_version, "annotations": {STATE_ANNOTATION: null}}})
}

fn merge(a: &mut Value, b: &Value) {
    match (a, b) {
        (Value::Object(am), Value::Object(bm)) => {
            for (k, v) in bm {
                merge(am.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b.clone(),
    }
}

/// Another field manager that owns a field the canary changes, from
/// `managedFields` (operation Apply only: an applier would fight the canary).
pub fn foreign_owners(sts: &StatefulSet, containers: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for mf in sts.metadata.managed_fields.iter().flatten() {
        let mgr = mf.manager.clone().unwrap_or_default();
        if mgr == "kubectl-sts" || mf.operation.as_deref() != Some("Apply") {
            continue;
        }
        let Some(f) = mf.fields_v1.as_ref().map(|f| &f.0) else {
            continue;
        };
        let spec = &f["f:spec"];
        if !spec["f:updateStrategy"]["f:rollingUpdate"]["f:partition"].is_null() {
            out.push(format!(
                "{mgr} owns spec.updateStrategy.rollingUpdate.partition"
            ));
        }
        for c in containers {
            let key = format!("k:{{\"name\":\"{c}\"}}");
            let ts = &spec["f:template"]["f:spec"];
            if !ts["f:containers"][&key]["f:image"].is_null()
                || !ts["f:initContainers"][&key]["f:image"].is_null()
            {
                out.push(format!("{mgr} owns the image of container {c}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;

/// The pods on revision `to` that are not Ready (terminating ones left
/// out), by name: a promote must not spread a revision whose pods fail.
pub fn unready_on(to: &str, pods: &[Pod]) -> Vec<String> {
    if to.is_empty() {
        return Vec::new();
    }
    pods.iter()
        .filter(|p| pod_revision(p) == Some(to))
        .filter(|p| !pod::is_ready(p) && !pod::is_terminating(p))
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

/// The in-range pods below the floor (index < `floor`) on revision `to`,
/// by name: the canary never updates them, so they got `to` outside it.
pub fn below_floor_on(sts: &StatefulSet, to: &str, floor: i32, pods: &[Pod]) -> Vec<String> {
    if to.is_empty() {
        return Vec::new();
    }
    pods_by_index(sts, pods)
        .into_iter()
        .filter(|(i, p)| *i < floor && pod_revision(p) == Some(to))
        .filter_map(|(_, p)| p.metadata.name.clone())
        .collect()
}
