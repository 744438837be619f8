//! The StatefulSet checks. Each is a small function from the snapshot (and
//! the rows already built) to findings; `run_all` is the registry.

use k8s_openapi::jiff::Timestamp;

use super::claims::claims_of;
use super::{StsReport, live_range};
use crate::analysis::finding::{Finding, Severity};
use crate::analysis::pod;
use crate::model::StsSnapshot;

type Check = fn(&StsSnapshot, &StsReport, Timestamp) -> Vec<Finding>;

/// Every check, in the order they run (output is sorted afterwards).
pub const ALL: &[Check] = &[service, missing_pods, unready_pods, out_of_range_claims, pending_claims];

/// Runs every check.
pub fn run_all(s: &StsSnapshot, r: &StsReport, now: Timestamp) -> Vec<Finding> {
    ALL.iter().flat_map(|c| c(s, r, now)).collect()
}

fn selector_matches(selector: &std::collections::BTreeMap<String, String>, labels: Option<&std::collections::BTreeMap<String, String>>) -> bool {
    let Some(l) = labels else { return selector.is_empty() };
    selector.iter().all(|(k, v)| l.get(k) == Some(v))
}

/// `ok`, `missing`, `not-headless`, `selector-mismatch` or `none`.
pub fn service_verdict(s: &StsSnapshot) -> &'static str {
    let name = s.sts.spec.as_ref().and_then(|sp| sp.service_name.as_deref()).unwrap_or("");
    if name.is_empty() {
        return "none";
    }
    let Some(svc) = &s.service else { return "missing" };
    let spec = svc.spec.clone().unwrap_or_default();
    if spec.cluster_ip.as_deref() != Some("None") {
        return "not-headless";
    }
    let sel = spec.selector.unwrap_or_default();
    let template_labels = s
        .sts
        .spec
        .as_ref()
        .and_then(|sp| sp.template.metadata.as_ref())
        .and_then(|m| m.labels.as_ref());
    if sel.is_empty() || !selector_matches(&sel, template_labels) {
        return "selector-mismatch";
    }
    "ok"
}

fn service(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let name = &r.header.service_name;
    let obj = format!("service/{name}");
    let ns = &r.namespace;
    match service_verdict(s) {
        "missing" => vec![Finding::new(
            "service.missing",
            Severity::Error,
            obj,
            format!("governing Service {name:?} does not exist: the pods have no stable DNS names"),
        )
        .fix(format!(
            "create a headless Service named {name} (clusterIP: None) selecting the pod labels, e.g. kubectl create service clusterip {name} --clusterip=None -n {ns}"
        ))],
        "not-headless" => vec![Finding::new(
            "service.not_headless",
            Severity::Error,
            obj,
            format!("governing Service {name:?} is not headless (clusterIP is not None): per-pod DNS records are not published"),
        )
        .fix(format!("recreate {name} with spec.clusterIP: None (clusterIP cannot be changed in place)"))],
        "selector-mismatch" => vec![Finding::new(
            "service.selector_mismatch",
            Severity::Error,
            obj,
            format!("governing Service {name:?} does not select the pods: its selector does not match the pod template labels"),
        )
        .fix(format!("set the selector of service/{name} to the StatefulSet's pod labels"))],
        "none" => vec![Finding::new(
            "service.unset",
            Severity::Warning,
            format!("statefulset/{}", r.name),
            "spec.serviceName is empty: pods get no stable DNS names",
        )],
        _ => Vec::new(),
    }
}

fn missing_pods(_s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    r.ordinals
        .iter()
        .filter(|o| o.pod.is_none())
        .map(|o| {
            Finding::new(
                "pod.missing",
                Severity::Warning,
                format!("pod/{}-{}", r.name, o.ordinal),
                format!("ordinal {} is in range but has no pod", o.ordinal),
            )
        })
        .collect()
}

fn unready_pods(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in &s.pods {
        let Some((parent, ord)) = p.metadata.name.as_deref().and_then(pod::parent_and_ordinal) else { continue };
        if parent != r.name || !live_range(&s.sts).contains(&ord) || pod::is_ready(p) || pod::is_terminating(p) {
            continue;
        }
        let name = p.metadata.name.clone().unwrap_or_default();
        let (msg, fix) = if let Some((c, reason, m)) = pod::container_problem(p) {
            (
                format!("container {c} is {reason}{}", if m.is_empty() { String::new() } else { format!(": {m}") }),
                match reason.as_str() {
                    "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" => Some(format!("check the image name and pull secrets; kubectl describe pod {name} -n {}", r.namespace)),
                    "CrashLoopBackOff" => Some(format!("read the crash: kubectl logs {name} -c {c} --previous -n {}", r.namespace)),
                    _ => None,
                },
            )
        } else if let Some(m) = pod::unschedulable_message(p) {
            (format!("cannot be scheduled: {m}"), None)
        } else if pod::phase(p) == "Running" {
            ("running but its readiness probe is failing".to_string(), Some(format!("kubectl describe pod {name} -n {}", r.namespace)))
        } else {
            (format!("is {}", pod::display_status(p)), None)
        };
        let mut f = Finding::new("pod.not_ready", Severity::Error, format!("pod/{name}"), format!("not Ready: {msg}"));
        if let Some(x) = fix {
            f = f.fix(x);
        }
        out.push(f);
    }
    out
}

fn out_of_range_claims(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let range = live_range(&s.sts);
    claims_of(s)
        .into_iter()
        .filter(|c| c.template.is_some())
        .filter_map(|c| {
            let ord = c.ordinal?;
            if range.contains(&ord) {
                return None;
            }
            let obj = format!("pvc/{}", c.name);
            if !c.live_elsewhere.is_empty() {
                return Some(Finding::new(
                    "pvc.ambiguous",
                    Severity::Info,
                    obj,
                    format!(
                        "claim name also fits statefulset {} where ordinal {ord} is live: not an orphan",
                        c.live_elsewhere.join(", ")
                    ),
                ));
            }
            Some(
                Finding::new(
                    "pvc.out_of_range",
                    Severity::Warning,
                    obj,
                    format!(
                        "ordinal {ord} is outside the live range [{}, {}): claim left behind by a scale-down",
                        range.start, range.end
                    ),
                )
                .fix(format!("kubectl sts prune-pvcs {} -n {}", r.name, r.namespace)),
            )
        })
        .collect()
}

fn pending_claims(_s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    for row in &r.ordinals {
        for c in &row.claims {
            let obj = format!("pvc/{}", c.name);
            match c.phase.as_str() {
                "Pending" => out.push(Finding::new("pvc.pending", Severity::Error, obj, "claim is Pending (not bound to a volume)")),
                "Lost" => out.push(
                    Finding::new("pvc.lost", Severity::Error, obj, "claim is Lost: its PersistentVolume no longer exists")
                        .fix("restore the volume, or delete the claim and the pod to get a new empty one (data is gone)"),
                ),
                _ => {}
            }
        }
    }
    out
}
