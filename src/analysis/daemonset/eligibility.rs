//! Node eligibility for daemon pods: the DaemonSet controller's
//! `NodeShouldRunDaemonPod` (shouldRun / shouldContinueRunning), pure.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, PodTemplateSpec, Taint, Toleration,
};
use serde::Serialize;

/// Why a node is not (fully) eligible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Blocker {
    /// The template pins `spec.nodeName` to another node.
    #[serde(rename_all = "camelCase")]
    NodeName { pinned_to: String },
    /// A `nodeSelector` entry the node does not carry.
    #[serde(rename_all = "camelCase")]
    NodeSelector {
        key: String,
        want: String,
        have: Option<String>,
    },
    /// No required node-affinity term matches; `detail` names every failing
    /// requirement of each term (`term N: …; term M: …` when there are
    /// several terms).
    #[serde(rename_all = "camelCase")]
    NodeAffinity { detail: String },
    /// A NoSchedule/NoExecute taint no toleration (user or automatic) matches.
    #[serde(rename_all = "camelCase")]
    Taint {
        key: String,
        value: String,
        effect: String,
    },
}

impl Blocker {
    /// The cause without this node's particulars (what the node has), for
    /// grouping nodes excluded for the same reason: `tainted K:E`,
    /// `without K=V`, `outside the required node affinity`.
    pub fn group(&self) -> String {
        match self {
            Blocker::NodeName { pinned_to } => {
                format!("not the template's spec.nodeName ({pinned_to})")
            }
            Blocker::NodeSelector { key, want, .. } => format!("without {key}={want}"),
            Blocker::NodeAffinity { .. } => "outside the required node affinity".to_string(),
            Blocker::Taint { key, value, effect } => {
                format!("tainted {}", taint_text(key, value, effect))
            }
        }
    }

    /// Whether the blocker is a taint.
    pub fn is_taint(&self) -> bool {
        matches!(self, Blocker::Taint { .. })
    }

    /// One-line description.
    pub fn describe(&self) -> String {
        match self {
            Blocker::NodeName { pinned_to } => format!("template pins spec.nodeName={pinned_to}"),
            Blocker::NodeSelector {
                key,
                want,
                have: None,
            } => format!("nodeSelector {key}={want}: label missing"),
            Blocker::NodeSelector {
                key,
                want,
                have: Some(h),
            } => format!("nodeSelector {key}={want}: node has {key}={h}"),
            Blocker::NodeAffinity { detail } => format!("required node affinity: {detail}"),
            Blocker::Taint { key, value, effect } => {
                format!("taint {} not tolerated", taint_text(key, value, effect))
            }
        }
    }
}

/// `key[=value]:effect`.
pub fn taint_text(key: &str, value: &str, effect: &str) -> String {
    if value.is_empty() {
        format!("{key}:{effect}")
    } else {
        format!("{key}={value}:{effect}")
    }
}

/// The verdict for one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Eligibility {
    pub should_run: bool,
    pub should_continue_running: bool,
    pub blockers: Vec<Blocker>,
}

fn tol(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.to_string()),
        operator: Some("Exists".to_string()),
        effect: Some(effect.to_string()),
        ..Toleration::default()
    }
}

/// The tolerations the controller adds to every daemon pod (A3).
pub fn automatic_tolerations(host_network: bool) -> Vec<Toleration> {
    let mut v = vec![
        tol("node.kubernetes.io/not-ready", "NoExecute"),
        tol("node.kubernetes.io/unreachable", "NoExecute"),
        tol("node.kubernetes.io/disk-pressure", "NoSchedule"),
        tol("node.kubernetes.io/memory-pressure", "NoSchedule"),
        tol("node.kubernetes.io/pid-pressure", "NoSchedule"),
        tol("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if host_network {
        v.push(tol("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    v
}

fn s(o: &Option<String>) -> &str {
    o.as_deref().unwrap_or("")
}

/// `AddOrUpdateDaemonPodTolerations`: a user toleration equal in key,
/// operator, value and effect is replaced by the automatic one; others are
/// kept and the automatic one is appended.
pub fn daemon_tolerations(spec: &PodSpec) -> Vec<Toleration> {
    let mut out: Vec<Toleration> = spec.tolerations.clone().unwrap_or_default();
    for a in automatic_tolerations(spec.host_network.unwrap_or(false)) {
        let same = |t: &Toleration| {
            s(&t.key) == s(&a.key)
                && s(&t.operator) == s(&a.operator)
                && s(&t.value) == s(&a.value)
                && s(&t.effect) == s(&a.effect)
        };
        if let Some(i) = out.iter().position(same) {
            out[i] = a;
        } else {
            out.push(a);
        }
    }
    out
}

/// `Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if !s(&t.effect).is_empty() && s(&t.effect) != taint.effect {
        return false;
    }
    if !s(&t.key).is_empty() && s(&t.key) != taint.key {
        return false;
    }
    match s(&t.operator) {
        "" | "Equal" => s(&t.value) == s(&taint.value),
        "Exists" => true,
        // Lt/Gt are behind an alpha gate (off): they tolerate nothing.
        _ => false,
    }
}

/// The taints left untolerated (NoSchedule and NoExecute only).
pub fn untolerated_taints<'a>(node: &'a Node, tolerations: &[Toleration]) -> Vec<&'a Taint> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .map(|ts| {
            ts.iter()
                .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
                .filter(|t| !tolerations.iter().any(|tol| tolerates(tol, t)))
                .collect()
        })
        .unwrap_or_default()
}

fn labels(node: &Node) -> BTreeMap<String, String> {
    node.metadata.labels.clone().unwrap_or_default()
}

/// Why one requirement fails against labels; `Err` on a parse error.
fn expr_fails(
    r: &NodeSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> Result<Option<String>, String> {
    let vals = r.values.clone().unwrap_or_default();
    let have = labels.get(&r.key);
    let text = || format!("{} {} [{}]", r.key, r.operator, vals.join(","));
    let ok = match r.operator.as_str() {
        "In" | "NotIn" => {
            if vals.is_empty() {
                return Err(format!("{}: {} needs values", r.key, r.operator));
            }
            let inside = have.is_some_and(|h| vals.contains(h));
            if r.operator == "In" { inside } else { !inside }
        }
        "Exists" | "DoesNotExist" => {
            if !vals.is_empty() {
                return Err(format!("{}: {} takes no values", r.key, r.operator));
            }
            if r.operator == "Exists" {
                have.is_some()
            } else {
                have.is_none()
            }
        }
        "Gt" | "Lt" => {
            let [v] = vals.as_slice() else {
                return Err(format!("{}: {} needs exactly one value", r.key, r.operator));
            };
            let Ok(want) = v.parse::<i64>() else {
                return Err(format!(
                    "{}: {} value {v:?} is not an integer",
                    r.key, r.operator
                ));
            };
            match have.and_then(|h| h.parse::<i64>().ok()) {
                Some(h) => {
                    if r.operator == "Gt" {
                        h > want
                    } else {
                        h < want
                    }
                }
                None => false,
            }
        }
        other => return Err(format!("{}: unknown operator {other}", r.key)),
    };
    if ok {
        return Ok(None);
    }
    let got = match have {
        Some(h) => format!("node has {}={h}", r.key),
        None => format!("node has no label {}", r.key),
    };
    Ok(Some(format!("{} ({got})", text())))
}

/// Whether one `matchExpressions` requirement holds for the node's labels
/// (a requirement that does not parse never holds).
pub fn requirement_holds(r: &NodeSelectorRequirement, node: &Node) -> bool {
    matches!(expr_fails(r, &labels(node)), Ok(None))
}

fn field_fails(r: &NodeSelectorRequirement, node_name: &str) -> Result<Option<String>, String> {
    let vals = r.values.clone().unwrap_or_default();
    let [v] = vals.as_slice() else {
        return Err(format!("matchFields {}: needs exactly one value", r.key));
    };
    let field = if r.key == "metadata.name" {
        node_name
    } else {
        ""
    };
    let ok = match r.operator.as_str() {
        "In" => field == v,
        "NotIn" => field != v,
        other => {
            return Err(format!(
                "matchFields {}: operator {other} not allowed",
                r.key
            ));
        }
    };
    Ok((!ok).then(|| {
        format!(
            "matchFields {} {} [{v}] (node is {node_name})",
            r.key, r.operator
        )
    }))
}

/// `None` when the term matches, else every requirement that fails (or
/// the parse error that makes the whole term fail).
fn term_fails(term: &NodeSelectorTerm, node: &Node) -> Option<String> {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return Some("empty term matches nothing".to_string());
    }
    let l = labels(node);
    // Parse errors make the whole term non-matching.
    let mut failing: Vec<String> = Vec::new();
    for r in exprs {
        match expr_fails(r, &l) {
            Err(e) => return Some(format!("invalid: {e}")),
            Ok(Some(f)) => failing.push(f),
            Ok(None) => {}
        }
    }
    let name = node.metadata.name.as_deref().unwrap_or("");
    if !name.is_empty() {
        for r in fields {
            match field_fails(r, name) {
                Err(e) => return Some(format!("invalid: {e}")),
                Ok(Some(f)) => failing.push(f),
                Ok(None) => {}
            }
        }
    }
    (!failing.is_empty()).then(|| failing.join(", "))
}

/// `None` when the required node affinity matches, else why not.
pub fn affinity_fails(spec: &PodSpec, node: &Node) -> Option<String> {
    let req = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        })?;
    let terms = &req.node_selector_terms;
    if terms.is_empty() {
        return Some("no nodeSelectorTerms (matches nothing)".to_string());
    }
    let mut why = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        match term_fails(t, node) {
            None => return None,
            Some(w) if terms.len() == 1 => why.push(w),
            Some(w) => why.push(format!("term {i}: {w}")),
        }
    }
    Some(why.join("; "))
}

/// `NodeShouldRunDaemonPod`: should a daemon pod run on `node`, and may an
/// existing one stay. Reads the node's taints as they are (the lifecycle
/// controller's condition taints included). Every blocker is listed (the
/// `nodeName` pin, each `nodeSelector` entry, the required node affinity,
/// each untolerated taint), not only the first the controller stops at.
pub fn should_run(node: &Node, template: &PodTemplateSpec) -> Eligibility {
    let spec = template.spec.clone().unwrap_or_default();
    let name = node.metadata.name.clone().unwrap_or_default();
    let mut blockers = Vec::new();
    if let Some(pinned) = spec.node_name.as_ref().filter(|n| !n.is_empty())
        && *pinned != name
    {
        blockers.push(Blocker::NodeName {
            pinned_to: pinned.clone(),
        });
    }
    let l = labels(node);
    for (k, v) in spec.node_selector.iter().flatten() {
        if l.get(k) != Some(v) {
            blockers.push(Blocker::NodeSelector {
                key: k.clone(),
                want: v.clone(),
                have: l.get(k).cloned(),
            });
        }
    }
    if let Some(detail) = affinity_fails(&spec, node) {
        blockers.push(Blocker::NodeAffinity { detail });
    }
    // nodeName, nodeSelector and affinity failures remove existing pods too.
    let placement_fails = !blockers.is_empty();
    let tols = daemon_tolerations(&spec);
    let bad = untolerated_taints(node, &tols);
    let no_exec = bad.iter().any(|t| t.effect == "NoExecute");
    for t in &bad {
        blockers.push(Blocker::Taint {
            key: t.key.clone(),
            value: s(&t.value).to_string(),
            effect: t.effect.clone(),
        });
    }
    Eligibility {
        should_run: blockers.is_empty(),
        should_continue_running: !placement_fails && !no_exec,
        blockers,
    }
}

/// Adds the taints the node lifecycle controller (and the
/// TaintNodesByCondition admission) derive from the node's conditions and
/// `spec.unschedulable`, when they are not there yet. Use it to predict the
/// steady state of a node whose taints lag behind its conditions.
pub fn with_lifecycle_taints(node: &Node) -> Node {
    let mut n = node.clone();
    let mut want: Vec<(&str, &str)> = Vec::new();
    let conds = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    for c in &conds {
        match (c.type_.as_str(), c.status.as_str()) {
            ("Ready", "False") => {
                want.push(("node.kubernetes.io/not-ready", "NoSchedule"));
                want.push(("node.kubernetes.io/not-ready", "NoExecute"));
            }
            ("Ready", "Unknown") => {
                want.push(("node.kubernetes.io/unreachable", "NoSchedule"));
                want.push(("node.kubernetes.io/unreachable", "NoExecute"));
            }
            ("MemoryPressure", "True") => {
                want.push(("node.kubernetes.io/memory-pressure", "NoSchedule"))
            }
            ("DiskPressure", "True") => {
                want.push(("node.kubernetes.io/disk-pressure", "NoSchedule"))
            }
            ("PIDPressure", "True") => want.push(("node.kubernetes.io/pid-pressure", "NoSchedule")),
            ("NetworkUnavailable", "True") => {
                want.push(("node.kubernetes.io/network-unavailable", "NoSchedule"))
            }
            _ => {}
        }
    }
    if node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        want.push(("node.kubernetes.io/unschedulable", "NoSchedule"));
    }
    let spec = n.spec.get_or_insert_with(Default::default);
    let taints = spec.taints.get_or_insert_with(Vec::new);
    for (k, e) in want {
        if !taints.iter().any(|t| t.key == k && t.effect == e) {
            taints.push(Taint {
                key: k.to_string(),
                effect: e.to_string(),
                ..Taint::default()
            });
        }
    }
    n
}
