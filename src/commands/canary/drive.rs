//! Running the steps: one guarded partition patch per step, then wait for
//! the updated pods to be Ready and soak, judging health on every event.

use super::abort::clear_state;
use super::*;
use crate::commands::confirm::prompt_failed;

pub(super) enum Wait {
    Complete(Instant),
    Gate(String),
    Paused(String),
    TimedOut(String),
    Interrupted,
}

/// Runs the steps from wherever the state says, to done.
pub(super) async fn drive(ctx: &mut Ctx<'_>, mut state: CanaryState, promote: bool) -> Outcome {
    // Resuming writes too: every wait and write from here is a safe point.
    before_first_write();
    let mut w = Watch::start(&ctx.c, &api::get_sts(&ctx.c, &ctx.name).await?).await;
    w.ready().await;
    // Learn the `to` revision once the controller has observed the change.
    if state.to.is_empty() {
        match wait_observed(ctx, &mut w).await? {
            Some(to) => {
                if to == state.from {
                    // The start patch is applied: a bad outcome, not a usage error.
                    return Err(Failure::new(
                        Exit::Bad,
                        format!("the change does not alter the pod template (still {to})"),
                    )
                    .hint(format!(
                        "abort it to restore the partition: kubectl sts canary {} --abort",
                        ctx.name
                    ))
                    .into());
                }
                state.to = to;
            }
            None => {
                let held = format!(
                    "the change is applied and held at partition {}; no pod is updated yet",
                    state.replicas
                );
                return Ok(interrupted(ctx, &held, false));
            }
        }
    }
    let began = Instant::now();
    let mut healthy_at: Option<Instant> = None;
    let mut i = 0;
    let mut advanced = false;
    let mut conflicts = 0;
    let mut min_gen = 0;
    loop {
        let sts = api::get_sts(&ctx.c, &ctx.name).await?;
        let r = plan::replicas(&sts);
        if r != state.replicas {
            let sr = sts.status.as_ref().map(|s| s.replicas).unwrap_or(0);
            if sr != r {
                ctx.rep.event("paused", json!({"reason": "scaling", "replicas": r}), &format!("paused: spec.replicas changed from {} to {r} and the scale is still in progress", state.replicas));
                return Ok(paused(ctx, "the StatefulSet is scaling"));
            }
            let old = state.replicas;
            state.replan(r).map_err(Failure::usage)?;
            ctx.rep.event(
                "replanned",
                json!({"replicas": r, "counts": state.counts}),
                &format!(
                    "re-planned for {r} replicas (was {old}): steps {:?}",
                    state.counts
                ),
            );
        }
        let current = plan::partition(&sts).unwrap_or(0);
        // Which step are we at? The first whose partition is ≤ the current one.
        if i == 0 {
            i = (0..state.counts.len())
                .find(|&k| state.partition_of(k) <= current)
                .unwrap_or(0);
            if current >= state.replicas {
                i = 0;
            }
        }
        if promote && state.partition_of(i) != state.floor {
            if !ctx.prompt.confirm(&format!(
                "promote: update every remaining pod of statefulset {} now?",
                ctx.name
            ))? {
                return Err(Failure::refused("not confirmed; nothing was changed").into());
            }
            i = state.counts.len() - 1;
        }
        let want = state.partition_of(i);
        let n = state.counts.get(i).copied().unwrap_or(0);
        if want != current {
            if i > 0
                && current < state.replicas
                && !promote
                && !ctx.auto
                && !(ctx.prompt == Prompt::AssumeYes && !advanced && !ctx.tty)
            {
                // A decision between steps.
                match decide(ctx, i, &state)? {
                    Decision::Continue => {}
                    Decision::Abort => {
                        return abort(ctx, sts, state, None, "aborted by the user between steps")
                            .await;
                    }
                    Decision::Interrupted => {
                        let at = format!(
                            "step {i}/{} complete at partition {current}; no next step was sent",
                            state.counts.len()
                        );
                        return Ok(interrupted(ctx, &at, false));
                    }
                    Decision::Pause => {
                        ctx.rep.event("paused", json!({"reason": "waiting for a decision", "completed": i, "of": state.counts.len()}), &format!("paused after step {i}/{}: waiting for a decision", state.counts.len()));
                        return Ok(paused(ctx, "waiting for a decision"));
                    }
                }
            } else if current >= state.replicas
                && i == 0
                && !ctx.auto
                && !promote
                && matches!(ctx.prompt, Prompt::Never)
            {
                return Err(Failure::refused(
                    "the canary needs --yes or --auto to take its first step without a terminal",
                )
                .into());
            }
            fault("canary-before-step", &ctx.name).await;
            if interrupt::requested() {
                let at = format!(
                    "step {}/{} not started; the partition is still {current}",
                    i + 1,
                    state.counts.len()
                );
                return Ok(interrupted(ctx, &at, false));
            }
            state.completed = i;
            let rv = sts.metadata.resource_version.clone().unwrap_or_default();
            let cause = format!(
                "kubectl sts canary {}: step {}/{} ({} pod(s) on {})",
                ctx.name,
                i + 1,
                state.counts.len(),
                n,
                state.to
            );
            let p = plan::step_patch(&rv, want, &state, &cause);
            let new = match api::patch_sts(&ctx.c, &ctx.name, &p, false).await {
                Ok(n) => n,
                // Someone wrote the StatefulSet meanwhile: re-read and re-plan.
                Err(f) if f.is_conflict() && conflicts < 3 => {
                    conflicts += 1;
                    continue;
                }
                Err(f) => return Err(f.into()),
            };
            advanced = true;
            min_gen = new.metadata.generation.unwrap_or(0);
            if let Some(h) = healthy_at.take() {
                ctx.latencies.push(h.elapsed());
            }
            let _ = api::record_event(&ctx.c, &new, "CanaryStepStarted", &cause, false).await;
        }
        let st = plan::start(&sts);
        ctx.rep.event(
            "step-started",
            json!({"step": i + 1, "of": state.counts.len(), "partition": want, "updated": n, "ordinals": (st + want..st + state.replicas).collect::<Vec<_>>()}),
            &format!("step {}/{}: partition {want}, {n} pod(s) on {}: ordinals {}..{}", i + 1, state.counts.len(), state.to, st + want, st + state.replicas - 1),
        );
        let t0 = Instant::now();
        match wait_step(ctx, &mut w, &state, want, min_gen).await? {
            Wait::Complete(at) => {
                healthy_at = Some(at);
                ctx.step_times.push(t0.elapsed());
                let cur = api::get_sts(&ctx.c, &ctx.name).await?;
                let msg = format!(
                    "step {}/{} complete: {n} pod(s) on {} Ready",
                    i + 1,
                    state.counts.len(),
                    state.to
                );
                let _ = api::record_event(&ctx.c, &cur, "CanaryStepComplete", &msg, false).await;
                ctx.rep.event("step-complete", json!({"step": i + 1, "of": state.counts.len(), "seconds": t0.elapsed().as_secs_f64()}), &msg);
                if i + 1 >= state.counts.len() {
                    return done(ctx, &state, began).await;
                }
                i += 1;
            }
            Wait::Gate(msg) if interrupt::requested() => {
                // Asked to stop: no roll-back starts now; report where it stands.
                let at = format!(
                    "step {}/{} at partition {want}, health gate failing ({msg})",
                    i + 1,
                    state.counts.len()
                );
                return Ok(interrupted(ctx, &at, false));
            }
            Wait::Gate(msg) => {
                ctx.rep.event(
                    "gate-failed",
                    json!({"reason": msg}),
                    &format!("health gate failed: {msg}"),
                );
                let cur = api::get_sts(&ctx.c, &ctx.name).await?;
                let _ = api::record_event(&ctx.c, &cur, "CanaryGateFailed", &msg, true).await;
                if !ctx.auto_abort {
                    return Err(Failure::new(Exit::Bad, format!("health gate failed: {msg}"))
                        .hint(format!("abort with: kubectl sts canary {} --abort (the canary state is kept)", ctx.name))
                        .into());
                }
                drop(w);
                return abort(ctx, cur, state, None, &format!("health gate: {msg}")).await;
            }
            Wait::Paused(msg) => {
                ctx.rep
                    .event("paused", json!({"reason": msg}), &format!("paused: {msg}"));
                return Ok(paused(ctx, &msg));
            }
            Wait::TimedOut(msg) => {
                return Err(Failure::new(Exit::Bad, msg)
                    .hint(format!(
                        "re-run to keep waiting, or abort with: kubectl sts canary {} --abort",
                        ctx.name
                    ))
                    .into());
            }
            Wait::Interrupted => {
                let at = format!(
                    "step {}/{} in progress at partition {want}: ordinals {}..{} get {}, the others keep {}",
                    i + 1,
                    state.counts.len(),
                    st + want,
                    st + state.replicas - 1,
                    state.to,
                    state.from
                );
                return Ok(interrupted(ctx, &at, false));
            }
        }
    }
}

pub(super) enum Decision {
    Continue,
    Abort,
    Pause,
    /// Ctrl-C at the prompt.
    Interrupted,
}

pub(super) fn decide(ctx: &Ctx<'_>, i: usize, state: &CanaryState) -> Result<Decision, Failure> {
    if !ctx.tty {
        return Ok(Decision::Pause);
    }
    let items = [
        format!("continue with step {}/{}", i + 1, state.counts.len()),
        "abort (roll back)".to_string(),
        "pause and exit (re-run to resume)".to_string(),
    ];
    let pick = dialoguer::Select::new()
        .with_prompt(format!("step {}/{} complete", i, state.counts.len()))
        .items(&items)
        .default(0)
        .interact();
    let pick = match pick {
        Ok(p) => p,
        Err(e) => {
            let f = prompt_failed(e, "no decision");
            if f.exit == Exit::Interrupted {
                return Ok(Decision::Interrupted);
            }
            return Err(f);
        }
    };
    Ok(match pick {
        0 => Decision::Continue,
        1 => Decision::Abort,
        _ => Decision::Pause,
    })
}

pub(super) async fn wait_observed(ctx: &Ctx<'_>, w: &mut Watch) -> Result<Option<String>, Failure> {
    let deadline = Instant::now() + ctx.timeout;
    loop {
        if let (Some(s), _) = w.snapshot() {
            let og = s
                .status
                .as_ref()
                .and_then(|st| st.observed_generation)
                .unwrap_or(0);
            if og >= s.metadata.generation.unwrap_or(0)
                && let Some(u) = plan::update_revision(&s)
            {
                return Ok(Some(u.to_string()));
            }
        }
        tokio::select! {
            biased;
            _ = signal() => return Ok(None),
            _ = w.changed() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {
                return Err(Failure::new(Exit::Bad, "timed out waiting for the controller to observe the change"));
            }
        }
    }
}

/// Waits for a step by watch: complete, gate failure, pause, timeout or Ctrl-C.
pub(super) async fn wait_step(
    ctx: &Ctx<'_>,
    w: &mut Watch,
    state: &CanaryState,
    partition: i32,
    min_gen: i64,
) -> Result<Wait, Failure> {
    let deadline = Instant::now() + ctx.timeout;
    // Event times have whole seconds.
    let step_since = Timestamp::now().as_second() - 1;
    let mut soak_since: Option<Instant> = None;
    let mut baseline: HashMap<String, i32> = HashMap::new();
    let mut seen_updated: HashSet<String> = HashSet::new();
    let mut seen_ready: HashSet<String> = HashSet::new();
    let progress = Progress::new(ctx.tty && !ctx.rep.json);
    loop {
        if interrupt::requested() {
            return Ok(Wait::Interrupted);
        }
        let (sts, pods) = w.snapshot();
        let Some(sts) = sts else {
            return Err(Failure::cluster(format!(
                "statefulset {} was deleted",
                ctx.name
            )));
        };
        let (mut verdict, views) =
            plan::evaluate_step(&sts, state, partition, &pods, Timestamp::now());
        // The store may not have seen our step patch yet.
        let og = sts
            .status
            .as_ref()
            .and_then(|s| s.observed_generation)
            .unwrap_or(0);
        if og < min_gen && verdict == StepVerdict::Healthy {
            verdict = StepVerdict::Waiting {
                updated: 0,
                ready: 0,
                want: 0,
            };
        }
        let mut restarted = None;
        for v in views
            .iter()
            .filter(|v| v.revision == state.to && v.index >= partition)
        {
            if seen_updated.insert(v.uid.clone()) {
                ctx.rep.event(
                    "pod-updated",
                    json!({"pod": v.name, "revision": v.revision}),
                    &format!("  {} is on {}", v.name, v.revision),
                );
            }
            if v.ready && seen_ready.insert(v.uid.clone()) {
                ctx.rep.event(
                    "pod-ready",
                    json!({"pod": v.name, "revision": v.revision}),
                    &format!("  {} is Ready", v.name),
                );
            }
            let b = baseline.entry(v.uid.clone()).or_insert(v.restarts);
            if v.restarts > *b {
                restarted = Some(format!(
                    "pod {} on {} restarted ({} restarts)",
                    v.name, v.revision, v.restarts
                ));
            }
        }
        // The container's own reason (CrashLoopBackOff, …) is the more telling one.
        if let Some(m) = restarted
            && !matches!(verdict, StepVerdict::GateFailed(_))
        {
            return Ok(Wait::Gate(m));
        }
        let now = Instant::now();
        match verdict {
            StepVerdict::GateFailed(m) => return Ok(Wait::Gate(m)),
            StepVerdict::Paused(m) => return Ok(Wait::Paused(m)),
            StepVerdict::Healthy => {
                let s = *soak_since.get_or_insert(now);
                progress.set(&format!(
                    "soaking: {:.0}s of {}",
                    now.duration_since(s).as_secs_f64(),
                    secs(ctx.soak)
                ));
                if now.duration_since(s) >= ctx.soak {
                    return Ok(Wait::Complete(now));
                }
            }
            StepVerdict::Waiting {
                updated,
                ready,
                want,
            } => {
                progress.set(&format!(
                    "waiting: {updated}/{want} pod(s) updated, {ready} Ready"
                ));
                soak_since = None;
                if updated < want
                    && let Some(m) = plan::failed_create(&w.failed_creates(), &ctx.name, step_since)
                {
                    return Ok(Wait::Gate(format!(
                        "the controller cannot create the new revision's pods: {m}"
                    )));
                }
                if now >= deadline {
                    if updated > ready {
                        return Ok(Wait::Gate(format!(
                            "{} of {want} updated pod(s) not Ready within {}",
                            updated - ready,
                            secs(ctx.timeout)
                        )));
                    }
                    return Ok(Wait::TimedOut(format!(
                        "timed out after {}: {updated} of {want} pod(s) updated, {ready} Ready",
                        secs(ctx.timeout)
                    )));
                }
            }
        }
        let wake = match soak_since {
            Some(s) => (s + ctx.soak).min(deadline),
            None => deadline,
        };
        tokio::select! {
            biased;
            _ = signal() => return Ok(Wait::Interrupted),
            _ = w.changed() => {}
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
    }
}

pub(super) async fn done(ctx: &mut Ctx<'_>, state: &CanaryState, began: Instant) -> Outcome {
    let sts = clear_state(ctx).await?;
    let current = sts
        .status
        .as_ref()
        .and_then(|s| s.current_revision.clone())
        .unwrap_or_default();
    let msg = format!(
        "canary done: every pod at or above partition {} is on {} and Ready",
        state.floor, state.to
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
        json!({"from": state.from, "to": state.to, "floor": state.floor, "currentRevision": current, "seconds": began.elapsed().as_secs_f64(), "stepSeconds": steps, "stepLatencyMs": lat}),
        &format!(
            "{msg}\n  steps took {}; total {:.1}s; step complete → next partition patch: {}\n  currentRevision: {current}{}",
            steps.iter().map(|s| format!("{s:.1}s")).collect::<Vec<_>>().join(", "),
            began.elapsed().as_secs_f64(),
            if lat.is_empty() { "n/a".to_string() } else { lat.iter().map(|l| format!("{l:.0}ms")).collect::<Vec<_>>().join(", ") },
            if state.floor > 0 { " (with a floor above 0 the controller keeps the older currentRevision)" } else { "" }
        ),
    );
    Ok(Exit::Ok)
}
