//! Fixes for DaemonSet findings: complete commands that remove the finding
//! when pasted, offered only where they alone do. A label or toleration is
//! proposed only after re-running the eligibility check on the node with
//! the change applied. Pure.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeSelectorRequirement, PodTemplateSpec, Toleration};
use serde_json::json;

use super::eligibility::{Blocker, requirement_holds, should_run};

/// Where fix commands point: the namespace, and the kubeconfig context when
/// one was given on the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub namespace: String,
    pub context: Option<String>,
    pub kubeconfig: Option<String>,
}

impl Scope {
    /// `kubectl ARGS -n NS [--context C]`.
    pub fn kubectl(&self, args: &str) -> String {
        format!(
            "kubectl {args} -n {}{}",
            quote(&self.namespace),
            self.context_flag()
        )
    }

    /// `kubectl ARGS [--context C]`, for cluster-scoped objects (nodes).
    pub fn kubectl_cluster(&self, args: &str) -> String {
        format!("kubectl {args}{}", self.context_flag())
    }

    fn context_flag(&self) -> String {
        let mut s = String::new();
        if let Some(c) = &self.context {
            s.push_str(&format!(" --context {}", quote(c)));
        }
        if let Some(k) = &self.kubeconfig {
            s.push_str(&format!(" --kubeconfig {}", quote(k)));
        }
        s
    }
}

/// Quotes a word for a POSIX shell when it holds anything but the
/// characters of Kubernetes names and kubeconfig entries.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@=+,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Node labels that describe what the node is (identity, platform,
/// topology): relabelling them to admit a daemon pod would lie to the
/// scheduler, so no fix sets or removes them.
fn is_identity_label(key: &str) -> bool {
    matches!(
        key,
        "kubernetes.io/hostname"
            | "kubernetes.io/os"
            | "kubernetes.io/arch"
            | "node.kubernetes.io/instance-type"
    ) || key.starts_with("beta.kubernetes.io/")
        || key.starts_with("topology.kubernetes.io/")
        || key.starts_with("failure-domain.beta.kubernetes.io/")
}

/// A label change: set (`Some(value)`) or remove (`None`).
pub type LabelChanges = BTreeMap<String, Option<String>>;

fn with_labels(node: &Node, changes: &LabelChanges) -> Node {
    let mut n = node.clone();
    let labels = n.metadata.labels.get_or_insert_with(BTreeMap::new);
    for (k, v) in changes {
        match v {
            Some(v) => {
                labels.insert(k.clone(), v.clone());
            }
            None => {
                labels.remove(k);
            }
        }
    }
    n
}

/// The label changes that satisfy one failing requirement, or `None` when
/// no label can (matchFields, parse errors, a negative bound).
fn requirement_change(r: &NodeSelectorRequirement, out: &mut LabelChanges) -> Option<()> {
    let vals = r.values.clone().unwrap_or_default();
    let change = match r.operator.as_str() {
        "In" => Some(vals.first()?.clone()),
        "Exists" => Some(String::new()),
        "NotIn" | "DoesNotExist" => None,
        "Gt" | "Lt" => {
            let v: i64 = vals.first()?.parse().ok()?;
            let v = if r.operator == "Gt" {
                v.checked_add(1)?
            } else {
                v.checked_sub(1)?
            };
            // label values start with a letter or digit: no negative numbers
            if v < 0 {
                return None;
            }
            Some(v.to_string())
        }
        _ => return None,
    };
    if let Some(prev) = out.get(&r.key)
        && *prev != change
    {
        return None;
    }
    out.insert(r.key.clone(), change);
    Some(())
}

/// The label changes that admit `node` for `template` on their own (no
/// taint or `nodeName` pin left), checked by re-running the eligibility
/// test on the relabelled node; `None` when labels alone cannot.
pub fn label_changes(node: &Node, template: &PodTemplateSpec) -> Option<LabelChanges> {
    let spec = template.spec.clone().unwrap_or_default();
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let mut base = LabelChanges::new();
    for (k, v) in spec.node_selector.iter().flatten() {
        if labels.get(k) != Some(v) {
            base.insert(k.clone(), Some(v.clone()));
        }
    }
    let admits = |c: &LabelChanges| {
        !c.is_empty()
            && !c.keys().any(|k| is_identity_label(k))
            && should_run(&with_labels(node, c), template).should_run
    };
    if admits(&base) {
        return Some(base);
    }
    let terms = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|r| r.node_selector_terms.clone())
        .unwrap_or_default();
    let relabelled = with_labels(node, &base);
    for term in &terms {
        if term.match_fields.as_ref().is_some_and(|f| !f.is_empty()) {
            // a term naming nodes by metadata.name: no label changes that
            continue;
        }
        let mut c = base.clone();
        let mut ok = true;
        for r in term.match_expressions.iter().flatten() {
            if requirement_holds(r, &relabelled) {
                continue;
            }
            if requirement_change(r, &mut c).is_none() {
                ok = false;
                break;
            }
        }
        if ok && admits(&c) {
            return Some(c);
        }
    }
    None
}

/// `k=v k2-`: the arguments of `kubectl label` for the changes.
pub fn label_args(changes: &LabelChanges) -> String {
    changes
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => format!("{k}-"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `kubectl label node N1 N2 k=v k2- --overwrite`.
pub fn label_command(scope: &Scope, nodes: &[&str], args: &str) -> String {
    scope.kubectl_cluster(&format!(
        "label node {} {args} --overwrite",
        nodes.join(" ")
    ))
}

/// Taints the node lifecycle controller sets for NotReady/unreachable
/// nodes: they lift once the node is Ready, so tolerating them is no fix.
pub fn is_readiness_taint(key: &str) -> bool {
    key == "node.kubernetes.io/not-ready" || key == "node.kubernetes.io/unreachable"
}

/// Taints that keep ordinary workloads off on purpose (control plane).
pub fn is_intended_taint(key: &str) -> bool {
    matches!(
        key,
        "node-role.kubernetes.io/control-plane" | "node-role.kubernetes.io/master"
    )
}

/// The tolerations that admit `node` on their own (only taints block it,
/// none of them a readiness taint), checked by re-running the eligibility
/// test with them added; `None` otherwise.
pub fn tolerations_to_add(
    node: &Node,
    template: &PodTemplateSpec,
    blockers: &[Blocker],
) -> Option<Vec<Toleration>> {
    if blockers.is_empty() || !blockers.iter().all(Blocker::is_taint) {
        return None;
    }
    let mut add = Vec::new();
    for b in blockers {
        let Blocker::Taint { key, value, effect } = b else {
            return None;
        };
        if is_readiness_taint(key) {
            return None;
        }
        add.push(Toleration {
            key: Some(key.clone()),
            operator: Some(if value.is_empty() { "Exists" } else { "Equal" }.to_string()),
            value: (!value.is_empty()).then(|| value.clone()),
            effect: Some(effect.clone()),
            ..Toleration::default()
        });
    }
    let mut t = template.clone();
    let spec = t.spec.get_or_insert_with(Default::default);
    spec.tolerations
        .get_or_insert_with(Vec::new)
        .extend(add.iter().cloned());
    should_run(node, &t).should_run.then_some(add)
}

/// `kubectl patch daemonset NAME --type=json -p '[…]'` adding tolerations
/// (appended when the template has a list, else the list is created, only
/// if it is still absent).
pub fn toleration_patch(
    scope: &Scope,
    ds: &str,
    template: &PodTemplateSpec,
    add: &[Toleration],
) -> String {
    let value = |t: &Toleration| {
        let mut v = json!({"key": t.key, "operator": t.operator, "effect": t.effect});
        if let Some(val) = &t.value {
            v["value"] = json!(val);
        }
        v
    };
    let has_list = template
        .spec
        .as_ref()
        .is_some_and(|s| s.tolerations.is_some());
    let ops: Vec<serde_json::Value> = if has_list {
        add.iter()
            .map(|t| json!({"op": "add", "path": "/spec/template/spec/tolerations/-", "value": value(t)}))
            .collect()
    } else {
        // The list is created only while it is still absent (a JSON patch
        // `test` against null passes only for a missing member): a second
        // fix printed in the same view is refused whole instead of
        // replacing the list the first one created.
        vec![
            json!({"op": "test", "path": "/spec/template/spec/tolerations", "value": null}),
            json!({"op": "add", "path": "/spec/template/spec/tolerations",
            "value": add.iter().map(value).collect::<Vec<_>>()}),
        ]
    };
    scope.kubectl(&format!(
        "patch daemonset {ds} --type=json -p '{}'",
        serde_json::Value::Array(ops)
    ))
}

/// The parts of a ResourceQuota rejection ("exceeded quota: NAME,
/// requested: r=1, used: r=1, limited: r=1").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaRejection {
    pub quota: String,
    pub requested: BTreeMap<String, String>,
    pub used: BTreeMap<String, String>,
    pub limited: BTreeMap<String, String>,
}

fn pairs(s: &str) -> BTreeMap<String, String> {
    s.split(',')
        .filter_map(|kv| kv.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Parses the quota admission's message (`pkg/quota/v1/.../admission`).
pub fn parse_quota_rejection(msg: &str) -> Option<QuotaRejection> {
    let rest = &msg[msg.find("exceeded quota: ")? + "exceeded quota: ".len()..];
    let (quota, rest) = rest.split_once(", requested: ")?;
    let (requested, rest) = rest.split_once(", used: ")?;
    let (used, limited) = rest.split_once(", limited: ")?;
    Some(QuotaRejection {
        quota: quota.trim().to_string(),
        requested: pairs(requested),
        used: pairs(used),
        limited: pairs(limited.trim_end_matches('.')),
    })
}

/// The quota patch that lets `missing` more pods in: each exceeded
/// resource's hard limit becomes used + requested × missing. Only for
/// whole-number resources (pods, object counts); `None` otherwise.
pub fn quota_patch(scope: &Scope, q: &QuotaRejection, missing: usize) -> Option<String> {
    let mut hard = serde_json::Map::new();
    for k in q.limited.keys() {
        let used: i64 = q.used.get(k)?.parse().ok()?;
        let req: i64 = q.requested.get(k)?.parse().ok()?;
        let want = used.checked_add(req.checked_mul(i64::try_from(missing).ok()?)?)?;
        hard.insert(k.clone(), json!(want.to_string()));
    }
    if hard.is_empty() {
        return None;
    }
    Some(scope.kubectl(&format!(
        "patch resourcequota {} --type=merge -p '{}'",
        q.quota,
        json!({"spec": {"hard": hard}})
    )))
}
