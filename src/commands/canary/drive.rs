//! Running the steps: the I/O around `ops::canary::machine`. Before every
//! write the StatefulSet is read again and the canary's ownership checked;
//! while waiting (for pods, for the soak, at a prompt) the watch re-checks
//! it on every event, and acts on requests from other terminals.

use super::abort::{Cleared, clear_state};
use super::*;
use crate::ops::canary::machine::{
    Choice, Gate, Move, Observe, PodEvent, Scale, Snapshot, StepAction, StepWatch,
};

/// How a step's wait ended.
pub(super) enum Wait {
    Complete,
    Gate(Gate),
    Paused(String),
    TimedOut(String),
    Interrupted,
    /// Someone changed the canary or asked something: re-read and see.
    Changed,
}

/// Runs the steps from wherever the state says, to done.
pub(super) async fn drive(ctx: &mut Ctx<'_>, mut mine: CanaryState, promote: bool) -> Outcome {
    // Resuming writes too: every wait and write from here is a safe point.
    before_first_write();
    let mut w = Watch::start(&ctx.c, &api::get_sts(&ctx.c, &ctx.name).await?).await;
    w.ready().await;
    // Learn the `to` revision once the controller has observed the change.
    if mine.to.is_empty() {
        match wait_observed(ctx, &mut w, &mine).await? {
            Observe::Learned(to) => mine.to = to,
            Observe::Unchanged(to) => {
                // The start patch is applied: a bad outcome, not a usage error.
                return Err(Failure::new(
                    Exit::Bad,
                    format!("the change does not alter the pod template (still {to})"),
                )
                .hint(format!(
                    "abort it to restore the partition: {}",
                    ctx.cmd(" --abort")
                ))
                .into());
            }
            Observe::Lost(l) => return lost(ctx, &mine, l).await,
            Observe::Wait => {
                let held = format!(
                    "the change is applied and held at partition {}; no pod is updated yet",
                    mine.replicas
                );
                return Ok(interrupted(ctx, &held, false));
            }
        }
    }
    let began = Instant::now();
    let mut healthy_at: Option<Instant> = None;
    let mut step: Option<usize> = None;
    let mut promoting = false;
    let mut promote_confirmed = !promote;
    let mut approved: Option<usize> = None;
    let mut advanced = false;
    let mut conflicts = 0;
    let mut min_gen = 0;
    loop {
        // A fresh read before anything is decided or written.
        let sts = api::get_sts(&ctx.c, &ctx.name).await?;
        if let Err(l) = ownership::check(&mine, &ctx.uid, Some(&sts)) {
            return lost(ctx, &mine, l).await;
        }
        // This process asked for a promote nobody answered in time, and a
        // session answered after all: that session drives it.
        if let Some(id) = &ctx.asked
            && let Some(Ok(live)) = CanaryState::read(&sts)
            && let Some(by) = live
                .last
                .filter(|l| &l.id == id)
                .and_then(|l| l.handled_by)
                .filter(|by| *by != ctx.me)
        {
            ctx.rep.event(
                "promote-handled",
                json!({"by": by}),
                &format!("promoting: the session of {by} takes the last step now"),
            );
            return Ok(Exit::Ok);
        }
        if let Some(req) = ownership::pending_request(&sts, &ctx.ignored) {
            if ctx.asked.as_deref() == Some(req.id.as_str()) {
                // This process's own promote (nobody else answered): the
                // next step patch records it as handled.
                ctx.ignored.push(req.id.clone());
                mine.request = None;
                mine.last = Some(Request {
                    handled_by: Some(ctx.me.clone()),
                    ..req.clone()
                });
            } else if !acknowledge(ctx, &mut mine, &sts, req.clone()).await? {
                continue; // the StatefulSet changed meanwhile: read again
            }
            match req.action {
                RequestAction::Pause => {
                    ctx.rep.event(
                        "paused",
                        json!({"reason": "requested", "by": req.by, "at": req.at}),
                        &format!("paused at the request of {} ({})", req.by, req.at),
                    );
                    return Ok(paused(ctx, &format!("asked by {}", req.by)));
                }
                RequestAction::Promote => {
                    ctx.rep.event(
                        "promoting",
                        json!({"by": req.by, "at": req.at}),
                        &format!(
                            "promoting at the request of {} ({}): the last step now",
                            req.by, req.at
                        ),
                    );
                    promoting = true;
                    promote_confirmed = true;
                }
                RequestAction::Abort => {}
            }
            continue;
        }
        match machine::scale(&mine, &sts) {
            Scale::Unchanged => {}
            Scale::InProgress { replicas: r } => {
                ctx.rep.event("paused", json!({"reason": "scaling", "replicas": r}), &format!("paused: spec.replicas changed from {} to {r} and the scale is still in progress", mine.replicas));
                return Ok(paused(ctx, "the StatefulSet is scaling"));
            }
            Scale::Replan { replicas: r } => {
                let old = mine.replicas;
                mine.replan(r).map_err(Failure::usage)?;
                ctx.rep.event(
                    "replanned",
                    json!({"replicas": r, "counts": mine.counts}),
                    &format!(
                        "re-planned for {r} replicas (was {old}): steps {:?}",
                        mine.counts
                    ),
                );
                step = None;
            }
        }
        let current = plan::partition(&sts).unwrap_or(0);
        let mut i = *step.get_or_insert_with(|| machine::resume_step(&mine, current));
        if !promote_confirmed && current != mine.floor {
            match ask_promote(ctx, &mut w, &mine).await? {
                Some(true) => {
                    promote_confirmed = true;
                    promoting = true;
                }
                Some(false) => return Ok(declined(ctx)),
                None => continue,
            }
        }
        if promoting {
            i = machine::last_step(&mine);
            step = Some(i);
        }
        let want = mine.partition_of(i);
        let n = mine.counts.get(i).copied().unwrap_or(0);
        let mut mv = machine::next_move(&mine, i, current, ctx.mode, advanced, promoting);
        if mv == Move::Ask && approved == Some(i) {
            mv = Move::Take;
        }
        match mv {
            Move::Wait => {}
            Move::Pause => {
                ctx.rep.event("paused", json!({"reason": "waiting for a decision", "completed": i, "of": mine.counts.len()}), &format!("paused after step {i}/{}: waiting for a decision", mine.counts.len()));
                return Ok(paused(ctx, "waiting for a decision"));
            }
            Move::NeedYes => {
                return Err(Failure::refused(
                    "the canary needs --yes or --auto to take its first step without a terminal",
                )
                .hint(format!("take it with: {}", ctx.cmd(" --yes")))
                .into());
            }
            Move::Ask => match ask_between(ctx, &mut w, &mine, i).await? {
                Asked::Choice(Choice::Continue) => {
                    approved = Some(i);
                    continue;
                }
                Asked::Choice(Choice::Abort) => {
                    return abort(ctx, sts, mine, None, Why::Chosen).await;
                }
                Asked::Choice(Choice::Pause) => {
                    ctx.rep.event("paused", json!({"reason": "waiting for a decision", "completed": i, "of": mine.counts.len()}), &format!("paused after step {i}/{}: waiting for a decision", mine.counts.len()));
                    return Ok(paused(ctx, "waiting for a decision"));
                }
                Asked::Interrupted => {
                    let at = format!(
                        "step {i}/{} complete at partition {current}; no next step was sent",
                        mine.counts.len()
                    );
                    return Ok(interrupted(ctx, &at, false));
                }
                Asked::Changed => continue,
            },
            Move::Take => {
                fault("canary-before-step", &ctx.name).await;
                if interrupt::requested() {
                    let at = format!(
                        "step {}/{} not started; the partition is still {current}",
                        i + 1,
                        mine.counts.len()
                    );
                    return Ok(interrupted(ctx, &at, false));
                }
                let mut next = mine.clone();
                next.completed = i;
                next.phase = plan::CanaryPhase::Running;
                next.gate = None;
                let rv = sts.metadata.resource_version.clone().unwrap_or_default();
                let cause = format!(
                    "kubectl sts canary {}: step {}/{} ({} pod(s) on {})",
                    ctx.name,
                    i + 1,
                    mine.counts.len(),
                    n,
                    mine.to
                );
                let p = plan::step_patch(&rv, want, &next, &cause);
                let new = match api::patch_sts(&ctx.c, &ctx.name, &p, false).await {
                    Ok(n) => n,
                    // Someone wrote the StatefulSet meanwhile: re-read, re-check, re-plan.
                    Err(f) if f.is_conflict() && conflicts < 10 => {
                        conflicts += 1;
                        continue;
                    }
                    Err(f) => return Err(f.into()),
                };
                mine = next;
                conflicts = 0;
                advanced = true;
                approved = None;
                min_gen = new.metadata.generation.unwrap_or(0);
                if let Some(h) = healthy_at.take() {
                    ctx.latencies.push(h.elapsed());
                }
                let _ = api::record_event(&ctx.c, &new, "CanaryStepStarted", &cause, false).await;
            }
        }
        let st = plan::start(&sts);
        ctx.rep.event(
            "step-started",
            json!({"step": i + 1, "of": mine.counts.len(), "partition": want, "updated": n, "ordinals": (st + want..st + mine.replicas).collect::<Vec<_>>()}),
            &format!("step {}/{}: partition {want}, {n} pod(s) on {}: ordinals {}..{}", i + 1, mine.counts.len(), mine.to, st + want, st + mine.replicas - 1),
        );
        let t0 = Instant::now();
        let mut sw = StepWatch::new(want, min_gen, Timestamp::now(), ctx.soak, ctx.timeout);
        match wait_step(ctx, &mut w, &mine, &mut sw, i).await? {
            Wait::Complete => {
                healthy_at = Some(Instant::now());
                ctx.step_times.push(t0.elapsed());
                ctx.rep.clear_live();
                let msg = format!(
                    "step {}/{} complete: {n} pod(s) on {} Ready",
                    i + 1,
                    mine.counts.len(),
                    mine.to
                );
                if let Ok(cur) = api::get_sts(&ctx.c, &ctx.name).await {
                    let _ =
                        api::record_event(&ctx.c, &cur, "CanaryStepComplete", &msg, false).await;
                }
                ctx.rep.event("step-complete", json!({"step": i + 1, "of": mine.counts.len(), "seconds": t0.elapsed().as_secs_f64()}), &msg);
                if i + 1 >= mine.counts.len() {
                    return done(ctx, &mine, began).await;
                }
                step = Some(i + 1);
            }
            Wait::Gate(g) if interrupt::requested() => {
                // Asked to stop: no roll-back starts now; report where it stands.
                let at = format!(
                    "step {}/{} at partition {want}, health gate failing ({})",
                    i + 1,
                    mine.counts.len(),
                    g.message()
                );
                return Ok(interrupted(ctx, &at, false));
            }
            Wait::Gate(g) => return gate_failed(ctx, w, mine, g).await,
            Wait::Paused(msg) => {
                ctx.rep
                    .event("paused", json!({"reason": msg}), &format!("paused: {msg}"));
                return Ok(paused(ctx, &msg));
            }
            Wait::TimedOut(msg) => {
                ctx.rep.clear_live();
                return Err(Failure::new(Exit::Bad, msg)
                    .hint(format!(
                        "re-run to keep waiting: {}; or roll back with: {}",
                        ctx.cmd(""),
                        ctx.cmd(" --abort")
                    ))
                    .into());
            }
            Wait::Interrupted => {
                let at = format!(
                    "step {}/{} in progress at partition {want}: ordinals {}..{} get {}, the others keep {}",
                    i + 1,
                    mine.counts.len(),
                    st + want,
                    st + mine.replicas - 1,
                    mine.to,
                    mine.from
                );
                return Ok(interrupted(ctx, &at, false));
            }
            Wait::Changed => {}
        }
    }
}

/// Records that this session acts on `req` (clears it, keeps it as the last
/// request handled), guarded by `sts`'s resourceVersion. `false` when the
/// StatefulSet changed meanwhile (read it again).
async fn acknowledge(
    ctx: &mut Ctx<'_>,
    mine: &mut CanaryState,
    sts: &StatefulSet,
    req: Request,
) -> Result<bool, Failure> {
    let mut next = mine.clone();
    next.request = None;
    next.last = Some(Request {
        handled_by: Some(ctx.me.clone()),
        ..req.clone()
    });
    let rv = sts.metadata.resource_version.clone().unwrap_or_default();
    match api::patch_sts(&ctx.c, &ctx.name, &plan::state_patch(&rv, &next), false).await {
        Ok(_) => {
            ctx.ignored.push(req.id);
            *mine = next;
            Ok(true)
        }
        Err(f) if f.is_conflict() => Ok(false),
        Err(f) => Err(f),
    }
}

/// The answer at the prompt between steps.
pub(super) enum Asked {
    Choice(Choice),
    Interrupted,
    /// The canary changed or someone asked something meanwhile.
    Changed,
}

/// Between steps on a terminal: continue, abort or pause. Esc or `q` is a
/// pause. Cancelled when the canary changes meanwhile.
async fn ask_between(
    ctx: &Ctx<'_>,
    w: &mut Watch,
    mine: &CanaryState,
    i: usize,
) -> Result<Asked, Failure> {
    let of = mine.counts.len();
    let items = vec![
        format!("continue with step {}/{of}", i + 1),
        "abort (roll back)".to_string(),
        "pause and exit (re-run to resume)".to_string(),
    ];
    let title = format!("step {i}/{of} complete: what next?");
    let a = ask_watching(ctx, w, mine, move |cancel| {
        confirm::ask_select(&title, &items, 0, "pause", cancel)
    })
    .await?;
    Ok(match a {
        None | Some(Answer::Cancelled) => Asked::Changed,
        Some(Answer::Interrupted) => Asked::Interrupted,
        Some(Answer::Declined) => Asked::Choice(Choice::Pause),
        Some(Answer::Chosen(0)) => Asked::Choice(Choice::Continue),
        Some(Answer::Chosen(1)) => Asked::Choice(Choice::Abort),
        Some(Answer::Chosen(_)) => Asked::Choice(Choice::Pause),
    })
}

/// `--promote` in this session: confirm on a terminal (watching the
/// canary meanwhile). `None`: it changed; read again.
async fn ask_promote(
    ctx: &Ctx<'_>,
    w: &mut Watch,
    mine: &CanaryState,
) -> Result<Option<bool>, Failure> {
    let question = format!(
        "promote: update every remaining pod of statefulset {} now?",
        ctx.name
    );
    match ctx.prompt {
        Prompt::AssumeYes => Ok(Some(true)),
        Prompt::Never => Err(confirm::no_terminal(&question)),
        Prompt::Interactive => {
            let a = ask_watching(ctx, w, mine, move |cancel| {
                confirm::ask_confirm(&question, cancel)
            })
            .await?;
            match a {
                None | Some(Answer::Cancelled) => Ok(None),
                Some(Answer::Chosen(yes)) => Ok(Some(yes)),
                Some(Answer::Declined) => Ok(Some(false)),
                Some(Answer::Interrupted) => Err(confirm::interrupted_at_prompt()),
            }
        }
    }
}

/// Waits for the controller to observe the start patch.
async fn wait_observed(
    ctx: &Ctx<'_>,
    w: &mut Watch,
    mine: &CanaryState,
) -> Result<Observe, Failure> {
    let deadline = Instant::now() + ctx.timeout;
    loop {
        let (s, _) = w.snapshot();
        match machine::observe_start(mine, &ctx.uid, s.as_ref()) {
            Observe::Wait => {}
            Observe::Lost(_) => {
                // Confirm with a fresh read: the watch may lag.
                let fresh = api::get_sts(&ctx.c, &ctx.name).await.ok();
                let o = machine::observe_start(mine, &ctx.uid, fresh.as_ref());
                if o != Observe::Wait {
                    return Ok(o);
                }
            }
            other => return Ok(other),
        }
        tokio::select! {
            biased;
            _ = signal() => return Ok(Observe::Wait),
            _ = w.changed() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {
                return Err(Failure::new(Exit::Bad, "timed out waiting for the controller to observe the change")
                    .hint(format!("re-run to keep waiting: {}", ctx.cmd(""))));
            }
        }
    }
}

/// Waits for a step by watch: complete, gate failure, pause, timeout,
/// Ctrl-C, or a change of the canary by someone else.
async fn wait_step(
    ctx: &mut Ctx<'_>,
    w: &mut Watch,
    mine: &CanaryState,
    sw: &mut StepWatch,
    i: usize,
) -> Result<Wait, Failure> {
    let of = mine.counts.len();
    loop {
        if interrupt::requested() {
            return Ok(Wait::Interrupted);
        }
        let (sts, pods) = w.snapshot();
        let fc = w.failed_creates();
        let snap = Snapshot {
            sts: sts.as_ref(),
            pods: &pods,
            failed_creates: &fc,
        };
        let obs = sw.observe(
            &mut ctx.log,
            mine,
            &ctx.uid,
            &ctx.ignored,
            snap,
            Timestamp::now(),
        );
        for e in obs.events {
            match e {
                PodEvent::Updated { pod, uid, revision } => ctx.rep.event(
                    "pod-updated",
                    json!({"pod": pod, "uid": uid, "revision": revision}),
                    &format!("  {pod} is on {revision}"),
                ),
                PodEvent::Ready { pod, uid, revision } => ctx.rep.event(
                    "pod-ready",
                    json!({"pod": pod, "uid": uid, "revision": revision}),
                    &format!("  {pod} is Ready"),
                ),
            }
        }
        let wake = match obs.action {
            StepAction::Wait { live, wake } => {
                ctx.rep.live(&show::live_text(i + 1, of, &live));
                wake
            }
            StepAction::Complete => return Ok(Wait::Complete),
            StepAction::Gate(g) => return Ok(Wait::Gate(g)),
            StepAction::Pause(m) => return Ok(Wait::Paused(m)),
            StepAction::TimedOut {
                updated,
                ready,
                want,
            } => {
                return Ok(Wait::TimedOut(format!(
                    "timed out after {}: {updated} of {want} pod(s) updated, {ready} Ready",
                    secs(ctx.timeout)
                )));
            }
            StepAction::Request(_) | StepAction::Lost(_) => return Ok(Wait::Changed),
        };
        // Wake for the soak's end or the deadline; each second while a live
        // line shows the counters.
        let until = Instant::now() + until(wake);
        let tick = if ctx.rep.has_live() {
            until.min(Instant::now() + Duration::from_secs(1))
        } else {
            until
        };
        tokio::select! {
            biased;
            _ = signal() => return Ok(Wait::Interrupted),
            _ = w.changed() => {}
            _ = tokio::time::sleep_until(tick.into()) => {}
        }
    }
}

/// How long from now until `t` (zero when past).
fn until(t: Timestamp) -> Duration {
    t.duration_since(Timestamp::now())
        .try_into()
        .unwrap_or(Duration::ZERO)
}

/// The health gate failed: record it, then roll back (or stop with
/// `--no-auto-abort`, the state kept).
async fn gate_failed(ctx: &mut Ctx<'_>, w: Watch, mut mine: CanaryState, g: Gate) -> Outcome {
    ctx.rep.clear_live();
    let msg = g.message();
    ctx.rep.bad(
        "gate-failed",
        json!({"reason": msg, "gate": g}),
        &format!("health gate failed: {msg}"),
    );
    let cur = api::get_sts(&ctx.c, &ctx.name).await?;
    if let Err(l) = ownership::check(&mine, &ctx.uid, Some(&cur)) {
        return lost(ctx, &mine, l).await;
    }
    let _ = api::record_event(&ctx.c, &cur, "CanaryGateFailed", &msg, true).await;
    if !ctx.auto_abort {
        // Record it for `status` (best effort: the message says it anyway).
        mine.phase = plan::CanaryPhase::GateFailed;
        mine.gate = Some(msg.clone());
        let rv = cur.metadata.resource_version.clone().unwrap_or_default();
        let _ = api::patch_sts(&ctx.c, &ctx.name, &plan::state_patch(&rv, &mine), false).await;
        return Err(
            Failure::new(Exit::Bad, format!("health gate failed: {msg}"))
                .hint(format!(
                    "the canary state is kept; roll back with: {}",
                    ctx.cmd(" --abort")
                ))
                .into(),
        );
    }
    drop(w);
    abort(ctx, cur, mine, None, Why::Gate(msg)).await
}

/// Every step done: clear the state (if it is still this canary's) and report.
async fn done(ctx: &mut Ctx<'_>, mine: &CanaryState, began: Instant) -> Outcome {
    ctx.rep.clear_live();
    let sts = match clear_state(ctx, mine, false).await? {
        Cleared::Done(s) | Cleared::Gone(s) => s,
        Cleared::Lost(l) => return lost(ctx, mine, l).await,
    };
    let current = sts
        .status
        .as_ref()
        .and_then(|s| s.current_revision.clone())
        .unwrap_or_default();
    let msg = format!(
        "canary done: every pod at or above partition {} is on {} and Ready",
        mine.floor, mine.to
    );
    let _ = api::record_event(&ctx.c, &sts, "CanaryDone", &msg, false).await;
    let lat: Vec<f64> = ctx
        .latencies
        .iter()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let steps: Vec<f64> = ctx.step_times.iter().map(|d| d.as_secs_f64()).collect();
    ctx.rep.event(
        "done",
        json!({"from": mine.from, "to": mine.to, "floor": mine.floor, "currentRevision": current, "seconds": began.elapsed().as_secs_f64(), "stepSeconds": steps, "stepLatencyMs": lat}),
        &format!(
            "{msg}\n  steps took {}; total {:.1}s\n  currentRevision: {current}{}",
            steps.iter().map(|s| format!("{s:.1}s")).collect::<Vec<_>>().join(", "),
            began.elapsed().as_secs_f64(),
            if mine.floor > 0 { " (with a floor above 0 the controller keeps the older currentRevision)" } else { "" }
        ),
    );
    Ok(Exit::Ok)
}
