//! The StatefulSet checks. Each is a small function from the snapshot (and
//! the rows already built) to findings; `run_all` is the registry.

use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;

use super::{OrdinalRow, StsReport, live_range};
use crate::analysis::finding::{Finding, Severity};
use crate::analysis::pod;
use crate::model::StsSnapshot;

type Check = fn(&StsSnapshot, &StsReport, Timestamp) -> Vec<Finding>;

/// Every check, in the order they run (output is sorted afterwards).
pub const ALL: &[Check] = &[
    service,
    missing_pods,
    unready_pods,
    out_of_range_pods,
    out_of_range_claims,
    stray_claims,
    pending_claims,
    claim_drift,
    resizing_claims,
    rollout,
    forced_rollback,
];

/// Runs every check.
pub fn run_all(s: &StsSnapshot, r: &StsReport, now: Timestamp) -> Vec<Finding> {
    let mut all: Vec<Finding> = ALL.iter().flat_map(|c| c(s, r, now)).collect();
    // A pod caught in the forced-rollback trap is fixed by the trap's
    // recipe, not by fixing its image: drop the generic advice.
    let trapped: Vec<String> = all
        .iter()
        .filter(|f| f.id == "rollout.forced_rollback_trap")
        .map(|f| f.object.clone())
        .collect();
    for f in all
        .iter_mut()
        .filter(|f| f.id == "pod.not_ready" && trapped.contains(&f.object))
    {
        f.fix = Some("see rollout.forced_rollback_trap".into());
    }
    all
}

fn selector_matches(
    selector: &std::collections::BTreeMap<String, String>,
    labels: Option<&std::collections::BTreeMap<String, String>>,
) -> bool {
    let Some(l) = labels else {
        return selector.is_empty();
    };
    selector.iter().all(|(k, v)| l.get(k) == Some(v))
}

/// `ok`, `missing`, `not-headless`, `selector-mismatch` or `none`.
pub fn service_verdict(s: &StsSnapshot) -> &'static str {
    let name = s
        .sts
        .spec
        .as_ref()
        .and_then(|sp| sp.service_name.as_deref())
        .unwrap_or("");
    if name.is_empty() {
        return "none";
    }
    let Some(svc) = &s.service else {
        return "missing";
    };
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
        _ => publish_not_ready(s, r),
    }
}

/// Sound rule: under Parallel every pod starts at once and peers that find
/// each other by DNS need the names before anyone is Ready, which cluster
/// DNS only gives with `publishNotReadyAddresses: true` (B9). Under
/// OrderedReady pod N only starts once N-1 is Ready, so it is not needed.
fn publish_not_ready(s: &StsSnapshot, r: &StsReport) -> Vec<Finding> {
    let publishes = s
        .service
        .as_ref()
        .and_then(|v| v.spec.as_ref())
        .and_then(|sp| sp.publish_not_ready_addresses)
        .unwrap_or(false);
    if publishes || policy(s) != "Parallel" {
        return Vec::new();
    }
    let name = &r.header.service_name;
    vec![
        Finding::new(
            "service.not_ready_unpublished",
            Severity::Info,
            format!("service/{name}"),
            "podManagementPolicy is Parallel but the Service does not publish not-ready addresses: a pod's DNS name does not resolve until it is Ready, so peers that discover each other by DNS at start-up cannot",
        )
        .fix(format!(
            "if the pods find their peers by DNS before they are Ready: kubectl patch service {name} -n {} -p '{{\"spec\":{{\"publishNotReadyAddresses\":true}}}}'",
            r.namespace
        )),
    ]
}

fn missing_pods(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let ordered = policy(s) == "OrderedReady";
    r.ordinals
        .iter()
        .filter(|o| o.pod.is_none())
        .map(|o| {
            let blocker = r
                .ordinals
                .iter()
                .filter(|b| b.ordinal < o.ordinal)
                .find(|b| b.pod.as_ref().is_none_or(|p| !p.ready));
            let why = match (ordered, blocker) {
                (true, Some(b)) => format!(
                    ": OrderedReady waits for {}-{} to be Running and Ready first",
                    r.name, b.ordinal
                ),
                _ => match latest_event(s, "StatefulSet", &r.name, &["FailedCreate"]) {
                    Some(e) => format!(
                        ": the controller reports FailedCreate: {}",
                        e.message.clone().unwrap_or_default()
                    ),
                    None => String::new(),
                },
            };
            Finding::new(
                "pod.missing",
                Severity::Warning,
                format!("pod/{}-{}", r.name, o.ordinal),
                format!("ordinal {} is in range but has no pod{why}", o.ordinal),
            )
        })
        .collect()
}

fn unready_pods(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in &s.pods {
        let Some((parent, ord)) = p.metadata.name.as_deref().and_then(pod::parent_and_ordinal)
        else {
            continue;
        };
        if parent != r.name
            || !live_range(&s.sts).contains(&ord)
            || pod::is_ready(p)
            || pod::is_terminating(p)
        {
            continue;
        }
        let name = p.metadata.name.clone().unwrap_or_default();
        let (msg, fix) = if let Some((c, reason, m)) = pod::container_problem(p) {
            (
                format!(
                    "container {c} is {reason}{}",
                    if m.is_empty() {
                        String::new()
                    } else {
                        format!(": {m}")
                    }
                ),
                match reason.as_str() {
                    "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" => Some(format!(
                        "check the image name and pull secrets; kubectl describe pod {name} -n {}",
                        r.namespace
                    )),
                    "CrashLoopBackOff" => Some(format!(
                        "read the crash: kubectl logs {name} -c {c} --previous -n {}",
                        r.namespace
                    )),
                    _ => None,
                },
            )
        } else if let Some(m) = pod::unschedulable_message(p) {
            (
                format!("cannot be scheduled: {m}"),
                Some(format!("kubectl describe pod {name} -n {}", r.namespace)),
            )
        } else if pod::phase(p) == "Pending"
            && pod::node_name(p).is_none()
            && let Some(e) = latest_event(s, "Pod", &name, &["FailedScheduling"])
        {
            (
                format!(
                    "cannot be scheduled: {}",
                    e.message.clone().unwrap_or_default()
                ),
                Some(format!("kubectl describe pod {name} -n {}", r.namespace)),
            )
        } else if pod::phase(p) == "Running" {
            let probe =
                latest_event(s, "Pod", &name, &["Unhealthy"]).and_then(|e| e.message.clone());
            (
                match probe {
                    Some(m) => format!("running but its readiness probe is failing: {m}"),
                    None => "running but its readiness probe is failing".to_string(),
                },
                Some(format!("kubectl describe pod {name} -n {}", r.namespace)),
            )
        } else {
            (format!("is {}", pod::display_status(p)), None)
        };
        let mut f = Finding::new(
            "pod.not_ready",
            Severity::Error,
            format!("pod/{name}"),
            format!("not Ready: {msg}"),
        );
        if let Some(x) = fix {
            f = f.fix(x);
        }
        out.push(f);
    }
    out
}

/// Claims left behind by a scale-down, judged by the rules prune-pvcs uses
/// (`analysis::claims_policy`): one WARNING listing exactly the claims
/// `prune-pvcs NAME` would delete, and one INFO `pvc.kept` per reason for
/// those it never deletes (no fix: there is nothing to do).
fn out_of_range_claims(s: &StsSnapshot, r: &StsReport, now: Timestamp) -> Vec<Finding> {
    let c = crate::analysis::claims_policy::for_set(s, now);
    let obj = format!("statefulset/{}", r.name);
    let mut out = Vec::new();
    if !c.out_of_range.is_empty() {
        let range = live_range(&s.sts);
        let (n, what) = match c.out_of_range.len() {
            1 => ("1 claim".to_string(), "ordinal"),
            n => (format!("{n} claims"), "ordinals"),
        };
        out.push(
            Finding::new(
                "pvc.out_of_range",
                Severity::Warning,
                obj.clone(),
                format!(
                    "{n} left behind by a scale-down ({what} outside the live range [{}, {})): {}",
                    range.start,
                    range.end,
                    c.out_of_range.join(", ")
                ),
            )
            .fix(format!(
                "kubectl sts prune-pvcs {} -n {}",
                r.name, r.namespace
            ))
            .health(crate::analysis::health::Health::Healthy),
        );
    }
    for (reason, claims) in c.kept {
        out.push(
            Finding::new(
                "pvc.kept",
                Severity::Info,
                obj.clone(),
                format!("kept: {reason}: {}", claims.join(", ")),
            )
            .health(crate::analysis::health::Health::Healthy),
        );
    }
    out
}

// ---------------------------------------------------------------------------
// Helpers shared by the checks below.

/// The newest event about `kind/name` (by last timestamp, event time or
/// creation), optionally restricted to `reasons`.
pub fn latest_event<'a>(
    s: &'a StsSnapshot,
    kind: &str,
    name: &str,
    reasons: &[&str],
) -> Option<&'a Event> {
    s.events
        .iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some(kind)
                && e.involved_object.name.as_deref() == Some(name)
        })
        .filter(|e| reasons.is_empty() || e.reason.as_deref().is_some_and(|r| reasons.contains(&r)))
        .max_by_key(|e| event_time(e))
}

/// When an event last happened, in seconds since the epoch (0: unknown).
pub(crate) fn event_time(e: &Event) -> i64 {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
        })
        .unwrap_or(0)
}

/// Parses a Kubernetes quantity into bytes (binary and decimal suffixes,
/// plain numbers and exponents). `None` when it cannot be read.
pub fn quantity_bytes(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        _ => return None,
    };
    Some(n * mult)
}

fn storage_of(
    m: Option<
        &std::collections::BTreeMap<
            String,
            k8s_openapi::apimachinery::pkg::api::resource::Quantity,
        >,
    >,
) -> Option<String> {
    m.and_then(|r| r.get("storage")).map(|q| q.0.clone())
}

fn pvc_named<'a>(s: &'a StsSnapshot, name: &str) -> Option<&'a PersistentVolumeClaim> {
    s.claims
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some(name))
}

fn template_of<'a>(s: &'a StsSnapshot, name: &str) -> Option<&'a PersistentVolumeClaim> {
    s.sts
        .spec
        .as_ref()?
        .volume_claim_templates
        .as_ref()?
        .iter()
        .find(|t| t.metadata.name.as_deref() == Some(name))
}

// ---------------------------------------------------------------------------
// Claims.

/// Why a Pending claim is Pending, from its events and the StorageClasses.
fn pending_cause(
    s: &StsSnapshot,
    pvc: &PersistentVolumeClaim,
    ns: &str,
) -> (String, Option<String>) {
    let name = pvc.metadata.name.clone().unwrap_or_default();
    let class = pvc
        .spec
        .as_ref()
        .and_then(|sp| sp.storage_class_name.clone());
    if let (Some(c), Some(classes)) = (&class, &s.storage_classes)
        && !c.is_empty()
        && !classes
            .iter()
            .any(|sc| sc.metadata.name.as_deref() == Some(c.as_str()))
    {
        return (
            format!("claim is Pending: StorageClass {c:?} does not exist"),
            Some(format!(
                "create StorageClass {c}, or fix storageClassName in the volumeClaimTemplate, then delete the claim (kubectl delete pvc {name} -n {ns}) so the controller recreates it"
            )),
        );
    }
    match latest_event(s, "PersistentVolumeClaim", &name, &[]) {
        Some(e) => {
            let reason = e.reason.clone().unwrap_or_default();
            let msg = e.message.clone().unwrap_or_default();
            let fix = if msg.contains("not found") && msg.contains("storageclass") {
                Some(format!(
                    "create the StorageClass, or fix storageClassName in the volumeClaimTemplate and delete the claim (kubectl delete pvc {name} -n {ns}) so the controller recreates it"
                ))
            } else if reason == "WaitForFirstConsumer" {
                Some("nothing to fix if its pod is not scheduled yet: the volume binds once the pod is scheduled".to_string())
            } else if reason == "ProvisioningFailed" {
                Some(format!(
                    "see the provisioner's message: kubectl describe pvc {name} -n {ns}"
                ))
            } else {
                None
            };
            (format!("claim is Pending: {reason}: {msg}"), fix)
        }
        None => (
            "claim is Pending (not bound to a volume; no event explains why)".to_string(),
            Some(format!("kubectl describe pvc {name} -n {ns}")),
        ),
    }
}

fn pending_claims(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    for row in &r.ordinals {
        for c in &row.claims {
            let obj = format!("pvc/{}", c.name);
            match c.phase.as_str() {
                "Pending" => {
                    let Some(pvc) = pvc_named(s, &c.name) else { continue };
                    let (msg, fix) = pending_cause(s, pvc, &r.namespace);
                    let sev = if msg.contains("WaitForFirstConsumer") { Severity::Info } else { Severity::Error };
                    let mut f = Finding::new("pvc.pending", sev, obj, msg);
                    if let Some(x) = fix {
                        f = f.fix(x);
                    }
                    out.push(f);
                }
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

/// Claims whose size or class differs from the current template: the
/// controller never updates existing claims.
fn claim_drift(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    for row in &r.ordinals {
        for c in &row.claims {
            let (Some(pvc), Some(tpl)) = (pvc_named(s, &c.name), template_of(s, &c.template))
            else {
                continue;
            };
            if pvc.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let want = storage_of(
                tpl.spec
                    .as_ref()
                    .and_then(|sp| sp.resources.as_ref())
                    .and_then(|r| r.requests.as_ref()),
            );
            let have = storage_of(
                pvc.spec
                    .as_ref()
                    .and_then(|sp| sp.resources.as_ref())
                    .and_then(|r| r.requests.as_ref()),
            );
            if let (Some(w), Some(h)) = (&want, &have)
                && let (Some(wb), Some(hb)) = (quantity_bytes(w), quantity_bytes(h))
                && (wb - hb).abs() > 0.5
            {
                let fix = if wb > hb {
                    format!(
                        "expand the claim (its StorageClass must allow expansion): kubectl patch pvc {} -n {} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{w}\"}}}}}}}}'",
                        c.name, r.namespace
                    )
                } else {
                    "claims cannot shrink: keep the larger claim or migrate the data to a new claim"
                        .to_string()
                };
                out.push(
                    Finding::new(
                        "pvc.size_drift",
                        Severity::Warning,
                        format!("pvc/{}", c.name),
                        format!("claim requests {h} but volumeClaimTemplate {} now asks {w}: the controller never resizes existing claims", c.template),
                    )
                    .fix(fix),
                );
            }
            let want_class = tpl
                .spec
                .as_ref()
                .and_then(|sp| sp.storage_class_name.clone());
            let have_class = pvc
                .spec
                .as_ref()
                .and_then(|sp| sp.storage_class_name.clone());
            if let Some(wc) = want_class
                && have_class.as_deref() != Some(wc.as_str())
            {
                out.push(
                    Finding::new(
                        "pvc.class_drift",
                        Severity::Warning,
                        format!("pvc/{}", c.name),
                        format!(
                            "claim has StorageClass {} but volumeClaimTemplate {} now asks {wc}: existing claims keep their class",
                            have_class.as_deref().unwrap_or("<none>"),
                            c.template
                        ),
                    )
                    .fix("a claim's class cannot change; migrate the data, or delete the claim and its pod to get a new (empty) one"),
                );
            }
        }
    }
    out
}

/// A volume expansion under way: allocatedResources or spec above status
/// capacity, or the Resizing / FileSystemResizePending conditions.
fn resizing_claims(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    for row in &r.ordinals {
        for c in &row.claims {
            let Some(pvc) = pvc_named(s, &c.name) else {
                continue;
            };
            let st = pvc.status.clone().unwrap_or_default();
            if st.phase.as_deref() != Some("Bound") {
                continue;
            }
            let cap = storage_of(st.capacity.as_ref());
            let spec_req = storage_of(
                pvc.spec
                    .as_ref()
                    .and_then(|sp| sp.resources.as_ref())
                    .and_then(|r| r.requests.as_ref()),
            );
            let alloc = storage_of(st.allocated_resources.as_ref());
            let bigger = |a: &Option<String>| match (
                a.as_deref().and_then(quantity_bytes),
                cap.as_deref().and_then(quantity_bytes),
            ) {
                (Some(x), Some(y)) => x > y + 0.5,
                _ => false,
            };
            let cond = st.conditions.iter().flatten().find(|k| {
                (k.type_ == "Resizing" || k.type_ == "FileSystemResizePending")
                    && k.status == "True"
            });
            if cond.is_some() || bigger(&spec_req) || bigger(&alloc) {
                let target = alloc.clone().or(spec_req.clone()).unwrap_or_default();
                let stage = match cond {
                    Some(k) if k.type_ == "FileSystemResizePending" => {
                        "waiting for the node to grow the file system (pod restart may be needed)"
                            .to_string()
                    }
                    Some(k) => format!("{} ({})", k.type_, k.message.clone().unwrap_or_default()),
                    None => "waiting for the volume to be expanded".to_string(),
                };
                out.push(Finding::new(
                    "pvc.resizing",
                    Severity::Info,
                    format!("pvc/{}", c.name),
                    format!(
                        "resize in progress: {} → {target}: {stage}",
                        cap.unwrap_or_else(|| "?".into())
                    ),
                ));
            }
        }
    }
    out
}

/// Claims of a volumeClaimTemplate the set no longer has that
/// `prune-pvcs NAME --include-deleted` would delete, one WARNING per old
/// template (the kept ones are `pvc.kept`, from `out_of_range_claims`).
fn stray_claims(s: &StsSnapshot, r: &StsReport, now: Timestamp) -> Vec<Finding> {
    crate::analysis::claims_policy::for_set(s, now)
        .removed_templates
        .into_iter()
        .map(|(template, claims)| {
            Finding::new(
                "pvc.template_removed",
                Severity::Warning,
                format!("statefulset/{}", r.name),
                format!(
                    "{} of volumeClaimTemplate {template:?}, which the StatefulSet no longer has (removed or renamed), mounted by no pod: {}",
                    if claims.len() == 1 { "1 claim".to_string() } else { format!("{} claims", claims.len()) },
                    claims.join(", ")
                ),
            )
            .fix(format!(
                "if their data is no longer needed: kubectl sts prune-pvcs {} -n {} --include-deleted",
                r.name, r.namespace
            ))
            .health(crate::analysis::health::Health::Healthy)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Rollout.

fn strategy(s: &StsSnapshot) -> String {
    s.sts
        .spec
        .as_ref()
        .and_then(|sp| sp.update_strategy.as_ref())
        .and_then(|u| u.type_.clone())
        .unwrap_or_else(|| "RollingUpdate".into())
}

fn policy(s: &StsSnapshot) -> String {
    s.sts
        .spec
        .as_ref()
        .and_then(|sp| sp.pod_management_policy.clone())
        .unwrap_or_else(|| "OrderedReady".into())
}

/// Rows at index ≥ partition (the ones that should get the update revision).
fn updatable(r: &StsReport) -> impl Iterator<Item = &OrdinalRow> {
    r.ordinals.iter().filter(|o| !o.below_partition)
}

fn names(rows: &[&OrdinalRow], sts: &str) -> String {
    rows.iter()
        .map(|o| format!("{sts}-{}", o.ordinal))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rollout progress by revision label (never by counters).
fn rollout(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let h = &r.header;
    if h.update_revision.is_empty() {
        return Vec::new();
    }
    let obj = format!("statefulset/{}", r.name);
    let want: Vec<&OrdinalRow> = updatable(r).collect();
    let old: Vec<&OrdinalRow> = want
        .iter()
        .copied()
        .filter(|o| o.pod.as_ref().is_some_and(|p| !p.updated && !p.terminating))
        .collect();
    let done = want
        .iter()
        .filter(|o| o.pod.as_ref().is_some_and(|p| p.updated))
        .count();
    let mut out = Vec::new();
    if strategy(s) == "OnDelete" {
        let all_old: Vec<&OrdinalRow> = r
            .ordinals
            .iter()
            .filter(|o| o.pod.as_ref().is_some_and(|p| !p.updated && !p.terminating))
            .collect();
        if !all_old.is_empty() {
            let mut sorted = all_old.clone();
            sorted.sort_by_key(|o| std::cmp::Reverse(o.ordinal));
            out.push(
                Finding::new(
                    "rollout.on_delete_pending",
                    Severity::Warning,
                    obj,
                    format!(
                        "updateStrategy OnDelete: {} pod(s) still run an old revision and wait to be deleted by hand: {}",
                        all_old.len(),
                        names(&all_old, &r.name)
                    ),
                )
                .fix(format!(
                    "delete them one at a time, highest ordinal first, waiting for each replacement to be Ready: kubectl delete pod {}-{} -n {}",
                    r.name, sorted[0].ordinal, r.namespace
                )),
            );
        }
        return out;
    }
    if !old.is_empty() {
        out.push(Finding::new(
            "rollout.in_progress",
            Severity::Info,
            obj.clone(),
            format!(
                "rollout to {} in progress: {done} of {} pods at ordinal >= {} carry it; still old: {}",
                h.update_revision,
                want.len(),
                h.ordinals_start + h.partition.unwrap_or(0),
                names(&old, &r.name)
            ),
        ));
    }
    let held: Vec<&OrdinalRow> = r
        .ordinals
        .iter()
        .filter(|o| o.below_partition && o.pod.as_ref().is_some_and(|p| !p.updated))
        .collect();
    if !held.is_empty() {
        out.push(
            Finding::new(
                "rollout.partitioned",
                Severity::Info,
                obj,
                format!(
                    "partition {} holds {} on the old revision ({} of {} pods updated)",
                    h.partition.unwrap_or(0),
                    names(&held, &r.name),
                    r.ordinals.iter().filter(|o| o.pod.as_ref().is_some_and(|p| p.updated)).count(),
                    r.ordinals.len()
                ),
            )
            .fix(format!(
                "to continue the rollout lower the partition: kubectl patch sts {} -n {} -p '{{\"spec\":{{\"updateStrategy\":{{\"rollingUpdate\":{{\"partition\":0}}}}}}}}'",
                r.name, r.namespace
            )),
        );
    }
    out
}

/// maxUnavailable resolved against replicas (percent rounds down, min 1).
fn max_unavailable(r: &StsReport) -> i32 {
    let Some(m) = &r.header.max_unavailable else {
        return 1;
    };
    let v = if let Some(p) = m.strip_suffix('%') {
        p.trim()
            .parse::<i64>()
            .map(|p| (i64::from(r.header.replicas) * p / 100) as i32)
            .unwrap_or(1)
    } else {
        m.parse().unwrap_or(1)
    };
    v.max(1)
}

/// The forced-rollback trap (kubernetes#67250), B8 detection rule.
fn forced_rollback(s: &StsSnapshot, r: &StsReport, now: Timestamp) -> Vec<Finding> {
    if strategy(s) != "RollingUpdate" || r.header.update_revision.is_empty() {
        return Vec::new();
    }
    let min_ready = r.header.min_ready_seconds;
    let unhealthy = |o: &OrdinalRow| -> bool {
        let Some(p) = by_name(s, &format!("{}-{}", r.name, o.ordinal)) else {
            return false;
        };
        // A terminating pod blocks OrderedReady too (B5).
        pod::is_terminating(p)
            || !(pod::is_running_and_ready(p) && pod::is_available(p, min_ready, now))
    };
    // B8: the lowest-ordinal unhealthy pod at or above the partition. If that
    // one is terminating or terminal, the controller recreates it: no trap.
    let stuck: Vec<&OrdinalRow> = updatable(r).filter(|o| unhealthy(o)).collect();
    let Some(first) = stuck.first() else {
        return Vec::new();
    };
    if by_name(s, &format!("{}-{}", r.name, first.ordinal))
        .is_some_and(|p| matches!(pod::phase(p), "Failed" | "Succeeded") || pod::is_terminating(p))
    {
        return Vec::new();
    }
    let first_pod = first.pod.as_ref();
    if first_pod.is_none_or(|p| p.updated) {
        return Vec::new();
    }
    let blocked = if policy(s) == "OrderedReady" {
        true
    } else {
        // Parallel: stuck only when the maxUnavailable budget is used up (B8, #137409).
        let unavailable = r
            .ordinals
            .iter()
            .filter(|o| o.pod.is_none() || unhealthy(o))
            .count() as i32;
        r.header.max_unavailable.is_some() && unavailable >= max_unavailable(r)
    };
    if !blocked {
        return Vec::new();
    }
    let bad: Vec<&OrdinalRow> = stuck
        .iter()
        .copied()
        .filter(|o| o.pod.as_ref().is_some_and(|p| !p.updated && !p.terminating))
        .collect();
    let mut by_desc = bad.clone();
    by_desc.sort_by_key(|o| std::cmp::Reverse(o.ordinal));
    let cmds = by_desc
        .iter()
        .map(|o| {
            format!(
                "kubectl delete pod {}-{} -n {}",
                r.name, o.ordinal, r.namespace
            )
        })
        .collect::<Vec<_>>()
        .join(" && ");
    let rev = first_pod
        .and_then(|p| p.revision.clone())
        .unwrap_or_else(|| "?".into());
    vec![
        Finding::new(
            "rollout.forced_rollback_trap",
            Severity::Error,
            format!("pod/{}-{}", r.name, first.ordinal),
            format!(
                "rollout stuck (kubernetes#67250): {} is on revision {rev}, not the update revision {}, and never became Ready; under {} the controller waits for it forever and will not replace it, even after the template was reverted",
                names(&bad, &r.name),
                r.header.update_revision,
                policy(s)
            ),
        )
        .fix(format!(
            "make sure the template is the one you want (revert it first if needed: kubectl rollout undo sts/{} -n {}), THEN delete the stuck pod(s) so they are recreated from {}: {cmds}",
            r.name, r.namespace, r.header.update_revision
        )),
    ]
}

fn by_name<'a>(s: &'a StsSnapshot, name: &str) -> Option<&'a Pod> {
    s.pods
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(name))
}

/// Pods with ordinals outside the live range (being removed, or stray).
fn out_of_range_pods(_s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    r.out_of_range
        .iter()
        .filter_map(|o| {
            let p = o.pod.as_ref()?;
            Some(Finding::new(
                "pod.out_of_range",
                if p.terminating { Severity::Info } else { Severity::Warning },
                format!("pod/{}", p.name),
                if p.terminating {
                    format!("ordinal {} is outside the live range and its pod is terminating (scale-down in progress)", o.ordinal)
                } else {
                    format!("ordinal {} is outside the live range but its pod still runs (scale-down not finished, or blocked by an unhealthy pod under OrderedReady)", o.ordinal)
                },
            ))
        })
        .collect()
}
