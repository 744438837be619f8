//! What changes between two pod templates, per container: the image, env,
//! resources, probes, volume mounts, containers added or removed, and the
//! pod-level fields (volumes, labels, annotations, the rest of the spec).
//!
//! Pure and small on purpose: a fuller change summary can replace it. Also a
//! local approximation of a strategic-merge patch of a pod template, for
//! `--dry-run`, which sends nothing to the API server.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde::Serialize;
use serde_json::{Map, Value};

/// Where a change is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "name")]
pub enum Scope {
    /// A container (`spec.containers`).
    Container(String),
    /// An init container (`spec.initContainers`).
    InitContainer(String),
    /// The pod: volumes, labels, annotations, other spec fields.
    Pod,
}

/// One change: `field` went from `from` to `to` (`None`: absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub scope: Scope,
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Longest value shown in full; longer ones are cut with `…`.
const SHOWN: usize = 60;

/// Every change from `old` to `new`, containers first (in `new`'s order,
/// then the removed ones), then the pod's.
pub fn diff(old: &PodTemplateSpec, new: &PodTemplateSpec) -> Vec<Change> {
    let a = serde_json::to_value(old).unwrap_or(Value::Null);
    let b = serde_json::to_value(new).unwrap_or(Value::Null);
    diff_values(&a, &b)
}

/// [`diff`] over the JSON form of two templates.
pub fn diff_values(a: &Value, b: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    for (key, init) in [("containers", false), ("initContainers", true)] {
        let old = by_key(&a["spec"][key], "name");
        let new = by_key(&b["spec"][key], "name");
        let scope = |n: &str| {
            if init {
                Scope::InitContainer(n.to_string())
            } else {
                Scope::Container(n.to_string())
            }
        };
        for (name, nc) in &new {
            match old.iter().find(|(n, _)| n == name) {
                None => out.push(Change {
                    scope: scope(name),
                    field: "container".into(),
                    from: None,
                    to: Some(format!("added, image {}", show(&nc["image"]))),
                }),
                Some((_, oc)) => container(&mut out, scope(name), oc, nc),
            }
        }
        for (name, oc) in &old {
            if !new.iter().any(|(n, _)| n == name) {
                out.push(Change {
                    scope: scope(name),
                    field: "container".into(),
                    from: Some(format!("image {}", show(&oc["image"]))),
                    to: None,
                });
            }
        }
    }
    keyed(
        &mut out,
        &Scope::Pod,
        "volume",
        &a["spec"]["volumes"],
        &b["spec"]["volumes"],
        "name",
    );
    for part in ["labels", "annotations"] {
        map_keys(
            &mut out,
            &Scope::Pod,
            part.trim_end_matches('s'),
            &a["metadata"][part],
            &b["metadata"][part],
        );
    }
    let skip = ["containers", "initContainers", "volumes"];
    fields(
        &mut out,
        &Scope::Pod,
        "spec.",
        &a["spec"],
        &b["spec"],
        &skip,
    );
    out
}

fn container(out: &mut Vec<Change>, scope: Scope, a: &Value, b: &Value) {
    if a["image"] != b["image"] {
        out.push(change(&scope, "image", &a["image"], &b["image"]));
    }
    keyed(out, &scope, "env", &a["env"], &b["env"], "name");
    for kind in ["limits", "requests"] {
        map_keys(
            out,
            &scope,
            &format!("resources.{kind}"),
            &a["resources"][kind],
            &b["resources"][kind],
        );
    }
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        if a[probe] != b[probe] {
            out.push(change(&scope, probe, &a[probe], &b[probe]));
        }
    }
    keyed(
        out,
        &scope,
        "volumeMount",
        &a["volumeMounts"],
        &b["volumeMounts"],
        "mountPath",
    );
    let skip = [
        "name",
        "image",
        "env",
        "resources",
        "readinessProbe",
        "livenessProbe",
        "startupProbe",
        "volumeMounts",
    ];
    fields(out, &scope, "", a, b, &skip);
    // Resources other than limits/requests (claims, …).
    let rs = ["limits", "requests"];
    fields(
        out,
        &scope,
        "resources.",
        &a["resources"],
        &b["resources"],
        &rs,
    );
}

/// A list of objects keyed by `key` (env by name, mounts by path, …).
fn keyed(out: &mut Vec<Change>, scope: &Scope, what: &str, a: &Value, b: &Value, key: &str) {
    let old = by_key(a, key);
    let new = by_key(b, key);
    for (k, v) in &new {
        match old.iter().find(|(n, _)| n == k) {
            None => out.push(Change {
                scope: scope.clone(),
                field: format!("{what} {k}"),
                from: None,
                to: Some(show(&without(v, key))),
            }),
            Some((_, o)) if o != v => out.push(Change {
                scope: scope.clone(),
                field: format!("{what} {k}"),
                from: Some(show(&without(o, key))),
                to: Some(show(&without(v, key))),
            }),
            Some(_) => {}
        }
    }
    for (k, o) in &old {
        if !new.iter().any(|(n, _)| n == k) {
            out.push(Change {
                scope: scope.clone(),
                field: format!("{what} {k}"),
                from: Some(show(&without(o, key))),
                to: None,
            });
        }
    }
}

/// A map of strings (labels, limits): one change per key.
fn map_keys(out: &mut Vec<Change>, scope: &Scope, what: &str, a: &Value, b: &Value) {
    let empty = Map::new();
    let am = a.as_object().unwrap_or(&empty);
    let bm = b.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = am.keys().chain(bm.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (x, y) = (
            am.get(k).unwrap_or(&Value::Null),
            bm.get(k).unwrap_or(&Value::Null),
        );
        if x != y {
            out.push(change(scope, &format!("{what} {k}"), x, y));
        }
    }
}

/// Every other field of an object, compared whole.
fn fields(out: &mut Vec<Change>, scope: &Scope, prefix: &str, a: &Value, b: &Value, skip: &[&str]) {
    let empty = Map::new();
    let am = a.as_object().unwrap_or(&empty);
    let bm = b.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = am.keys().chain(bm.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        if skip.contains(&k.as_str()) {
            continue;
        }
        let (x, y) = (
            am.get(k).unwrap_or(&Value::Null),
            bm.get(k).unwrap_or(&Value::Null),
        );
        if x != y {
            out.push(change(scope, &format!("{prefix}{k}"), x, y));
        }
    }
}

fn change(scope: &Scope, field: &str, a: &Value, b: &Value) -> Change {
    Change {
        scope: scope.clone(),
        field: field.to_string(),
        from: (!a.is_null()).then(|| show(a)),
        to: (!b.is_null()).then(|| show(b)),
    }
}

fn by_key(list: &Value, key: &str) -> Vec<(String, Value)> {
    list.as_array()
        .map(|l| {
            l.iter()
                .map(|v| (text(&v[key]), v.clone()))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
}

fn without(v: &Value, key: &str) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove(key);
        // An env var shows as its value when that is all it has.
        if m.len() == 1
            && let Some(x) = m.get("value")
        {
            return x.clone();
        }
    }
    v
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A value on one line, cut at [`SHOWN`] characters.
fn show(v: &Value) -> String {
    let s = text(v);
    if s.chars().count() > SHOWN {
        let cut: String = s.chars().take(SHOWN - 1).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// The merge keys of the pod template's lists (strategic merge).
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ports" => "containerPort",
        "hostAliases" => "ip",
        _ => return None,
    })
}

/// Applies a strategic-merge patch of a pod template to `template`, as far
/// as it can be done without the API server: maps merge, `null` removes a
/// key, lists with a merge key (containers, env, volumes, mounts, ports)
/// merge item by item and honour `$patch: delete`, `$patch: replace`
/// replaces, other lists are replaced. Defaulting and validation are the
/// API server's (`--dry-run=server` shows its result).
pub fn apply_template_patch(template: &Value, patch: &Value) -> Value {
    let mut out = template.clone();
    merge(&mut out, patch, "");
    out
}

fn merge(target: &mut Value, patch: &Value, field: &str) {
    match patch {
        Value::Object(pm) => {
            if pm.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut p = pm.clone();
                p.remove("$patch");
                *target = Value::Object(p);
                return;
            }
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Some(tm) = target.as_object_mut() {
                for (k, v) in pm {
                    if k.starts_with('$') {
                        continue;
                    }
                    if v.is_null() {
                        tm.remove(k);
                    } else {
                        merge(tm.entry(k.clone()).or_insert(Value::Null), v, k);
                    }
                }
            }
        }
        Value::Array(items) => match (merge_key(field), target.as_array_mut()) {
            (Some(key), Some(list)) => {
                for item in items {
                    let id = &item[key];
                    let pos = list.iter().position(|x| &x[key] == id);
                    let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                    match (pos, delete) {
                        (Some(i), true) => {
                            list.remove(i);
                        }
                        (None, true) => {}
                        (Some(i), false) => merge(&mut list[i], item, ""),
                        (None, false) => {
                            let mut fresh = Value::Null;
                            merge(&mut fresh, item, "");
                            list.push(fresh);
                        }
                    }
                }
            }
            _ => *target = patch.clone(),
        },
        other => *target = other.clone(),
    }
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
