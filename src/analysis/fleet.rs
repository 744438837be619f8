//! The fleet view: one line per StatefulSet and DaemonSet with a verdict
//! from its status alone (no pod reads).

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use serde::Serialize;

/// One line.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FleetRow {
    pub namespace: String,
    /// `StatefulSet` or `DaemonSet`.
    pub kind: &'static str,
    pub name: String,
    pub desired: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    /// `Healthy`, `Progressing`, `Degraded`, `ScaledToZero`.
    pub verdict: &'static str,
    pub reason: String,
}

/// The fleet document.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Fleet {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub items: Vec<FleetRow>,
}

/// Verdict for a StatefulSet.
pub fn sts_row(s: &StatefulSet) -> FleetRow {
    let spec = s.spec.clone().unwrap_or_default();
    let st = s.status.clone().unwrap_or_default();
    let desired = spec.replicas.unwrap_or(1);
    let ready = st.ready_replicas.unwrap_or(0);
    let updated = st.updated_replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    let observed = st.observed_generation.unwrap_or(0) >= s.metadata.generation.unwrap_or(0);
    let partition = spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0);
    let on_delete = spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.type_.as_deref())
        == Some("OnDelete");
    let want_updated = if on_delete {
        updated
    } else {
        (desired - partition).max(0)
    };
    let (verdict, reason) = if desired == 0 {
        ("ScaledToZero", "replicas 0".to_string())
    } else if !observed {
        (
            "Progressing",
            "spec change not yet observed by the controller".to_string(),
        )
    } else if st.replicas != desired {
        (
            "Progressing",
            format!("scaling: {} pods, {desired} desired", st.replicas),
        )
    } else if ready < desired {
        (
            "Degraded",
            format!("{} of {desired} pods not ready", desired - ready),
        )
    } else if updated < want_updated {
        (
            "Progressing",
            format!("rollout: {updated} of {want_updated} pods updated"),
        )
    } else if partition > 0 && st.current_revision != st.update_revision {
        (
            "Healthy",
            format!("partition {partition} holds {partition} pods on the old revision"),
        )
    } else {
        ("Healthy", String::new())
    };
    FleetRow {
        namespace: s.metadata.namespace.clone().unwrap_or_default(),
        kind: "StatefulSet",
        name: s.metadata.name.clone().unwrap_or_default(),
        desired,
        ready,
        updated,
        available,
        verdict,
        reason,
    }
}

/// Verdict for a DaemonSet.
pub fn ds_row(d: &DaemonSet) -> FleetRow {
    let st = d.status.clone().unwrap_or_default();
    let desired = st.desired_number_scheduled;
    let ready = st.number_ready;
    let updated = st.updated_number_scheduled.unwrap_or(0);
    let available = st.number_available.unwrap_or(0);
    let observed = st.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
    let (verdict, reason) = if !observed {
        (
            "Progressing",
            "spec change not yet observed by the controller".to_string(),
        )
    } else if desired == 0 {
        ("ScaledToZero", "no node is eligible".to_string())
    } else if st.current_number_scheduled < desired {
        (
            "Degraded",
            format!(
                "{} of {desired} eligible nodes have no pod",
                desired - st.current_number_scheduled
            ),
        )
    } else if ready < desired {
        (
            "Degraded",
            format!("{} of {desired} pods not ready", desired - ready),
        )
    } else if updated < desired {
        (
            "Progressing",
            format!("rollout: {updated} of {desired} pods updated"),
        )
    } else if st.number_misscheduled > 0 {
        (
            "Degraded",
            format!(
                "{} pods on nodes where they should not run",
                st.number_misscheduled
            ),
        )
    } else {
        ("Healthy", String::new())
    };
    FleetRow {
        namespace: d.metadata.namespace.clone().unwrap_or_default(),
        kind: "DaemonSet",
        name: d.metadata.name.clone().unwrap_or_default(),
        desired,
        ready,
        updated,
        available,
        verdict,
        reason,
    }
}

/// Builds the fleet, sorted by namespace, kind and name.
pub fn fleet(sets: &[StatefulSet], daemons: &[DaemonSet]) -> Fleet {
    let mut items: Vec<FleetRow> = sets
        .iter()
        .map(sts_row)
        .chain(daemons.iter().map(ds_row))
        .collect();
    items.sort_by(|a, b| (&a.namespace, a.kind, &a.name).cmp(&(&b.namespace, b.kind, &b.name)));
    Fleet {
        api_version: super::statefulset::API_VERSION,
        kind: "Fleet",
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sts(spec: serde_json::Value, status: serde_json::Value) -> StatefulSet {
        serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "ns", "generation": 2}, "spec": spec, "status": status}))
            .unwrap_or_default()
    }

    fn base_spec() -> serde_json::Value {
        json!({"replicas": 3, "selector": {}, "template": {}, "serviceName": "s"})
    }

    #[test]
    fn statefulset_verdicts() {
        let ok = json!({"replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "observedGeneration": 2, "currentRevision": "a", "updateRevision": "a"});
        assert_eq!(sts_row(&sts(base_spec(), ok.clone())).verdict, "Healthy");
        let mut not_observed = ok.clone();
        not_observed["observedGeneration"] = json!(1);
        assert_eq!(
            sts_row(&sts(base_spec(), not_observed)).verdict,
            "Progressing"
        );
        let mut unready = ok.clone();
        unready["readyReplicas"] = json!(2);
        let r = sts_row(&sts(base_spec(), unready));
        assert_eq!(
            (r.verdict, r.reason.as_str()),
            ("Degraded", "1 of 3 pods not ready")
        );
        let mut rolling = ok.clone();
        rolling["updatedReplicas"] = json!(1);
        assert_eq!(
            sts_row(&sts(base_spec(), rolling.clone())).reason,
            "rollout: 1 of 3 pods updated"
        );
        let mut spec = base_spec();
        spec["updateStrategy"] = json!({"rollingUpdate": {"partition": 2}});
        rolling["updateRevision"] = json!("b");
        let r = sts_row(&sts(spec, rolling));
        assert_eq!(
            (r.verdict, r.reason.as_str()),
            ("Healthy", "partition 2 holds 2 pods on the old revision")
        );
        let mut zero = base_spec();
        zero["replicas"] = json!(0);
        assert_eq!(
            sts_row(&sts(zero, json!({"replicas": 0, "observedGeneration": 2}))).verdict,
            "ScaledToZero"
        );
    }

    #[test]
    fn fleet_is_sorted_and_versioned() {
        let a = sts(base_spec(), json!({"replicas": 3, "observedGeneration": 2}));
        let f = fleet(&[a], &[]);
        assert_eq!(f.api_version, "kubectl-sts/v1");
        assert_eq!(f.kind, "Fleet");
        assert_eq!(f.items[0].verdict, "Degraded");
    }
}
