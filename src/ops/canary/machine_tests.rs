//! Every transition of the step machine and of the ownership check, on
//! synthetic snapshots with a paused clock (`now` is a parameter).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::super::ownership::{self, Lost, Removal};
use super::super::{
    CanaryPhase, CanaryState, Request, RequestAction, STATE_ANNOTATION, parse_steps, resolve_steps,
};
use super::*;

const T0: &str = "2026-11-21T10:00:00Z";

fn t(secs: i64) -> Timestamp {
    T0.parse::<Timestamp>().unwrap() + k8s_openapi::jiff::SignedDuration::from_secs(secs)
}

/// The canary's pod template (`image`), as the StatefulSet carries it.
fn template(image: &str) -> serde_json::Value {
    json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": image}]}})
}

/// A StatefulSet with `replicas`, `partition`, the update revision, the
/// template's image and, when given, the canary state.
fn sts(
    replicas: i32,
    partition: i32,
    update: &str,
    image: &str,
    st: Option<&CanaryState>,
) -> StatefulSet {
    let mut s: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "web", "uid": "uid-1", "generation": 3, "resourceVersion": "10"},
        "spec": {
            "replicas": replicas, "serviceName": "x", "selector": {"matchLabels": {"app": "web"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}},
            "template": template(image)
        },
        "status": {"replicas": replicas, "observedGeneration": 3, "updateRevision": update, "currentRevision": "web-a"}
    }))
    .unwrap();
    if let Some(st) = st {
        s.metadata.annotations = Some(
            [(
                STATE_ANNOTATION.to_string(),
                serde_json::to_string(st).unwrap(),
            )]
            .into(),
        );
    }
    s
}

fn pod(ordinal: i32, rev: &str, ready: bool, restarts: i32) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": format!("web-{ordinal}"), "uid": format!("u{ordinal}-{rev}"), "resourceVersion": "5", "labels": {"controller-revision-hash": rev}},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}],
            "containerStatuses": [{"name": "nginx", "image": "x", "imageID": "", "ready": ready, "restartCount": restarts}]}
    }))
    .unwrap()
}

fn crashing(ordinal: i32, rev: &str) -> Pod {
    let mut p = pod(ordinal, rev, false, 3);
    p.status.as_mut().unwrap().container_statuses = serde_json::from_value(json!([{"name": "nginx", "image": "x", "imageID": "", "ready": false, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}}}])).ok();
    p
}

/// The canary `web-a → web-b` on 3 replicas, floor 0, steps 1,50%,100%,
/// whose template runs nginx:1.26.
fn mine() -> CanaryState {
    let steps = parse_steps("1,50%,100%").unwrap();
    let tpl: k8s_openapi::api::core::v1::PodTemplateSpec =
        serde_json::from_value(template("nginx:1.26")).unwrap();
    CanaryState {
        from: "web-a".into(),
        to: "web-b".into(),
        floor: 0,
        replicas: 3,
        counts: resolve_steps(&steps, 3).unwrap(),
        steps,
        completed: 0,
        phase: CanaryPhase::Running,
        from_data: json!({"spec": {"template": {"$patch": "replace", "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}}),
        started: T0.into(),
        id: "c1".into(),
        by: "alice".into(),
        template: ownership::hash_template(&tpl),
        request: None,
        last: None,
        gate: None,
        set_partition: None,
    }
}

/// The canary's StatefulSet at `partition` (state on it, template the canary's).
fn at(partition: i32) -> StatefulSet {
    sts(3, partition, "web-b", "nginx:1.26", Some(&mine()))
}

fn snap<'a>(s: &'a StatefulSet, pods: &'a [Pod]) -> Snapshot<'a> {
    Snapshot {
        sts: Some(s),
        pods,
        failed_creates: &[],
    }
}

fn watch(partition: i32, soak: u64, timeout: u64) -> StepWatch {
    StepWatch::new(
        partition,
        3,
        t(0),
        Duration::from_secs(soak),
        Duration::from_secs(timeout),
    )
}

fn step1_pods(ready: bool) -> Vec<Pod> {
    vec![
        pod(0, "web-a", true, 0),
        pod(1, "web-a", true, 0),
        pod(2, "web-b", ready, 0),
    ]
}

// ---------------------------------------------------------------------------
// Ownership.

#[test]
fn ownership_ignores_the_sessions_own_writes() {
    let m = mine();
    // Partition moved, progress recorded, a request handled: still ours.
    let mut progressed = m.clone();
    progressed.completed = 2;
    progressed.last = Some(Request {
        action: RequestAction::Promote,
        by: "bob".into(),
        at: T0.into(),
        id: "r1".into(),
        handled_by: Some("alice".into()),
    });
    let s = sts(3, 0, "web-b", "nginx:1.26", Some(&progressed));
    assert_eq!(ownership::check(&m, "uid-1", Some(&s)), Ok(()));
    // Not observed yet: the update revision is not judged.
    let mut s = at(2);
    s.metadata.generation = Some(4);
    s.status.as_mut().unwrap().update_revision = Some("web-a".into());
    assert_eq!(ownership::check(&m, "uid-1", Some(&s)), Ok(()));
}

#[test]
fn ownership_names_what_changed() {
    let m = mine();
    assert_eq!(ownership::check(&m, "uid-1", None), Err(Lost::Deleted));
    assert_eq!(
        ownership::check(&m, "uid-0", Some(&at(2))),
        Err(Lost::Recreated)
    );
    // State removed, template back on from: aborted by someone else.
    let s = sts(3, 0, "web-a", "nginx:1.25", None);
    assert_eq!(
        ownership::check(&m, "uid-1", Some(&s)),
        Err(Lost::StateRemoved(Removal::RolledBack))
    );
    // State removed, canary template at the floor: finished by someone else.
    let s = sts(3, 0, "web-b", "nginx:1.26", None);
    assert_eq!(
        ownership::check(&m, "uid-1", Some(&s)),
        Err(Lost::StateRemoved(Removal::Finished))
    );
    // State removed, something else.
    let s = sts(3, 2, "web-z", "nginx:9", None);
    assert_eq!(
        ownership::check(&m, "uid-1", Some(&s)),
        Err(Lost::StateRemoved(Removal::Unknown))
    );
    // Another canary.
    let mut other = mine();
    other.id = "c2".into();
    other.by = "bob".into();
    assert!(matches!(
        ownership::check(&m, "uid-1", Some(&sts(3, 2, "web-b", "nginx:1.26", Some(&other)))),
        Err(Lost::Replaced { by, .. }) if by == "bob"
    ));
    // Aborted by bob: phase aborting with the abort recorded.
    let mut ab = mine();
    ab.phase = CanaryPhase::Aborting;
    ab.last = Some(Request {
        action: RequestAction::Abort,
        by: "bob".into(),
        at: T0.into(),
        id: "r2".into(),
        handled_by: None,
    });
    assert_eq!(
        ownership::check(
            &m,
            "uid-1",
            Some(&sts(3, 0, "web-a", "nginx:1.25", Some(&ab)))
        ),
        Err(Lost::Aborted {
            by: Some("bob".into()),
            at: Some(T0.into())
        })
    );
    // The template edited outside (kubectl set env): caught before the
    // controller has observed it …
    let mut s = sts(3, 2, "web-b", "nginx:1.26-hotfix", Some(&m));
    s.metadata.generation = Some(4);
    assert_eq!(
        ownership::check(&m, "uid-1", Some(&s)),
        Err(Lost::TemplateEdited { update: None })
    );
    // … and after, with the new update revision.
    let s = sts(3, 2, "web-c", "nginx:1.26-hotfix", Some(&m));
    assert_eq!(
        ownership::check(&m, "uid-1", Some(&s)),
        Err(Lost::TemplateEdited {
            update: Some("web-c".into())
        })
    );
    // A state without a template hash (older version): the revision decides.
    let mut old = mine();
    old.template.clear();
    let s = sts(3, 2, "web-c", "nginx:1.26-hotfix", Some(&old));
    assert_eq!(
        ownership::check(&old, "uid-1", Some(&s)),
        Err(Lost::RevisionMoved {
            update: "web-c".into()
        })
    );
    // Unreadable.
    let mut s = at(2);
    s.metadata
        .annotations
        .as_mut()
        .unwrap()
        .insert(STATE_ANNOTATION.into(), "{".into());
    assert!(matches!(
        ownership::check(&m, "uid-1", Some(&s)),
        Err(Lost::Unreadable(_))
    ));
}

#[test]
fn lost_messages_say_who_and_what() {
    let m = mine();
    let l = Lost::Aborted {
        by: Some("bob (bob@laptop, pid 7)".into()),
        at: Some(T0.into()),
    };
    assert_eq!(
        l.message("web", &m),
        format!(
            "the canary on statefulset web is being aborted by bob (bob@laptop, pid 7) (at {T0})"
        )
    );
    assert!(
        Lost::TemplateEdited {
            update: Some("web-c".into())
        }
        .message("web", &m)
        .contains("changed outside the canary (update revision web-c, not the canary's web-b)")
    );
    assert!(
        Lost::StateRemoved(Removal::RolledBack)
            .message("web", &m)
            .contains("aborted by someone else")
    );
}

#[test]
fn requests_pending_unless_superseded() {
    let mut st = mine();
    st.request = Some(Request {
        action: RequestAction::Pause,
        by: "bob".into(),
        at: T0.into(),
        id: "r9".into(),
        handled_by: None,
    });
    let s = sts(3, 2, "web-b", "nginx:1.26", Some(&st));
    assert_eq!(
        ownership::pending_request(&s, &[]).map(|r| r.action),
        Some(RequestAction::Pause)
    );
    assert_eq!(ownership::pending_request(&s, &["r9".into()]), None);
    assert_eq!(ownership::pending_request(&at(2), &[]), None);
}

// ---------------------------------------------------------------------------
// Before the first step.

#[test]
fn observing_the_start() {
    let mut m = mine();
    m.to.clear();
    let mut s = sts(3, 3, "web-a", "nginx:1.26", Some(&m));
    s.metadata.generation = Some(4);
    assert_eq!(observe_start(&m, "uid-1", Some(&s)), Observe::Wait);
    let s = sts(3, 3, "web-b", "nginx:1.26", Some(&m));
    assert_eq!(
        observe_start(&m, "uid-1", Some(&s)),
        Observe::Learned("web-b".into())
    );
    let s = sts(3, 3, "web-a", "nginx:1.26", Some(&m));
    assert_eq!(
        observe_start(&m, "uid-1", Some(&s)),
        Observe::Unchanged("web-a".into())
    );
    // Edited before the controller observed the canary's template.
    let s = sts(3, 3, "web-c", "nginx:2", Some(&m));
    assert!(matches!(
        observe_start(&m, "uid-1", Some(&s)),
        Observe::Lost(Lost::TemplateEdited { .. })
    ));
    let s = sts(3, 3, "web-a", "nginx:1.25", None);
    assert!(matches!(
        observe_start(&m, "uid-1", Some(&s)),
        Observe::Lost(Lost::StateRemoved(Removal::RolledBack))
    ));
    assert_eq!(
        observe_start(&m, "uid-1", None),
        Observe::Lost(Lost::Deleted)
    );
}

// ---------------------------------------------------------------------------
// Between steps.

#[test]
fn resume_step_follows_the_partition() {
    let m = mine(); // partitions 2, 1, 0
    assert_eq!(resume_step(&m, 3), 0); // held
    assert_eq!(resume_step(&m, 2), 0);
    assert_eq!(resume_step(&m, 1), 1);
    assert_eq!(resume_step(&m, 0), 2);
    assert_eq!(last_step(&m), 2);
}

#[test]
fn next_move_for_every_mode() {
    let m = mine();
    let tty = Mode {
        auto: false,
        assume_yes: false,
        interactive: true,
    };
    let yes = Mode {
        auto: false,
        assume_yes: true,
        interactive: false,
    };
    let none = Mode {
        auto: false,
        assume_yes: false,
        interactive: false,
    };
    let auto = Mode {
        auto: true,
        assume_yes: true,
        interactive: false,
    };
    // Already at the step's partition: wait for it.
    assert_eq!(next_move(&m, 0, 2, none, false, false), Move::Wait);
    // The first step after the start (held at 3).
    assert_eq!(next_move(&m, 0, 3, tty, false, false), Move::Take);
    assert_eq!(next_move(&m, 0, 3, yes, false, false), Move::Take);
    assert_eq!(next_move(&m, 0, 3, none, false, false), Move::NeedYes);
    // Between steps.
    assert_eq!(next_move(&m, 1, 2, tty, true, false), Move::Ask);
    assert_eq!(next_move(&m, 1, 2, auto, true, false), Move::Take);
    assert_eq!(next_move(&m, 1, 2, yes, false, false), Move::Take);
    assert_eq!(next_move(&m, 1, 2, yes, true, false), Move::Pause);
    assert_eq!(next_move(&m, 1, 2, none, false, false), Move::Pause);
    // Promoting: no question.
    assert_eq!(next_move(&m, 2, 2, tty, true, true), Move::Take);
}

// ---------------------------------------------------------------------------
// During a step.

#[test]
fn a_step_waits_reports_each_pod_once_then_soaks_and_completes() {
    let m = mine();
    let s = at(2);
    let mut log = PodLog::default();
    let mut w = watch(2, 10, 300);
    // Pod 2 on the new revision, not Ready yet.
    let pods = step1_pods(false);
    let o = w.observe(&mut log, &m, "uid-1", &[], snap(&s, &pods), t(1));
    assert_eq!(
        o.events,
        vec![PodEvent::Updated {
            pod: "web-2".into(),
            uid: "u2-web-b".into(),
            revision: "web-b".into()
        }]
    );
    assert_eq!(
        o.action,
        StepAction::Wait {
            live: Live::Waiting {
                updated: 1,
                ready: 0,
                want: 1
            },
            wake: t(300)
        }
    );
    // Ready: the soak starts; the counter counts with the clock.
    let pods = step1_pods(true);
    let o = w.observe(&mut log, &m, "uid-1", &[], snap(&s, &pods), t(2));
    assert_eq!(
        o.events,
        vec![PodEvent::Ready {
            pod: "web-2".into(),
            uid: "u2-web-b".into(),
            revision: "web-b".into()
        }]
    );
    assert_eq!(
        o.action,
        StepAction::Wait {
            live: Live::Soaking {
                elapsed: Duration::ZERO,
                soak: Duration::from_secs(10)
            },
            wake: t(12)
        }
    );
    let o = w.observe(&mut log, &m, "uid-1", &[], snap(&s, &pods), t(7));
    assert!(o.events.is_empty(), "reported twice: {:?}", o.events);
    assert_eq!(
        o.action,
        StepAction::Wait {
            live: Live::Soaking {
                elapsed: Duration::from_secs(5),
                soak: Duration::from_secs(10)
            },
            wake: t(12)
        }
    );
    assert_eq!(
        w.observe(&mut log, &m, "uid-1", &[], snap(&s, &pods), t(12))
            .action,
        StepAction::Complete
    );
    // The next step: web-2 is not reported again, web-1 is.
    let s = at(1);
    let mut w = watch(1, 0, 300);
    let pods = vec![
        pod(0, "web-a", true, 0),
        pod(1, "web-b", true, 0),
        pod(2, "web-b", true, 0),
    ];
    let o = w.observe(&mut log, &m, "uid-1", &[], snap(&s, &pods), t(20));
    assert_eq!(
        o.events,
        vec![
            PodEvent::Updated {
                pod: "web-1".into(),
                uid: "u1-web-b".into(),
                revision: "web-b".into()
            },
            PodEvent::Ready {
                pod: "web-1".into(),
                uid: "u1-web-b".into(),
                revision: "web-b".into()
            }
        ]
    );
    assert_eq!(o.action, StepAction::Complete);
    // web-1 recreated on the same revision (another uid): not reported again.
    let mut again = pod(1, "web-b", true, 0);
    again.metadata.uid = Some("u1-again".into());
    let pods = vec![pod(0, "web-a", true, 0), again, pod(2, "web-b", true, 0)];
    let o = watch(1, 0, 300).observe(&mut log, &m, "uid-1", &[], snap(&s, &pods), t(21));
    assert!(o.events.is_empty(), "{:?}", o.events);
}

#[test]
fn the_soak_starts_over_when_a_pod_turns_unready() {
    let m = mine();
    let s = at(2);
    let mut log = PodLog::default();
    let mut w = watch(2, 10, 300);
    let ready = step1_pods(true);
    w.observe(&mut log, &m, "uid-1", &[], snap(&s, &ready), t(0));
    let unready = step1_pods(false);
    assert!(matches!(
        w.observe(&mut log, &m, "uid-1", &[], snap(&s, &unready), t(5))
            .action,
        StepAction::Wait {
            live: Live::Waiting { .. },
            ..
        }
    ));
    assert_eq!(
        w.observe(&mut log, &m, "uid-1", &[], snap(&s, &ready), t(8))
            .action,
        StepAction::Wait {
            live: Live::Soaking {
                elapsed: Duration::ZERO,
                soak: Duration::from_secs(10)
            },
            wake: t(18)
        }
    );
}

#[test]
fn not_complete_before_the_controller_observed_the_step() {
    let m = mine();
    let mut s = at(2);
    s.status.as_mut().unwrap().observed_generation = Some(2);
    s.metadata.generation = Some(2);
    let mut w = watch(2, 0, 300);
    let pods = step1_pods(true);
    assert!(matches!(
        w.observe(
            &mut PodLog::default(),
            &m,
            "uid-1",
            &[],
            snap(&s, &pods),
            t(1)
        )
        .action,
        StepAction::Wait {
            live: Live::Waiting { want: 1, .. },
            ..
        }
    ));
}

#[test]
fn the_gate_names_every_failing_pod() {
    let m = mine();
    let s = at(1);
    let pods = vec![
        pod(0, "web-a", true, 0),
        crashing(1, "web-b"),
        crashing(2, "web-b"),
    ];
    let o = watch(1, 0, 300).observe(
        &mut PodLog::default(),
        &m,
        "uid-1",
        &[],
        snap(&s, &pods),
        t(1),
    );
    let StepAction::Gate(g) = o.action else {
        panic!("{:?}", o.action)
    };
    assert_eq!(
        g.message(),
        "pod web-1 (web-b): container nginx is in CrashLoopBackOff; pod web-2 (web-b): container nginx is in CrashLoopBackOff"
    );
}

#[test]
fn a_restart_during_the_step_fails_the_gate() {
    let m = mine();
    let s = at(2);
    let mut log = PodLog::default();
    let mut w = watch(2, 60, 300);
    w.observe(
        &mut log,
        &m,
        "uid-1",
        &[],
        snap(&s, &step1_pods(true)),
        t(1),
    );
    let pods = vec![
        pod(0, "web-a", true, 0),
        pod(1, "web-a", true, 0),
        pod(2, "web-b", true, 1),
    ];
    assert_eq!(
        w.observe(&mut log, &m, "uid-1", &[], snap(&s, &pods), t(2))
            .action,
        StepAction::Gate(Gate::Restarted {
            pod: "web-2".into(),
            revision: "web-b".into(),
            restarts: 1
        })
    );
}

#[test]
fn not_the_canarys_fault_pauses() {
    let m = mine();
    let s = at(2);
    let pods = vec![
        pod(0, "web-a", false, 0),
        pod(1, "web-a", true, 0),
        pod(2, "web-b", true, 0),
    ];
    assert!(matches!(
        watch(2, 0, 300).observe(&mut PodLog::default(), &m, "uid-1", &[], snap(&s, &pods), t(1)).action,
        StepAction::Pause(m) if m.contains("pod web-0 on web-a is not Ready")
    ));
    let pods = vec![
        crashing(0, "web-a"),
        pod(1, "web-a", true, 0),
        pod(2, "web-b", true, 0),
    ];
    assert!(matches!(
        watch(2, 0, 300).observe(&mut PodLog::default(), &m, "uid-1", &[], snap(&s, &pods), t(1)).action,
        StepAction::Pause(m) if m.contains("not on the canary's revision")
    ));
    // spec.replicas changed mid-canary.
    let s4 = sts(4, 2, "web-b", "nginx:1.26", Some(&m));
    assert!(matches!(
        watch(2, 0, 300).observe(&mut PodLog::default(), &m, "uid-1", &[], snap(&s4, &[]), t(1)).action,
        StepAction::Pause(m) if m.contains("spec.replicas changed from 3 to 4")
    ));
}

#[test]
fn failed_create_fails_the_gate_at_once() {
    let m = mine();
    let s = at(2);
    let ev: Event = serde_json::from_value(json!({
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "StatefulSet", "name": "web"},
        "reason": "FailedCreate", "count": 4, "lastTimestamp": "2026-11-21T10:00:03Z",
        "message": "pods \"web-2\" is forbidden: maximum cpu usage per Container is 1"
    }))
    .unwrap();
    let pods = vec![pod(0, "web-a", true, 0), pod(1, "web-a", true, 0)];
    let snap = Snapshot {
        sts: Some(&s),
        pods: &pods,
        failed_creates: std::slice::from_ref(&ev),
    };
    assert!(matches!(
        watch(2, 0, 300).observe(&mut PodLog::default(), &m, "uid-1", &[], snap, t(4)).action,
        StepAction::Gate(Gate::FailedCreate { message }) if message.contains("maximum cpu")
    ));
}

#[test]
fn the_deadline_fails_the_gate_naming_pods_or_times_out() {
    let m = mine();
    let s = at(2);
    let mut w = watch(2, 0, 60);
    // Updated but not Ready at the deadline: the gate, with the pod and why.
    let o = w.observe(
        &mut PodLog::default(),
        &m,
        "uid-1",
        &[],
        snap(&s, &step1_pods(false)),
        t(60),
    );
    let StepAction::Gate(g) = o.action else {
        panic!("{:?}", o.action)
    };
    assert_eq!(
        g.message(),
        "1 of 1 updated pod(s) not Ready within 60s: pod web-2 (web-b): running but not Ready (readiness of container nginx failing)"
    );
    // Nothing updated at the deadline: a timeout, not the canary's verdict.
    let pods = vec![pod(0, "web-a", true, 0), pod(1, "web-a", true, 0)];
    assert_eq!(
        watch(2, 0, 60)
            .observe(
                &mut PodLog::default(),
                &m,
                "uid-1",
                &[],
                snap(&s, &pods),
                t(61)
            )
            .action,
        StepAction::TimedOut {
            updated: 0,
            ready: 0,
            want: 1
        }
    );
}

#[test]
fn remote_requests_and_lost_ownership_interrupt_a_step() {
    let m = mine();
    let mut st = mine();
    st.request = Some(Request {
        action: RequestAction::Promote,
        by: "bob".into(),
        at: T0.into(),
        id: "r1".into(),
        handled_by: None,
    });
    let s = sts(3, 2, "web-b", "nginx:1.26", Some(&st));
    let pods = step1_pods(true);
    assert!(matches!(
        watch(2, 0, 300).observe(&mut PodLog::default(), &m, "uid-1", &[], snap(&s, &pods), t(1)).action,
        StepAction::Request(r) if r.action == RequestAction::Promote && r.by == "bob"
    ));
    // A request this session superseded is not one.
    assert_eq!(
        watch(2, 0, 300)
            .observe(
                &mut PodLog::default(),
                &m,
                "uid-1",
                &["r1".into()],
                snap(&s, &pods),
                t(1)
            )
            .action,
        StepAction::Complete
    );
    // Aborted by someone else while soaking.
    let s = sts(3, 0, "web-a", "nginx:1.25", None);
    assert_eq!(
        watch(2, 30, 300)
            .observe(
                &mut PodLog::default(),
                &m,
                "uid-1",
                &[],
                snap(&s, &pods),
                t(1)
            )
            .action,
        StepAction::Lost(Lost::StateRemoved(Removal::RolledBack))
    );
    let none = Snapshot {
        sts: None,
        pods: &[],
        failed_creates: &[],
    };
    assert_eq!(
        watch(2, 30, 300)
            .observe(&mut PodLog::default(), &m, "uid-1", &[], none, t(1))
            .action,
        StepAction::Lost(Lost::Deleted)
    );
}

// ---------------------------------------------------------------------------
// The abort.

#[test]
fn an_abort_goes_on_while_the_state_is_its_own() {
    let m = mine();
    let mut ab = mine();
    ab.phase = CanaryPhase::Aborting;
    // Template restored by the abort itself: fine.
    let s = sts(3, 0, "web-a", "nginx:1.25", Some(&ab));
    assert_eq!(check_abort(&m, "uid-1", Some(&s)), Ok(()));
    // Removed: someone else finished it.
    let s = sts(3, 0, "web-a", "nginx:1.25", None);
    assert_eq!(
        check_abort(&m, "uid-1", Some(&s)),
        Err(Lost::StateRemoved(Removal::RolledBack))
    );
    // Someone started a new canary.
    let mut other = mine();
    other.id = "c9".into();
    let s = sts(3, 0, "web-a", "nginx:1.25", Some(&other));
    assert!(matches!(
        check_abort(&m, "uid-1", Some(&s)),
        Err(Lost::Replaced { .. })
    ));
}

#[test]
fn pod_causes_read_like_the_status_view() {
    assert_eq!(
        pod_cause(&crashing(2, "web-b")),
        "container nginx is in CrashLoopBackOff: back-off 40s"
    );
    assert_eq!(
        pod_cause(&pod(2, "web-b", false, 0)),
        "running but not Ready (readiness of container nginx failing)"
    );
}

#[test]
fn a_scale_mid_canary_pauses_then_replans() {
    let m = mine();
    assert_eq!(scale(&m, &at(2)), Scale::Unchanged);
    let mut s = sts(4, 2, "web-b", "nginx:1.26", Some(&m));
    s.status.as_mut().unwrap().replicas = 3;
    assert_eq!(scale(&m, &s), Scale::InProgress { replicas: 4 });
    s.status.as_mut().unwrap().replicas = 4;
    assert_eq!(scale(&m, &s), Scale::Replan { replicas: 4 });
}
