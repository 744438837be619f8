#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;

fn c(name: &str, field: &str, from: Option<&str>, to: Option<&str>) -> Change {
    Change {
        scope: Scope::Container(name.into()),
        field: field.into(),
        from: from.map(str::to_string),
        to: to.map(str::to_string),
    }
}

#[test]
fn image_env_resources_probes_mounts_and_containers() {
    let a = json!({"metadata": {"labels": {"app": "web"}}, "spec": {
        "containers": [
            {"name": "nginx", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "resources": {"limits": {"cpu": "1"}}, "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
             "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
            {"name": "old", "image": "busybox"}
        ],
        "volumes": [{"name": "data", "emptyDir": {}}]
    }});
    let b = json!({"metadata": {"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}, "spec": {
        "containers": [
            {"name": "nginx", "image": "nginx:1.26", "env": [{"name": "A", "value": "1"}, {"name": "HOTFIX", "value": "1"}],
             "resources": {"limits": {"cpu": "2"}, "requests": {"memory": "64Mi"}},
             "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "cache", "mountPath": "/cache"}]},
            {"name": "sidecar", "image": "envoy:1"}
        ],
        "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}]
    }});
    assert_eq!(
        diff_values(&a, &b),
        vec![
            c("nginx", "image", Some("nginx:1.25"), Some("nginx:1.26")),
            c("nginx", "env HOTFIX", None, Some("1")),
            c("nginx", "env B", Some("2"), None),
            c("nginx", "resources.limits cpu", Some("1"), Some("2")),
            c("nginx", "resources.requests memory", None, Some("64Mi")),
            c(
                "nginx",
                "readinessProbe",
                Some(r#"{"httpGet":{"path":"/","port":80}}"#),
                None
            ),
            c(
                "nginx",
                "volumeMount /cache",
                None,
                Some(r#"{"name":"cache"}"#)
            ),
            c("sidecar", "container", None, Some("added, image envoy:1")),
            c("old", "container", Some("image busybox"), None),
            Change {
                scope: Scope::Pod,
                field: "volume cache".into(),
                from: None,
                to: Some(r#"{"emptyDir":{}}"#.into())
            },
            Change {
                scope: Scope::Pod,
                field: "annotation kubectl.kubernetes.io/restartedAt".into(),
                from: None,
                to: Some("now".into())
            },
        ]
    );
    assert!(diff_values(&a, &a).is_empty());
}

#[test]
fn long_values_are_cut() {
    let long = "x".repeat(100);
    let a = json!({"spec": {"containers": [{"name": "n", "image": "a"}]}});
    let b = json!({"spec": {"containers": [{"name": "n", "image": long}]}});
    let d = diff_values(&a, &b);
    assert_eq!(d[0].to.as_deref().unwrap().chars().count(), 60);
    assert!(d[0].to.as_deref().unwrap().ends_with('…'));
}

#[test]
fn local_strategic_merge_follows_the_merge_keys() {
    let t = json!({"spec": {"containers": [
        {"name": "nginx", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}]},
        {"name": "side", "image": "s:1"}
    ], "tolerations": [{"key": "a"}]}});
    let p = json!({"spec": {"containers": [
        {"name": "nginx", "env": [{"name": "B", "value": "2"}, {"name": "A", "$patch": "delete"}]},
        {"name": "new", "image": "n:1"}
    ], "tolerations": [{"key": "b"}]}});
    assert_eq!(
        apply_template_patch(&t, &p),
        json!({"spec": {"containers": [
            {"name": "nginx", "image": "nginx:1.25", "env": [{"name": "B", "value": "2"}]},
            {"name": "side", "image": "s:1"},
            {"name": "new", "image": "n:1"}
        ], "tolerations": [{"key": "b"}]}})
    );
    // null removes a key; $patch: replace replaces a map.
    let p = json!({"metadata": {"labels": {"$patch": "replace", "x": "y"}}, "spec": {"tolerations": null}});
    let t =
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"tolerations": [{"key": "a"}]}});
    assert_eq!(
        apply_template_patch(&t, &p),
        json!({"metadata": {"labels": {"x": "y"}}, "spec": {}})
    );
}
