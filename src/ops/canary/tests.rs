#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

fn sts(replicas: i32, partition: i32, start: i32, update: &str) -> StatefulSet {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "generation": 2, "resourceVersion": "10"},
        "spec": {
            "replicas": replicas, "serviceName": "x", "selector": {"matchLabels": {"app": "web"}},
            "ordinals": {"start": start},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}], "initContainers": [{"name": "init", "image": "busybox"}]}}
        },
        "status": {"replicas": replicas, "observedGeneration": 2, "updateRevision": update, "currentRevision": "web-a"}
    }))
    .unwrap()
}

fn pod(ordinal: i32, rev: &str, ready: bool) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": format!("web-{ordinal}"), "uid": format!("u{ordinal}"), "resourceVersion": "5", "labels": {"controller-revision-hash": rev}},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}],
            "containerStatuses": [{"name": "nginx", "image": "x", "imageID": "", "ready": ready, "restartCount": 0}]}
    }))
    .unwrap()
}

fn state(floor: i32, replicas: i32) -> CanaryState {
    let steps = parse_steps(DEFAULT_STEPS).unwrap();
    CanaryState {
        from: "web-a".into(),
        to: "web-b".into(),
        floor,
        replicas,
        counts: resolve_steps(&steps, replicas - floor).unwrap(),
        steps,
        completed: 0,
        phase: CanaryPhase::Running,
        from_data: json!({"spec": {"template": {"$patch": "replace", "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}}),
        started: "2026-01-01T00:00:00Z".into(),
        id: "c1".into(),
        by: "alice".into(),
        template: String::new(),
        request: None,
        last: None,
        gate: None,
        set_partition: None,
    }
}

#[test]
fn steps_parse_and_reject() {
    assert_eq!(
        parse_steps("1,25%,100%").unwrap(),
        vec![
            StepSpec::Count(1),
            StepSpec::Percent(25),
            StepSpec::Percent(100)
        ]
    );
    assert!(parse_steps("1,50%").unwrap_err().contains("end at 100%"));
    assert!(
        parse_steps("50%,25%,100%")
            .unwrap_err()
            .contains("increase")
    );
    assert!(parse_steps("2,1,100%").unwrap_err().contains("increase"));
    assert!(parse_steps("x,100%").is_err());
    assert!(parse_steps("0,100%").is_err());
    assert!(parse_steps("150%").is_err());
    assert!(parse_steps("1,,100%").is_err());
}

#[test]
fn steps_resolve_round_up_cap_and_merge() {
    let s = parse_steps("1,50%,100%").unwrap();
    assert_eq!(resolve_steps(&s, 3).unwrap(), vec![1, 2, 3]);
    assert_eq!(resolve_steps(&s, 2).unwrap(), vec![1, 2]); // 50% of 2 = 1 merges with 1
    assert_eq!(resolve_steps(&s, 1).unwrap(), vec![1]);
    let s = parse_steps("1,25%,100%").unwrap();
    assert_eq!(resolve_steps(&s, 10).unwrap(), vec![1, 3, 10]);
    let s = parse_steps("5,10%,100%").unwrap();
    assert!(resolve_steps(&s, 10).unwrap_err().contains("decrease"));
    assert_eq!(
        resolve_steps(&parse_steps("7,100%").unwrap(), 3).unwrap(),
        vec![3]
    );
}

#[test]
fn partition_respects_floor() {
    assert_eq!(partition_for(1, 3, 0), 2);
    assert_eq!(partition_for(3, 3, 0), 0);
    assert_eq!(partition_for(3, 4, 1), 1);
    assert_eq!(partition_for(9, 4, 1), 1);
}

#[test]
fn durations() {
    assert_eq!(
        parse_duration("--soak", "30s").unwrap(),
        Duration::from_secs(30)
    );
    assert_eq!(parse_duration("--soak", "0").unwrap(), Duration::ZERO);
    assert_eq!(
        parse_duration("--timeout", "5m").unwrap(),
        Duration::from_secs(300)
    );
    assert_eq!(
        parse_duration("--timeout", "250ms").unwrap(),
        Duration::from_millis(250)
    );
    assert!(parse_duration("--soak", "soon").is_err());
    assert!(parse_duration("--soak", "-1s").is_err());
    assert_eq!(
        parse_duration("--soak", "3d").unwrap(),
        Duration::from_secs(3 * 86400)
    );
    assert!(parse_duration("--soak", "3x").is_err());
}

#[test]
fn images_need_equals_and_existing_container() {
    assert!(parse_images(&["nginx".into()]).is_err());
    assert!(parse_images(&["=x".into()]).is_err());
    assert!(parse_images(&["nginx=nginx:1.26 ".into()]).is_err());
    assert!(parse_images(&[" nginx=nginx:1.26".into()]).is_err());
    let imgs = parse_images(&["nginx=nginx:1.26".into(), "init=busybox:2".into()]).unwrap();
    let s = sts(3, 0, 0, "web-a");
    let p = image_template_patch(&s, &imgs).unwrap();
    assert_eq!(
        p,
        json!({"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}], "initContainers": [{"name": "init", "image": "busybox:2"}]}})
    );
    let e = image_template_patch(&s, &parse_images(&["db=x".into()]).unwrap()).unwrap_err();
    assert!(
        e.contains("\"db\" not found") && e.contains("nginx, init"),
        "{e}"
    );
}

#[test]
fn images_unchanged_only_when_every_container_already_runs_its_image() {
    let s = sts(3, 0, 0, "web-a");
    let same = parse_images(&["nginx=nginx:1.25".into()]).unwrap();
    assert!(images_unchanged(&s, &same));
    let init_same = parse_images(&["nginx=nginx:1.25".into(), "init=busybox".into()]).unwrap();
    assert!(images_unchanged(&s, &init_same));
    let one_new = parse_images(&["nginx=nginx:1.25".into(), "init=busybox:2".into()]).unwrap();
    assert!(!images_unchanged(&s, &one_new));
    let missing = parse_images(&["db=nginx:1.25".into()]).unwrap();
    assert!(!images_unchanged(&s, &missing));
    let probe = template_probe("10", &json!({"spec": {"containers": []}}));
    assert_eq!(probe["metadata"]["resourceVersion"], "10");
    assert_eq!(probe["spec"]["template"]["spec"]["containers"], json!([]));
}

#[test]
fn template_patch_validation() {
    assert!(
        parse_template_patch(
            "spec:\n  containers:\n  - name: nginx\n    env: [{name: A, value: b}]\n"
        )
        .is_ok()
    );
    assert!(
        parse_template_patch("replicas: 3")
            .unwrap_err()
            .contains("unexpected key")
    );
    assert!(parse_template_patch("- a").is_err());
    assert!(parse_template_patch("{").is_err());
    assert!(parse_template_patch("{}").is_err());
}

#[test]
fn startable_and_refusals() {
    let pods: Vec<Pod> = (0..3).map(|i| pod(i, "web-a", true)).collect();
    assert_eq!(
        check_startable(&sts(3, 0, 0, "web-a"), &pods, None, false, "web -n ns").unwrap(),
        ("web-a".to_string(), 0)
    );
    // floor 1: pod 0 may be on an older revision
    let mut p2 = pods.clone();
    p2[0] = pod(0, "web-old", true);
    assert_eq!(
        check_startable(&sts(3, 1, 0, "web-a"), &p2, None, false, "web -n ns").unwrap(),
        ("web-a".to_string(), 1)
    );
    // … but not pod 1 (a rollout in flight)
    p2[1] = pod(1, "web-old", true);
    assert!(
        check_startable(&sts(3, 1, 0, "web-a"), &p2, None, false, "web -n ns")
            .unwrap_err()
            .reason
            .contains("in flight")
    );
    // not ready
    let mut p3 = pods.clone();
    p3[2] = pod(2, "web-a", false);
    assert!(
        check_startable(&sts(3, 0, 0, "web-a"), &p3, None, false, "web -n ns")
            .unwrap_err()
            .reason
            .contains("not Ready")
    );
    // HPA
    assert!(
        check_startable(&sts(3, 0, 0, "web-a"), &pods, Some("h"), false, "web -n ns")
            .unwrap_err()
            .reason
            .contains("HorizontalPodAutoscaler")
    );
    assert!(check_startable(&sts(3, 0, 0, "web-a"), &pods, Some("h"), true, "web -n ns").is_ok());
    // scaling
    let mut s = sts(3, 0, 0, "web-a");
    if let Some(st) = s.status.as_mut() {
        st.replicas = 2;
    }
    assert!(
        check_startable(&s, &pods, None, false, "web -n ns")
            .unwrap_err()
            .reason
            .contains("scaling")
    );
    // OnDelete
    let mut s = sts(3, 0, 0, "web-a");
    s.spec.as_mut().unwrap().update_strategy =
        serde_json::from_value(json!({"type": "OnDelete"})).ok();
    assert!(
        check_startable(&s, &pods, None, false, "web -n ns")
            .unwrap_err()
            .reason
            .contains("OnDelete")
    );
    // replicas 0
    assert!(
        check_startable(&sts(0, 0, 0, "web-a"), &[], None, false, "web -n ns")
            .unwrap_err()
            .reason
            .contains("0 replicas")
    );
    // ordinals.start 5: pods 5..8
    let pods5: Vec<Pod> = (5..8).map(|i| pod(i, "web-a", true)).collect();
    assert!(check_startable(&sts(3, 0, 5, "web-a"), &pods5, None, false, "web -n ns").is_ok());
    assert!(check_startable(&sts(3, 0, 5, "web-a"), &pods, None, false, "web -n ns").is_err());
}

#[test]
fn step_verdicts() {
    let st = state(0, 3);
    let s = sts(3, 2, 0, "web-b");
    let pods = vec![
        pod(0, "web-a", true),
        pod(1, "web-a", true),
        pod(2, "web-b", false),
    ];
    assert_eq!(
        evaluate_step(&s, &st, 2, &pods, Timestamp::now()).0,
        StepVerdict::Waiting {
            updated: 1,
            ready: 0,
            want: 1
        }
    );
    let pods = vec![
        pod(0, "web-a", true),
        pod(1, "web-a", true),
        pod(2, "web-b", true),
    ];
    assert_eq!(
        evaluate_step(&s, &st, 2, &pods, Timestamp::now()).0,
        StepVerdict::Healthy
    );
    // unhealthy old pod → pause
    let pods = vec![
        pod(0, "web-a", false),
        pod(1, "web-a", true),
        pod(2, "web-b", true),
    ];
    assert!(matches!(
        evaluate_step(&s, &st, 2, &pods, Timestamp::now()).0,
        StepVerdict::Paused(_)
    ));
    // crash-looping new pod → gate
    let mut bad = pod(2, "web-b", false);
    bad.status.as_mut().unwrap().container_statuses = serde_json::from_value(json!([{"name": "nginx", "image": "x", "imageID": "", "ready": false, "restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}])).ok();
    let pods = vec![pod(0, "web-a", true), pod(1, "web-a", true), bad];
    assert!(
        matches!(evaluate_step(&s, &st, 2, &pods, Timestamp::now()).0, StepVerdict::GateFailed(m) if m[0].cause.contains("CrashLoopBackOff"))
    );
    // replicas changed → pause
    let s4 = sts(4, 2, 0, "web-b");
    assert!(
        matches!(evaluate_step(&s4, &st, 2, &[], Timestamp::now()).0, StepVerdict::Paused(m) if m.contains("replicas"))
    );
}

#[test]
fn abort_verdicts_delete_stuck_pods_highest_first() {
    let mut st = state(1, 4);
    st.to = "web-b".into();
    let s = sts(4, 1, 0, "web-a");
    let pods = vec![
        pod(0, "web-a", true),
        pod(1, "web-a", true),
        pod(2, "web-b", false),
        pod(3, "web-b", false),
    ];
    match evaluate_abort(&s, &st, 2, &pods) {
        AbortVerdict::Delete(v) => assert_eq!(
            v.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
            vec!["web-3", "web-2"]
        ),
        v => panic!("{v:?}"),
    }
    // Ready pods on the bad revision are the controller's job.
    let pods = vec![
        pod(0, "web-a", true),
        pod(1, "web-a", true),
        pod(2, "web-a", true),
        pod(3, "web-b", true),
    ];
    assert_eq!(
        evaluate_abort(&s, &st, 2, &pods),
        AbortVerdict::Waiting {
            on_from_ready: 2,
            want: 3
        }
    );
    let pods: Vec<Pod> = (0..4).map(|i| pod(i, "web-a", true)).collect();
    assert_eq!(evaluate_abort(&s, &st, 2, &pods), AbortVerdict::Done);
    assert_eq!(
        evaluate_abort(&s, &st, 3, &pods),
        AbortVerdict::WaitObserved
    );
    let s2 = sts(4, 1, 0, "web-z");
    assert!(matches!(
        evaluate_abort(&s2, &st, 2, &pods),
        AbortVerdict::Foreign(_)
    ));
}

#[test]
fn abort_patch_replaces_template_and_restores_floor() {
    let st = state(1, 3);
    let p = abort_patch("42", &st, "abort");
    assert_eq!(p["spec"]["template"]["$patch"], "replace");
    assert_eq!(
        p["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    assert_eq!(p["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 1);
    assert_eq!(p["metadata"]["resourceVersion"], "42");
    let saved: CanaryState = serde_json::from_str(
        p["metadata"]["annotations"][STATE_ANNOTATION]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(saved.phase, CanaryPhase::Aborting);
}

#[test]
fn start_patch_holds_at_replicas_and_progress_reads_state() {
    let st = state(0, 3);
    let p = start_patch(
        "7",
        &json!({"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}]}}),
        3,
        &st,
        "c",
    );
    assert_eq!(p["spec"]["updateStrategy"]["rollingUpdate"]["partition"], 3);
    assert_eq!(p["metadata"]["resourceVersion"], "7");
    let mut s = sts(3, 3, 0, "web-b");
    s.metadata.annotations = Some(
        [(
            STATE_ANNOTATION.to_string(),
            p["metadata"]["annotations"][STATE_ANNOTATION]
                .as_str()
                .unwrap()
                .to_string(),
        )]
        .into(),
    );
    let pr = progress(&s).unwrap();
    assert_eq!(pr.counts, vec![1, 2, 3]);
    assert_eq!(pr.partition, Some(3));
    assert_eq!(pr.steps, vec!["1", "50%", "100%"]);
    assert!(progress(&sts(3, 0, 0, "a")).is_none());
}

#[test]
fn foreign_apply_owner_detected() {
    let mut s = sts(3, 0, 0, "a");
    s.metadata.managed_fields = serde_json::from_value(json!([
        {"manager": "argocd", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {"f:image": {}}}}}}}},
        {"manager": "kubectl-client-side-apply", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:updateStrategy": {"f:rollingUpdate": {"f:partition": {}}}}}}
    ])).ok();
    assert_eq!(
        foreign_owners(&s, &["nginx".into()]),
        vec!["argocd owns the image of container nginx".to_string()]
    );
}

#[test]
fn adoption_finds_the_single_held_revision() {
    // partition 2 of 3: pods 0,1 on web-a, pod 2 on web-b (update revision).
    let s = sts(3, 2, 0, "web-b");
    let pods = vec![
        pod(0, "web-a", true),
        pod(1, "web-a", true),
        pod(2, "web-b", true),
    ];
    assert_eq!(
        check_adoptable(&s, &pods, 0).unwrap(),
        ("web-a".to_string(), "web-b".to_string())
    );
    // several revisions between floor and partition
    let pods2 = vec![
        pod(0, "web-old", true),
        pod(1, "web-a", true),
        pod(2, "web-b", true),
    ];
    assert!(
        check_adoptable(&s, &pods2, 0)
            .unwrap_err()
            .reason
            .contains("several revisions")
    );
    // … unless the floor excludes the odd one
    assert_eq!(check_adoptable(&s, &pods2, 1).unwrap().0, "web-a");
    // nothing held
    let s0 = sts(3, 0, 0, "web-b");
    assert!(check_adoptable(&s0, &pods, 0).is_err());
    let s3 = sts(3, 3, 0, "web-b");
    let same: Vec<Pod> = (0..3).map(|i| pod(i, "web-b", true)).collect();
    assert!(
        check_adoptable(&s3, &same, 0)
            .unwrap_err()
            .reason
            .contains("no change is held")
    );
}

#[test]
fn failed_create_needs_repeats_since_the_step_and_this_statefulset() {
    let ev = |name: &str, reason: &str, count: i32, last: &str| -> Event {
        serde_json::from_value(json!({
            "metadata": {"name": "e"},
            "involvedObject": {"kind": "StatefulSet", "name": name},
            "reason": reason, "count": count, "lastTimestamp": last,
            "message": format!("{name} {count}")
        }))
        .unwrap()
    };
    let since = "2026-11-21T10:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .as_second();
    let late = "2026-11-21T10:00:05Z";
    let early = "2026-11-21T09:59:00Z";
    assert_eq!(
        failed_create(&[ev("web", "FailedCreate", 3, late)], "web", since).as_deref(),
        Some("web 3")
    );
    // Once or twice may be a transient quota race.
    assert_eq!(
        failed_create(&[ev("web", "FailedCreate", 2, late)], "web", since),
        None
    );
    // Before the step, another set, another reason: not this step's failure.
    assert_eq!(
        failed_create(&[ev("web", "FailedCreate", 9, early)], "web", since),
        None
    );
    assert_eq!(
        failed_create(&[ev("db", "FailedCreate", 9, late)], "web", since),
        None
    );
    assert_eq!(
        failed_create(&[ev("web", "SuccessfulCreate", 9, late)], "web", since),
        None
    );
    // The latest one wins.
    let two = [
        ev("web", "FailedCreate", 3, late),
        ev("web", "FailedCreate", 4, "2026-11-21T10:00:09Z"),
    ];
    assert_eq!(failed_create(&two, "web", since).as_deref(), Some("web 4"));
}

#[test]
fn steps_that_are_not_a_canary_are_refused() {
    // --steps 10,100% on 5 pods: one all-at-once step.
    let c = resolve_steps(&parse_steps("10,100%").unwrap(), 5).unwrap();
    assert_eq!(c, vec![5]);
    assert!(
        check_steps(&c, 5)
            .unwrap_err()
            .contains("single step that updates all 5 pod(s)")
    );
    // A first step over half the pods.
    assert!(
        check_steps(&[3, 5], 5)
            .unwrap_err()
            .contains("the first step updates 3 of the 5 pods above the floor, more than half")
    );
    // Half is fine; one pod above the floor is always all at once.
    assert_eq!(check_steps(&[1, 2], 2), Ok(()));
    assert_eq!(check_steps(&[1, 3, 5], 5), Ok(()));
    assert!(check_steps(&[1], 1).is_err());
}

#[test]
fn patches_shown_with_the_state_decoded() {
    let st = state(0, 3);
    let p = start_patch("7", &json!({"spec": {}}), 3, &st, "c");
    let shown = readable_patch(&p, false);
    let ann = &shown["metadata"]["annotations"][STATE_ANNOTATION];
    assert_eq!(ann["from"], "web-a");
    assert_eq!(ann["fromData"], st.from_data);
    let brief = readable_patch(&p, true);
    assert_eq!(
        brief["metadata"]["annotations"][STATE_ANNOTATION]["fromData"],
        "(the pod template of web-a, saved for an abort)"
    );
    // What is sent stays a string.
    assert!(p["metadata"]["annotations"][STATE_ANNOTATION].is_string());
    let sp = state_patch("9", &st);
    assert_eq!(sp["metadata"]["resourceVersion"], "9");
    let back: CanaryState = serde_json::from_str(
        sp["metadata"]["annotations"][STATE_ANNOTATION]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(back, st);
}

#[test]
fn ids_differ_by_time_and_process() {
    let a = make_id(1, 2);
    assert_eq!(a.len(), 12);
    assert_ne!(a, make_id(2, 2));
    assert_ne!(a, make_id(1, 3));
    assert_eq!(a, make_id(1, 2));
}

#[test]
fn states_without_the_new_fields_still_read() {
    // Written before ids, requests and template hashes existed.
    let old = json!({"from": "web-a", "to": "web-b", "floor": 0, "replicas": 3, "steps": [{"Count": 1}, {"Percent": 100}],
        "counts": [1, 3], "completed": 1, "phase": "running", "fromData": {}, "started": "2026-01-01T00:00:00Z"});
    let st: CanaryState = serde_json::from_value(old).unwrap();
    assert!(st.id.is_empty() && st.template.is_empty() && st.request.is_none());
    let text = serde_json::to_string(&st).unwrap();
    assert!(
        !text.contains("\"id\"") && !text.contains("request"),
        "{text}"
    );
}

#[test]
fn promote_sees_the_unready_pods_on_the_canary_revision() {
    let p = |name: &str, rev: &str, ready: bool| -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"controller-revision-hash": rev}},
            "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
        }))
        .unwrap()
    };
    let pods = vec![
        p("web-0", "old", false),
        p("web-1", "new", true),
        p("web-2", "new", false),
    ];
    assert_eq!(unready_on("new", &pods), vec!["web-2".to_string()]);
    assert!(unready_on("", &pods).is_empty());
    assert!(unready_on("other", &pods).is_empty());
}

#[test]
fn pods_below_the_floor_on_the_canary_revision_are_named() {
    let s: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "web"}, "spec": {"replicas": 3, "selector": {}, "template": {}, "serviceName": "s"}
    }))
    .unwrap();
    let p = |name: &str, rev: &str| -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": name, "labels": {"controller-revision-hash": rev}}}),
        )
        .unwrap()
    };
    let pods = vec![p("web-0", "new"), p("web-1", "old"), p("web-2", "new")];
    assert_eq!(
        below_floor_on(&s, "new", 1, &pods),
        vec!["web-0".to_string()]
    );
    assert_eq!(below_floor_on(&s, "new", 0, &pods), Vec::<String>::new());
}
