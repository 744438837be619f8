//! Rolling back: restore the starting template and the floor in one patch,
//! delete pods stuck on the canary's revision, wait, clear the state.

use super::*;

/// B10 abort: revert template + partition = floor in one guarded patch, wait
/// for the controller, then delete stuck pods highest first until every
/// index ≥ floor is on `from` and Ready.
pub(super) async fn abort(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    state: CanaryState,
    dry_run: Option<DryRun>,
    why: &str,
) -> Outcome {
    let rv = sts.metadata.resource_version.clone().unwrap_or_default();
    let cause = format!("kubectl sts canary {} --abort: {why}", ctx.name);
    let patch = plan::abort_patch(&rv, &state, &cause);
    match dry_run {
        Some(DryRun::Client) => {
            ctx.rep.text(&format!(
                "abort patch (strategic merge; restores {} and partition {}):",
                state.from, state.floor
            ));
            ctx.rep
                .text(&serde_json::to_string_pretty(&patch).unwrap_or_default());
            ctx.rep.text("then: delete, highest ordinal first, each pod at or above the floor that is not Ready and not on the restored revision");
            ctx.rep.text("dry run: nothing was changed");
            return Ok(Exit::Ok);
        }
        Some(DryRun::Server) => {
            api::patch_sts(&ctx.c, &ctx.name, &patch, true).await?;
            ctx.rep.text(
                "server dry run: the API server accepted the abort patch; nothing was changed",
            );
            return Ok(Exit::Ok);
        }
        None => {}
    }
    if state.phase != plan::CanaryPhase::Aborting
        && why.starts_with("aborted by the user")
        && !ctx.prompt.confirm(&format!(
            "abort the canary of statefulset {} and roll back to {}?",
            ctx.name, state.from
        ))?
    {
        return Err(Failure::refused("not confirmed; nothing was changed").into());
    }
    before_first_write();
    // The controller's status writes move resourceVersion all the time during
    // a rollout: on a conflict, re-read and re-send the same abort (its content
    // comes from the saved state alone) while the state is still this canary's.
    let mut patch = patch;
    let mut conflicts = 0;
    let new = loop {
        match api::patch_sts(&ctx.c, &ctx.name, &patch, false).await {
            Ok(n) => break n,
            Err(f) if f.is_conflict() && conflicts < 5 => {
                conflicts += 1;
                let fresh = api::get_sts(&ctx.c, &ctx.name).await?;
                match CanaryState::read(&fresh) {
                    Some(Ok(now)) if now.from == state.from && now.to == state.to => {}
                    _ => {
                        return Err(Failure::new(Exit::Bad, "abort stopped: the canary state on the StatefulSet changed while aborting")
                            .hint("inspect it with: kubectl sts status")
                            .into());
                    }
                }
                let rv = fresh.metadata.resource_version.clone().unwrap_or_default();
                patch = plan::abort_patch(&rv, &state, &cause);
            }
            Err(f) => return Err(f.into()),
        }
    };
    let min_gen = new.metadata.generation.unwrap_or(0);
    let _ = api::record_event(
        &ctx.c,
        &new,
        "CanaryAborted",
        &format!("rolling back to {}: {why}", state.from),
        true,
    )
    .await;
    ctx.rep.event(
        "aborting",
        json!({"from": state.from, "floor": state.floor, "reason": why}),
        &format!(
            "aborting ({why}): template restored to {}, partition {}",
            state.from, state.floor
        ),
    );
    fault("canary-abort-applied", &ctx.name).await;
    let mut w = Watch::start(&ctx.c, &new).await;
    w.ready().await;
    let deadline = Instant::now() + ctx.timeout;
    let mut deleted: HashSet<String> = HashSet::new();
    loop {
        if interrupt::requested() {
            return Ok(abort_interrupted(ctx, &state));
        }
        let (s, pods) = w.snapshot();
        let Some(s) = s else {
            return Err(Failure::cluster(format!("statefulset {} was deleted", ctx.name)).into());
        };
        match plan::evaluate_abort(&s, &state, min_gen, &pods) {
            AbortVerdict::Done => break,
            AbortVerdict::Foreign(m) => {
                return Err(Failure::new(Exit::Bad, format!("abort stopped: {m}"))
                    .hint("inspect it with: kubectl sts status; the canary state is kept")
                    .into());
            }
            AbortVerdict::Delete(list) => {
                // Re-read the StatefulSet before deleting (someone may have changed it).
                let fresh = api::get_sts(&ctx.c, &ctx.name).await?;
                if let AbortVerdict::Foreign(m) =
                    plan::evaluate_abort(&fresh, &state, min_gen, &pods)
                {
                    return Err(Failure::new(Exit::Bad, format!("abort stopped: {m}")).into());
                }
                for (pod, uid, prv) in list {
                    if api::delete_pod(&ctx.c, &pod, &uid, &prv).await?
                        && deleted.insert(uid.clone())
                    {
                        ctx.rep.event(
                            "pod-deleted",
                            json!({"pod": pod, "uid": uid}),
                            &format!(
                                "  deleted {pod}: stuck on the canary's revision and not Ready"
                            ),
                        );
                    }
                }
            }
            AbortVerdict::WaitObserved | AbortVerdict::Waiting { .. } => {}
        }
        tokio::select! {
            biased;
            _ = signal() => return Ok(abort_interrupted(ctx, &state)),
            _ = w.changed() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {
                return Err(Failure::new(Exit::Bad, format!("abort timed out after {}: not every pod is back on {} and Ready", secs(ctx.timeout), state.from))
                    .hint(format!("re-run to keep going: kubectl sts canary {} --abort", ctx.name)).into());
            }
        }
    }
    drop(w);
    clear_state(ctx).await?;
    ctx.rep.event(
        "aborted",
        json!({"from": state.from, "to": state.to, "reason": why, "deleted": deleted.len()}),
        &format!(
            "aborted: every pod at or above partition {} is back on {} and Ready",
            state.floor, state.from
        ),
    );
    Ok(Exit::Bad)
}

pub(super) fn abort_interrupted(ctx: &Ctx<'_>, state: &CanaryState) -> Exit {
    let at = format!(
        "the roll-back to {} is applied (partition {}); pods are still returning to it",
        state.from, state.floor
    );
    interrupted(ctx, &at, true)
}

/// Removes the canary state annotation (guarded; re-read and retried on
/// conflicts, which the controller's status writes cause during rollouts).
pub(super) async fn clear_state(ctx: &mut Ctx<'_>) -> Result<StatefulSet, Failure> {
    for _ in 0..6 {
        let cur = api::get_sts(&ctx.c, &ctx.name).await?;
        let rv = cur.metadata.resource_version.clone().unwrap_or_default();
        match api::patch_sts(&ctx.c, &ctx.name, &plan::clear_patch(&rv), false).await {
            Ok(s) => return Ok(s),
            Err(f) if f.is_conflict() => continue,
            Err(f) => return Err(f),
        }
    }
    Err(Failure::cluster(format!(
        "could not clear the canary state of statefulset {}: it kept changing",
        ctx.name
    ))
    .hint("re-run the same command to finish"))
}
