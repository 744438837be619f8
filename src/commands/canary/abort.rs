//! Rolling back: restore the starting template and the floor in one patch,
//! delete pods stuck on the canary's revision, wait, clear the state. A
//! template changed outside the canary is shown and discarded only when
//! the person agrees.

use super::*;

/// Why the canary is rolled back.
pub(super) enum Why {
    /// `--abort` (`discard`: `--discard-changes`).
    Requested { discard: bool },
    /// "abort" at the prompt between steps.
    Chosen,
    /// The health gate failed.
    Gate(String),
    /// An interrupted abort is finished.
    Resumed,
}

impl Why {
    fn text(&self) -> String {
        match self {
            Why::Requested { .. } => "aborted by the user".into(),
            Why::Chosen => "aborted by the user between steps".into(),
            Why::Gate(m) => format!("health gate: {m}"),
            Why::Resumed => "abort resumed".into(),
        }
    }
}

/// B10 abort: revert template + partition = floor in one guarded patch, wait
/// for the controller, then delete stuck pods highest first until every
/// index ≥ floor is on `from` and Ready.
pub(super) async fn abort(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    state: CanaryState,
    dry_run: Option<DryRun>,
    why: Why,
) -> Outcome {
    ctx.rep.clear_live();
    let reason = why.text();
    let cause = format!("kubectl sts canary {} --abort: {reason}", ctx.name);
    let resumed = matches!(why, Why::Resumed) || state.phase == plan::CanaryPhase::Aborting;
    // What the abort throws away: a template edited outside the canary.
    let seen = ownership::template_hash(&sts);
    let edited = !resumed && !state.template.is_empty() && seen != state.template;
    if !resumed && !matches!(why, Why::Requested { .. }) {
        // The session's own abort (gate, menu): only while the canary is its own.
        if let Err(l) = ownership::check(&state, &ctx.uid, Some(&sts)) {
            return lost(ctx, &state, l).await;
        }
    }
    let now = sts
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let from_tpl = ownership::revision_template(&state.from_data).unwrap_or_default();
    let mut mine = state.clone();
    mine.request = None;
    mine.last = Some(request(ctx, RequestAction::Abort));
    let rv = sts.metadata.resource_version.clone().unwrap_or_default();
    let patch = plan::abort_patch(&rv, &mine, &cause);
    if edited {
        let (title, list) = outside_changes(ctx, &state, &sts).await;
        ctx.rep.bad(
            "changed-outside",
            json!({"changes": show::changes_json(&list)}),
            &show::changes_text(&title, &list),
        );
        ctx.rep.text(&format!(
            "the abort restores the template of {} and discards these changes",
            state.from
        ));
    }
    match dry_run {
        Some(DryRun::Client) => {
            let undo = summary::diff(&now, &from_tpl);
            ctx.rep.text(&show::changes_text(
                &format!(
                    "the abort would set the pod template back to {} (partition {}):",
                    state.from, state.floor
                ),
                &undo,
            ));
            ctx.rep.event(
                "plan",
                json!({"abortPatch": plan::readable_patch(&patch, false), "changes": show::changes_json(&undo), "discards": edited}),
                "",
            );
            if ctx.show_patch {
                ctx.rep.text(&format!(
                    "abort patch (strategic merge; restores {} and partition {}):\n{}",
                    state.from,
                    state.floor,
                    show::patch_text(&plan::readable_patch(&patch, true))
                ));
            }
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
    if let Why::Requested { discard } = why {
        let asked = if edited && !discard {
            match ctx.prompt {
                Prompt::Interactive | Prompt::AssumeYes if confirm::is_tty() => {
                    let q = format!(
                        "discard those changes and roll statefulset {} back to {}?",
                        ctx.name, state.from
                    );
                    if !Prompt::Interactive.confirm(&q)? {
                        return Ok(declined(ctx));
                    }
                    true
                }
                _ => {
                    return Err(Failure::refused(format!(
                        "the pod template of statefulset {} was changed outside the canary: an abort would discard that change",
                        ctx.name
                    ))
                    .hint(format!(
                        "to roll back anyway and discard it: {}",
                        ctx.cmd(" --abort --discard-changes --yes")
                    ))
                    .into());
                }
            }
        } else {
            false
        };
        if !asked
            && !ctx.prompt.confirm(&format!(
                "abort the canary of statefulset {} and roll back to {}?",
                ctx.name, state.from
            ))?
        {
            return Ok(declined(ctx));
        }
    }
    before_first_write();
    // The controller's status writes move resourceVersion all the time during
    // a rollout: on a conflict, re-read and re-send the same abort (its content
    // comes from the saved state alone) while the state is still this canary's
    // and the template is the one shown.
    let mut patch = patch;
    let mut conflicts = 0;
    let new = loop {
        match api::patch_sts(&ctx.c, &ctx.name, &patch, false).await {
            Ok(n) => break n,
            Err(f) if f.is_conflict() && conflicts < 10 => {
                conflicts += 1;
                let fresh = api::get_sts(&ctx.c, &ctx.name).await?;
                match CanaryState::read(&fresh) {
                    Some(Ok(now)) if ownership::same_canary(&now, &state) => {}
                    _ => {
                        return Err(Failure::refused("abort stopped: the canary state on the StatefulSet changed while aborting; nothing was written")
                            .hint(format!("see where it stands: {}", ctx.status_cmd()))
                            .into());
                    }
                }
                if !resumed && ownership::template_hash(&fresh) != seen {
                    return Err(Failure::refused(format!(
                        "abort stopped: the pod template of statefulset {} changed while aborting; nothing was written",
                        ctx.name
                    ))
                    .hint(format!("re-run to see the change: {}", ctx.cmd(" --abort")))
                    .into());
                }
                let rv = fresh.metadata.resource_version.clone().unwrap_or_default();
                patch = plan::abort_patch(&rv, &mine, &cause);
            }
            Err(f) => return Err(f.into()),
        }
    };
    let min_gen = new.metadata.generation.unwrap_or(0);
    let _ = api::record_event(
        &ctx.c,
        &new,
        "CanaryAborted",
        &format!("rolling back to {}: {reason} ({})", state.from, ctx.me),
        true,
    )
    .await;
    ctx.rep.bad(
        "aborting",
        json!({"from": state.from, "floor": state.floor, "reason": reason, "by": ctx.me}),
        &format!(
            "aborting ({reason}): template restored to {}, partition {}",
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
                    .hint(format!(
                        "see where it stands: {}; the canary state is kept",
                        ctx.status_cmd()
                    ))
                    .into());
            }
            AbortVerdict::Delete(list) => {
                // Re-read the StatefulSet before deleting (someone may have changed it).
                let fresh = api::get_sts(&ctx.c, &ctx.name).await?;
                if let AbortVerdict::Foreign(m) =
                    plan::evaluate_abort(&fresh, &state, min_gen, &pods)
                {
                    return Err(Failure::new(Exit::Bad, format!("abort stopped: {m}"))
                        .hint(format!(
                            "see where it stands: {}; the canary state is kept",
                            ctx.status_cmd()
                        ))
                        .into());
                }
                if let Err(l) = machine::check_abort(&state, &ctx.uid, Some(&fresh)) {
                    if let Lost::StateRemoved(_) = l {
                        // Another session finished this roll-back.
                        break;
                    }
                    return lost(ctx, &state, l).await;
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
                    .hint(format!("re-run to keep going: {}", ctx.cmd(" --abort"))).into());
            }
        }
    }
    drop(w);
    if let Cleared::Lost(l) = clear_state(ctx, &state, true).await? {
        return lost(ctx, &state, l).await;
    }
    ctx.rep.event(
        "aborted",
        json!({"from": state.from, "to": state.to, "reason": reason, "deleted": deleted.len()}),
        &format!(
            "aborted: every pod at or above partition {} is back on {} and Ready",
            state.floor, state.from
        ),
    );
    // Pods below the floor are never touched by the canary; one on the
    // canary's revision got there outside it (a partition lowered by hand).
    // Say so rather than claim every pod is back.
    if let Ok(sts) = api::get_sts(&ctx.c, &ctx.name).await
        && let Ok(pods) = api::pods(&ctx.c, &sts).await
    {
        let left = plan::below_floor_on(&sts, &state.to, state.floor, &pods);
        if !left.is_empty() {
            ctx.rep.note(&format!(
                "{} below the floor (partition {}) still run the canary's revision {}: the partition was lowered outside the canary; to return them to {}: kubectl delete pod {} {} --wait=false",
                left.join(", "),
                state.floor,
                state.to,
                state.from,
                left.join(" "),
                ctx.target.split_once(' ').map(|(_, f)| f).unwrap_or_default()
            ));
        }
    }
    Ok(Exit::Bad)
}

pub(super) fn abort_interrupted(ctx: &Ctx<'_>, state: &CanaryState) -> Exit {
    let at = format!(
        "the roll-back to {} is applied (partition {}); pods are still returning to it",
        state.from, state.floor
    );
    interrupted(ctx, &at, true)
}

/// How clearing the state ended.
pub(super) enum Cleared {
    /// Removed by this session.
    Done(StatefulSet),
    /// Already removed by someone else (nothing written).
    Gone(StatefulSet),
    /// The state is not this canary's any more (nothing written).
    Lost(Lost),
}

/// Removes the canary state annotation, only while it is this canary's
/// (`aborting`: the roll-back's; else the running canary's, template and
/// revision included). Guarded; re-read and retried on conflicts, which the
/// controller's status writes cause during rollouts.
pub(super) async fn clear_state(
    ctx: &mut Ctx<'_>,
    mine: &CanaryState,
    aborting: bool,
) -> Result<Cleared, Failure> {
    for _ in 0..10 {
        let cur = api::get_sts(&ctx.c, &ctx.name).await?;
        let check = if aborting {
            machine::check_abort(mine, &ctx.uid, Some(&cur))
        } else {
            ownership::check(mine, &ctx.uid, Some(&cur))
        };
        match check {
            Ok(()) => {}
            Err(Lost::StateRemoved(_)) => return Ok(Cleared::Gone(cur)),
            Err(l) => return Ok(Cleared::Lost(l)),
        }
        let rv = cur.metadata.resource_version.clone().unwrap_or_default();
        match api::patch_sts(&ctx.c, &ctx.name, &plan::clear_patch(&rv), false).await {
            Ok(s) => return Ok(Cleared::Done(s)),
            Err(f) if f.is_conflict() => continue,
            Err(f) => return Err(f),
        }
    }
    Err(Failure::cluster(format!(
        "could not clear the canary state of statefulset {}: it kept changing",
        ctx.name
    ))
    .hint(format!(
        "re-run the same command to finish: {}",
        ctx.cmd("")
    )))
}
