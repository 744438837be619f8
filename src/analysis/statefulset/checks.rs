//! The StatefulSet checks. Each is a small function from the snapshot (and
//! the rows already built) to findings; `run_all` is the registry.

use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;

use super::{OrdinalRow, ServiceVerdict, StsReport, live_range};
use crate::analysis::finding::{Finding, Severity};
use crate::analysis::health::Health;
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
    canary,
    forced_rollback,
];

/// Runs every check.
pub fn run_all(s: &StsSnapshot, r: &StsReport, now: Timestamp) -> Vec<Finding> {
    let mut all: Vec<Finding> = ALL.iter().flat_map(|c| c(s, r, now)).collect();
    // A pod caught in the forced-rollback trap is fixed by the trap's
    // recipe, not by fixing its image: drop the generic advice.
    let trap = all
        .iter()
        .find(|f| f.id == "rollout.forced_rollback_trap")
        .map(|f| (f.object.clone(), f.fix.clone()));
    if let Some((trapped, fix)) = trap {
        for f in all
            .iter_mut()
            .filter(|f| f.id == "pod.not_ready" && f.all_objects().contains(&trapped.as_str()))
        {
            f.fix = fix.clone();
        }
        // The trap says why the rollout does not move; "in progress" would not.
        all.retain(|f| f.id != "rollout.in_progress");
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

/// The governing Service's verdict (B9).
pub fn service_verdict(s: &StsSnapshot) -> ServiceVerdict {
    let name = s
        .sts
        .spec
        .as_ref()
        .and_then(|sp| sp.service_name.as_deref())
        .unwrap_or("");
    if name.is_empty() {
        return ServiceVerdict::None;
    }
    let Some(svc) = &s.service else {
        return ServiceVerdict::Missing;
    };
    let spec = svc.spec.clone().unwrap_or_default();
    if spec.cluster_ip.as_deref() != Some("None") {
        return ServiceVerdict::NotHeadless;
    }
    let sel = spec.selector.unwrap_or_default();
    let template_labels = s
        .sts
        .spec
        .as_ref()
        .and_then(|sp| sp.template.metadata.as_ref())
        .and_then(|m| m.labels.as_ref());
    if sel.is_empty() || !selector_matches(&sel, template_labels) {
        return ServiceVerdict::SelectorMismatch;
    }
    ServiceVerdict::Ok
}

/// The StatefulSet's `spec.selector.matchLabels` as `k=v,k2=v2` (a
/// selector every pod of the set matches, and only equality terms, which
/// `kubectl set selector` accepts).
fn pod_selector(s: &StsSnapshot) -> String {
    s.sts
        .spec
        .as_ref()
        .and_then(|sp| sp.selector.match_labels.as_ref())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// A pasteable command that creates headless Service `name` selecting `sel`
/// with `tcp` ports (`port:targetPort`).
fn create_headless(name: &str, sel: &str, tcp: &[String], scope: &str) -> String {
    let ports: String = tcp.iter().map(|p| format!(" --tcp={p}")).collect();
    format!(
        "kubectl create service clusterip {name} --clusterip=None{ports} {scope} --dry-run=client -o yaml | kubectl set selector --local -f - '{sel}' -o yaml | kubectl apply {scope} -f -"
    )
}

/// The existing Service's TCP ports as `port:targetPort`, and whether it
/// has ports of other protocols (which `--tcp` cannot carry over).
fn service_ports(s: &StsSnapshot) -> (Vec<String>, bool) {
    let ports = s
        .service
        .as_ref()
        .and_then(|v| v.spec.as_ref())
        .and_then(|sp| sp.ports.clone())
        .unwrap_or_default();
    let mut tcp = Vec::new();
    let mut other = false;
    for p in &ports {
        if p.protocol.as_deref().unwrap_or("TCP") != "TCP" {
            other = true;
            continue;
        }
        let target = match &p.target_port {
            Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i)) => {
                i.to_string()
            }
            Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(n)) => n.clone(),
            None => p.port.to_string(),
        };
        tcp.push(format!("{}:{target}", p.port));
    }
    (tcp, other)
}

fn service(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let name = &r.header.service_name;
    let obj = format!("service/{name}");
    let scope = &r.scope;
    let sel = pod_selector(s);
    match service_verdict(s) {
        ServiceVerdict::Missing => vec![Finding::new(
            "service.missing",
            Severity::Error,
            obj,
            format!("governing Service {name:?} does not exist: the pods have no stable DNS names"),
        )
        .fix(create_headless(name, &sel, &[], scope))],
        ServiceVerdict::NotHeadless => vec![Finding::new(
            "service.not_headless",
            Severity::Error,
            obj,
            format!(
                "governing Service {name:?} is not headless (clusterIP is not None): per-pod DNS records are not published. clusterIP cannot be changed in place: the fix recreates it headless with its TCP ports; clients of its cluster IP lose it, and its labels and annotations{} are not carried over",
                if service_ports(s).1 { " and non-TCP ports" } else { "" }
            ),
        )
        .fix(format!(
            "kubectl delete service {name} {scope} && {}",
            create_headless(name, &sel, &service_ports(s).0, scope)
        ))],
        ServiceVerdict::SelectorMismatch => vec![Finding::new(
            "service.selector_mismatch",
            Severity::Error,
            obj,
            format!(
                "governing Service {name:?} does not select the pods: its selector {} does not match the pod labels ({sel})",
                service_selector(s)
            ),
        )
        .fix(format!("kubectl set selector service {name} '{sel}' {scope}"))],
        ServiceVerdict::None => vec![Finding::new(
            "service.unset",
            Severity::Warning,
            format!("statefulset/{}", r.name),
            "spec.serviceName is empty: pods get no stable DNS names (serviceName cannot be changed on an existing StatefulSet)",
        )],
        ServiceVerdict::Ok => publish_not_ready(s, r),
    }
}

fn service_selector(s: &StsSnapshot) -> String {
    let sel = s
        .service
        .as_ref()
        .and_then(|v| v.spec.as_ref())
        .and_then(|sp| sp.selector.clone())
        .unwrap_or_default();
    if sel.is_empty() {
        return "(none)".to_string();
    }
    sel.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The governing Service sets `publishNotReadyAddresses: true`.
pub fn publishes_not_ready(s: &StsSnapshot) -> bool {
    s.service
        .as_ref()
        .and_then(|v| v.spec.as_ref())
        .and_then(|sp| sp.publish_not_ready_addresses)
        .unwrap_or(false)
}

/// Sound rule: under Parallel every pod starts at once and peers that find
/// each other by DNS need the names before anyone is Ready, which cluster
/// DNS only gives with `publishNotReadyAddresses: true` (B9). Under
/// OrderedReady pod N only starts once N-1 is Ready, so it is not needed.
fn publish_not_ready(s: &StsSnapshot, r: &StsReport) -> Vec<Finding> {
    let publishes = publishes_not_ready(s);
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
            "if the pods find their peers by DNS before they are Ready: kubectl patch service {name} {} -p '{{\"spec\":{{\"publishNotReadyAddresses\":true}}}}'",
            r.scope
        )),
    ]
}

/// Groups per-pod causes: one finding per distinct cause, listing every
/// pod that has it (in order). `items` are (object, cause, detail, fix);
/// the detail is kept when every pod in the group has the same one.
/// One pod's cause: (object, cause, detail, fix, health).
type Cause = (String, String, String, Option<String>, Health);
/// A pod in a group: (object, detail, fix, health).
type Member = (String, String, Option<String>, Health);

fn grouped(id: &str, severity: Severity, items: Vec<Cause>) -> Vec<Finding> {
    let mut groups: Vec<(String, Vec<Member>)> = Vec::new();
    for (obj, cause, detail, fix, health) in items {
        match groups.iter_mut().find(|(c, _)| *c == cause) {
            Some((_, g)) => g.push((obj, detail, fix, health)),
            None => groups.push((cause, vec![(obj, detail, fix, health)])),
        }
    }
    groups
        .into_iter()
        .map(|(cause, g)| {
            let same_detail = g.iter().all(|(_, d, _, _)| *d == g[0].1);
            let detail = if same_detail && !g[0].1.is_empty() {
                format!(": {}", g[0].1)
            } else {
                String::new()
            };
            let health = g.iter().map(|(_, _, _, h)| *h).max().unwrap_or_default();
            let mut f = Finding::new(id, severity, g[0].0.clone(), format!("{cause}{detail}"))
                .health(health);
            if g.len() > 1 {
                f.objects = g.iter().map(|(o, _, _, _)| o.clone()).collect();
            }
            if let Some(fix) = g[0].2.clone() {
                f = f.fix(fix);
            }
            f
        })
        .collect()
}

fn missing_pods(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    let ordered = policy(s) == "OrderedReady";
    let failed_create = latest_event(s, "StatefulSet", &r.name, &["FailedCreate"])
        .filter(|e| e.count.unwrap_or(1) >= 2 || e.series.is_some());
    let items: Vec<Cause> = r
        .ordinals
        .iter()
        .filter(|o| o.pod.is_none())
        .map(|o| {
            let blocker = r
                .ordinals
                .iter()
                .filter(|b| b.ordinal < o.ordinal)
                .find(|b| b.pod.as_ref().is_none_or(|p| !p.ready));
            let (cause, health) = match (ordered, blocker, failed_create) {
                (true, Some(b), _) if b.pod.is_some() => (
                    format!(
                        "in range but not created: OrderedReady waits for {}-{} to be Running and Ready first",
                        r.name, b.ordinal
                    ),
                    Health::Degraded,
                ),
                (_, _, Some(e)) => (
                    format!(
                        "in range but not created: the controller's pod creation fails (FailedCreate): {}",
                        e.message.clone().unwrap_or_default()
                    ),
                    Health::Stalled,
                ),
                _ => (
                    "in range but not created yet".to_string(),
                    Health::Progressing,
                ),
            };
            (
                format!("pod/{}-{}", r.name, o.ordinal),
                cause,
                String::new(),
                None,
                health,
            )
        })
        .collect();
    // Pods the controller cannot create will not appear without a person:
    // an error, as for a DaemonSet.
    let (stalled, rest): (Vec<Cause>, Vec<Cause>) =
        items.into_iter().partition(|i| i.4 == Health::Stalled);
    let mut out = grouped("pod.missing", Severity::Error, stalled);
    out.extend(grouped("pod.missing", Severity::Warning, rest));
    out
}

fn unready_pods(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    // Old pods still wait at or above the partition: an update revision
    // that cannot come up blocks the rollout for good.
    let rolling = matches!(r.header.rollout, super::RolloutState::InProgress { .. });
    let mut items = Vec::new();
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
        let updated = !r.header.update_revision.is_empty()
            && pod::label(p, "controller-revision-hash") == Some(r.header.update_revision.as_str());
        let mut health = Health::Degraded;
        let (cause, detail, fix) = if let Some((c, reason, m)) = pod::container_problem(p) {
            if rolling
                && updated
                && matches!(
                    reason.as_str(),
                    "CrashLoopBackOff" | "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName"
                )
            {
                health = Health::Stalled;
            }
            (
                format!("not Ready: container {c} is {reason}"),
                m,
                match reason.as_str() {
                    "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" => {
                        Some(format!("kubectl describe pod {name} {}", r.scope))
                    }
                    "CrashLoopBackOff" => {
                        Some(format!("kubectl logs {name} -c {c} --previous {}", r.scope))
                    }
                    _ => None,
                },
            )
        } else if let Some(m) = pod::unschedulable_message(p) {
            (
                "not Ready: cannot be scheduled".to_string(),
                m,
                Some(format!("kubectl describe pod {name} {}", r.scope)),
            )
        } else if pod::phase(p) == "Pending"
            && pod::node_name(p).is_none()
            && let Some(e) = latest_event(s, "Pod", &name, &["FailedScheduling"])
        {
            (
                "not Ready: cannot be scheduled".to_string(),
                e.message.clone().unwrap_or_default(),
                Some(format!("kubectl describe pod {name} {}", r.scope)),
            )
        } else if pod::phase(p) == "Running" {
            let probe =
                latest_event(s, "Pod", &name, &["Unhealthy"]).and_then(|e| e.message.clone());
            (
                "not Ready: running but its readiness probe is failing".to_string(),
                probe.unwrap_or_default(),
                Some(format!("kubectl describe pod {name} {}", r.scope)),
            )
        } else {
            (
                format!("not Ready: {}", pod::display_status(p)),
                String::new(),
                None,
            )
        };
        // Waiting for its claims to bind: the claims' own findings say
        // whether that is provisioning under way or stuck.
        if detail.contains("unbound immediate PersistentVolumeClaims") {
            health = Health::Progressing;
        }
        items.push((format!("pod/{name}"), cause, detail, fix, health));
    }
    let (waiting, rest): (Vec<Cause>, Vec<Cause>) =
        items.into_iter().partition(|i| i.4 == Health::Progressing);
    let mut out = grouped("pod.not_ready", Severity::Error, rest);
    out.extend(grouped("pod.not_ready", Severity::Warning, waiting));
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
                    "{n} left behind by a scale-down ({what} outside the live range {}): {}",
                    super::ordinal_range(&range),
                    c.out_of_range.join(", ")
                ),
            )
            .fix(format!("kubectl sts prune-pvcs {} {}", r.name, r.scope))
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
                "create StorageClass {c}, or fix storageClassName in the volumeClaimTemplate, then delete the claim (kubectl delete pvc {name} {ns}) so the controller recreates it"
            )),
        );
    }
    match latest_event(s, "PersistentVolumeClaim", &name, &[]) {
        Some(e) => {
            let reason = e.reason.clone().unwrap_or_default();
            let msg = e.message.clone().unwrap_or_default();
            let fix = if msg.contains("not found") && msg.contains("storageclass") {
                Some(format!(
                    "create the StorageClass, or fix storageClassName in the volumeClaimTemplate and delete the claim (kubectl delete pvc {name} {ns}) so the controller recreates it"
                ))
            } else if reason == "WaitForFirstConsumer" {
                None
            } else if reason == "ProvisioningFailed" {
                Some(format!(
                    "see the provisioner's message: kubectl describe pvc {name} {ns}"
                ))
            } else {
                None
            };
            (format!("claim is Pending: {reason}: {msg}"), fix)
        }
        None => (
            "claim is Pending (not bound to a volume; no event explains why)".to_string(),
            Some(format!("kubectl describe pvc {name} {ns}")),
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
                    let (msg, fix) = pending_cause(s, pvc, &r.scope);
                    // Binding or provisioning under way: not a problem yet.
                    let moving = ["WaitForFirstConsumer", "ProvisioningSucceeded", "ExternalProvisioning", "Provisioning:"]
                        .iter()
                        .any(|k| msg.contains(k));
                    let mut f = if moving {
                        Finding::new("pvc.pending", Severity::Info, obj, msg).health(Health::Progressing)
                    } else if msg.contains("does not exist") {
                        Finding::new("pvc.pending", Severity::Error, obj, msg).health(Health::Stalled)
                    } else {
                        Finding::new("pvc.pending", Severity::Error, obj, msg)
                    };
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
                        "expand the claim (its StorageClass must allow expansion): kubectl patch pvc {} {} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{w}\"}}}}}}}}'",
                        c.name, r.scope
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
                "if their data is no longer needed: kubectl sts prune-pvcs {} {} --include-deleted",
                r.name, r.scope
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

/// The commands that drive the canary in progress (resume, promote, abort).
fn canary_commands(r: &StsReport) -> String {
    format!(
        "resume: kubectl sts canary {n} {s} | finish now: kubectl sts canary {n} {s} --promote | roll back: kubectl sts canary {n} {s} --abort",
        n = r.name,
        s = r.scope
    )
}

/// Rollout progress by revision label (never by counters, never by
/// `currentRevision`, which OnDelete does not advance before 1.37).
fn rollout(s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    use super::RolloutState;
    let h = &r.header;
    if h.update_revision.is_empty() {
        return Vec::new();
    }
    let obj = format!("statefulset/{}", r.name);
    let old_rows = |rows: &mut dyn Iterator<Item = &OrdinalRow>| -> Vec<OrdinalRow> {
        rows.filter(|o| o.pod.as_ref().is_some_and(|p| !p.updated && !p.terminating))
            .cloned()
            .collect()
    };
    match h.rollout {
        RolloutState::Complete => Vec::new(),
        RolloutState::NotObserved => vec![
            Finding::new(
                "rollout.not_observed",
                Severity::Info,
                obj,
                format!(
                    "the controller has not yet observed generation {} (observed {})",
                    h.generation, h.observed_generation
                ),
            )
            .health(Health::Progressing),
        ],
        RolloutState::WaitingForDeletes { waiting } => {
            let mut old = old_rows(&mut r.ordinals.iter());
            old.sort_by_key(|o| std::cmp::Reverse(o.ordinal));
            let refs: Vec<&OrdinalRow> = old.iter().collect();
            vec![
                Finding::new(
                    "rollout.on_delete_pending",
                    Severity::Warning,
                    obj,
                    format!(
                        "updateStrategy OnDelete: {waiting} pod(s) still run an old revision and wait to be deleted by hand, one at a time, highest ordinal first, each after the previous replacement is Ready: {}",
                        names(&refs, &r.name)
                    ),
                )
                .health(Health::Stalled)
                .fix(format!(
                    "kubectl delete pod {}-{} {} --wait=false",
                    r.name, old[0].ordinal, r.scope
                )),
            ]
        }
        RolloutState::InProgress { updated, target } => {
            let old = old_rows(&mut updatable(r));
            let refs: Vec<&OrdinalRow> = old.iter().collect();
            let mut f = Finding::new(
                "rollout.in_progress",
                Severity::Info,
                obj,
                format!(
                    "rollout to {} in progress: {updated} of {target} pods at ordinal >= {} carry it; still old: {}",
                    h.update_revision,
                    h.ordinals_start + h.partition.unwrap_or(0),
                    names(&refs, &r.name)
                ),
            )
            .health(Health::Progressing);
            if s.sts
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(crate::analysis::canary::STATE_ANNOTATION))
            {
                f = f.fix(canary_commands(r));
            }
            vec![f]
        }
        RolloutState::Partitioned { held } => {
            let held_rows = old_rows(&mut r.ordinals.iter().filter(|o| o.below_partition));
            let refs: Vec<&OrdinalRow> = held_rows.iter().collect();
            let updated = r
                .ordinals
                .iter()
                .filter(|o| o.pod.as_ref().is_some_and(|p| p.updated))
                .count();
            let fix = if r.canary.is_some() {
                String::new()
            } else {
                format!(
                    "continue it step by step as a canary: kubectl sts canary {n} {sc} --adopt (or all at once: kubectl patch sts {n} {sc} -p '{{\"spec\":{{\"updateStrategy\":{{\"rollingUpdate\":{{\"partition\":0}}}}}}}}')",
                    n = r.name,
                    sc = r.scope
                )
            };
            let who = if r.canary.is_some() {
                "the canary's partition"
            } else {
                "partition"
            };
            vec![
                Finding::new(
                    "rollout.partitioned",
                    Severity::Info,
                    obj,
                    format!(
                        "{who} {} holds {held} pod(s) on the old revision: {} ({updated} of {} pods updated)",
                        h.partition.unwrap_or(0),
                        names(&refs, &r.name),
                        r.ordinals.len()
                    ),
                )
                .health(Health::Paused)
                .fix(fix),
            ]
            .into_iter()
            .map(|mut f| {
                if f.fix.as_deref() == Some("") {
                    f.fix = None;
                }
                f
            })
            .collect()
        }
    }
}

/// A canary in progress: where it stands, and the commands that drive it.
fn canary(_s: &StsSnapshot, r: &StsReport, _now: Timestamp) -> Vec<Finding> {
    use super::CanaryStagePhase as P;
    let (Some(c), Some(st)) = (&r.canary, &r.canary_stage) else {
        return Vec::new();
    };
    let obj = format!("statefulset/{}", r.name);
    let at = format!(
        "step {}/{}, {} pod(s) on {}",
        st.step,
        st.steps,
        st.updated,
        or_unknown(&c.to)
    );
    let (sev, health, msg, fix) = match st.phase {
        P::Aborting => (
            Severity::Warning,
            Health::Progressing,
            format!("canary abort in progress: pods return to {}", c.from),
            format!(
                "if no canary session is running, finish the abort: kubectl sts canary {} {} --abort",
                r.name, r.scope
            ),
        ),
        P::ChangedOutside => (
            Severity::Error,
            Health::Stalled,
            if r.header.update_revision != c.to {
                format!(
                    "canary {at}: the template was changed outside the canary (update revision {}, not the canary's {}): the canary cannot continue",
                    r.header.update_revision,
                    or_unknown(&c.to)
                )
            } else {
                format!(
                    "canary {at}: the partition was changed outside the canary (it is {}, the canary set {}): the canary cannot continue",
                    c.partition
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "unset".into()),
                    c.set_partition.unwrap_or_default()
                )
            },
            format!(
                "roll back (shows what it discards and asks): kubectl sts canary {n} {s} --abort | keep the change and end the canary: kubectl annotate sts {n} {s} {a}-",
                n = r.name,
                s = r.scope,
                a = crate::analysis::canary::STATE_ANNOTATION
            ),
        ),
        P::GateFailing => (
            Severity::Error,
            Health::Stalled,
            match &c.gate {
                Some(why) if st.failing.is_empty() => {
                    format!("canary {at}: the health gate failed: {why}")
                }
                _ => format!(
                    "canary {at}: {} on the canary's revision not Ready: the health gate fails",
                    st.failing.join(", ")
                ),
            },
            format!(
                "roll back: kubectl sts canary {} {} --abort",
                r.name, r.scope
            ),
        ),
        P::Settled => (
            Severity::Info,
            Health::Paused,
            format!(
                "canary {at}, all Ready: its session soaks them, or, with no session running, the canary waits between steps for a decision"
            ),
            format!("if no canary session is running, {}", canary_commands(r)),
        ),
        P::Complete => (
            Severity::Info,
            Health::Progressing,
            format!("canary {at}: every step done; the canary session clears its state"),
            format!(
                "if no canary session is running: kubectl sts canary {} {}",
                r.name, r.scope
            ),
        ),
        P::Running => (
            Severity::Info,
            Health::Progressing,
            format!("canary {at}: step in progress"),
            canary_commands(r),
        ),
    };
    vec![
        Finding::new(
            &format!("canary.{}", st.phase.as_str().replace('-', "_")),
            sev,
            obj,
            msg,
        )
        .health(health)
        .fix(fix),
    ]
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "(not yet known)" } else { s }
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
                "kubectl delete pod {}-{} {} --wait=false",
                r.name, o.ordinal, r.scope
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
                "rollout stuck (kubernetes#67250): {} is on revision {rev}, not the update revision {}, and never became Ready; under {} the controller waits for it forever and will not replace it, even after the template was reverted. {}",
                names(&bad, &r.name),
                r.header.update_revision,
                policy(s),
                if r.canary.is_some() {
                    "The canary's abort restores its saved template and deletes the stuck pods.".to_string()
                } else {
                    format!(
                        "Deleting the stuck pod(s), highest ordinal first, makes the controller recreate them from the update revision {}.",
                        r.header.update_revision
                    )
                }
            ),
        )
        .health(Health::Stalled)
        .fix(if r.canary.is_some() {
            format!("kubectl sts canary {} {} --abort", r.name, r.scope)
        } else {
            cmds
        }),    ]
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
