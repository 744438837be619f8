//! `--pause` and `--promote` from another terminal: the request is recorded
//! in the canary state (with who asked), and the session running the canary
//! acts on it and says so in the state. Without an answer within a few
//! seconds nothing drives the canary: a pause is then already in effect,
//! and a promote is carried out by this process.

use super::*;

/// How a request ended.
enum Answered {
    /// A running session acted on it (who).
    Handled(String),
    /// Nobody answered within [`ANSWER_WAIT`].
    NoAnswer(Box<StatefulSet>),
    /// The canary changed meanwhile.
    Lost(Lost),
}

/// `--pause`.
pub(super) async fn pause(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    existing: Option<CanaryState>,
) -> Outcome {
    let Some(st) = existing else {
        return Err(
            Failure::refused(format!("no canary in progress on statefulset {}", ctx.name))
                .hint(format!(
                    "there is nothing to pause; see the StatefulSet with: {}",
                    ctx.status_cmd()
                ))
                .into(),
        );
    };
    if let Some(f) = not_running(ctx, &st) {
        return Err(f.into());
    }
    if !ctx.prompt.confirm(&format!(
        "ask the session running the canary of statefulset {} to pause?",
        ctx.name
    ))? {
        return Ok(declined(ctx));
    }
    match ask(ctx, sts, RequestAction::Pause).await? {
        Answered::Handled(by) => {
            ctx.rep.event(
                "pause-handled",
                json!({"by": by}),
                &format!("paused: the session of {by} stopped the canary"),
            );
            ctx.rep
                .note(&format!("the canary is paused; {}", ctx.resume_or_abort()));
            Ok(Exit::Ok)
        }
        Answered::NoAnswer(cur) => {
            let p = plan::partition(&cur).unwrap_or(0);
            ctx.rep.event(
                "pause-unanswered",
                json!({"partition": p}),
                &format!(
                    "no running session answered within {}s: nothing drives the canary, so it stays where it is (partition {p}); a session that answers later pauses",
                    ANSWER_WAIT.as_secs()
                ),
            );
            ctx.rep
                .note(&format!("the canary is paused; {}", ctx.resume_or_abort()));
            Ok(Exit::Ok)
        }
        Answered::Lost(l) => lost(ctx, &st, l).await,
    }
}

/// `--promote` while a canary exists.
pub(super) async fn promote(ctx: &mut Ctx<'_>, sts: StatefulSet, st: CanaryState) -> Outcome {
    if let Some(f) = not_running(ctx, &st) {
        return Err(f.into());
    }
    // Promoting spreads the canary's revision to every pod: never while the
    // pods already on it are failing.
    let pods = api::pods(&ctx.c, &sts).await?;
    let failing = plan::unready_on(&st.to, &pods);
    if !failing.is_empty() {
        return Err(Failure::refused(format!(
            "promote refused: {} pod(s) on the canary's revision {} are not Ready: {}",
            failing.len(),
            st.to,
            failing.join(", ")
        ))
        .hint(format!(
            "roll back with: {}; or see where it stands: {}",
            ctx.cmd(" --abort"),
            ctx.status_cmd()
        ))
        .into());
    }
    if !ctx.prompt.confirm(&format!(
        "promote: update every remaining pod of statefulset {} now?",
        ctx.name
    ))? {
        return Ok(declined(ctx));
    }
    match ask(ctx, sts, RequestAction::Promote).await? {
        Answered::Handled(by) => {
            ctx.rep.event(
                "promote-handled",
                json!({"by": by}),
                &format!("promoting: the session of {by} takes the last step now"),
            );
            Ok(Exit::Ok)
        }
        Answered::NoAnswer(cur) => {
            ctx.rep.text(&format!(
                "no running session answered within {}s: promoting from here",
                ANSWER_WAIT.as_secs()
            ));
            let mine = match CanaryState::read(&cur) {
                Some(Ok(s)) if ownership::same_canary(&s, &st) => s,
                _ => {
                    let l = ownership::check(&st, &ctx.uid, Some(&cur))
                        .err()
                        .unwrap_or(Lost::StateRemoved(ownership::Removal::Unknown));
                    return lost(ctx, &st, l).await;
                }
            };
            // The pending request is this process's own: the step loop acts
            // on it (records it as handled and takes the last step).
            drive(ctx, mine, false).await
        }
        Answered::Lost(l) => lost(ctx, &st, l).await,
    }
}

/// Refuses a request to a canary that is being rolled back.
fn not_running(ctx: &Ctx<'_>, st: &CanaryState) -> Option<Failure> {
    (st.phase == plan::CanaryPhase::Aborting).then(|| {
        Failure::refused(format!(
            "the canary on statefulset {} is being aborted",
            ctx.name
        ))
        .hint(format!(
            "finish the roll-back with: {}",
            ctx.cmd(" --abort")
        ))
    })
}

/// Records the request (guarded, re-read on conflicts while the canary is
/// the same) and waits for a session to answer it.
async fn ask(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    action: RequestAction,
) -> Result<Answered, Failure> {
    let req = request(ctx, action);
    let mut cur = sts;
    let mut conflicts = 0;
    before_first_write();
    let first = loop {
        let st = match CanaryState::read(&cur) {
            Some(Ok(s)) => s,
            Some(Err(e)) => return Ok(Answered::Lost(Lost::Unreadable(e))),
            None => {
                return Ok(Answered::Lost(Lost::StateRemoved(
                    ownership::Removal::Unknown,
                )));
            }
        };
        if st.phase == plan::CanaryPhase::Aborting {
            return Err(not_running(ctx, &st).unwrap_or_else(|| Failure::refused("aborting")));
        }
        let mut next = st;
        next.request = Some(req.clone());
        let rv = cur.metadata.resource_version.clone().unwrap_or_default();
        match api::patch_sts(&ctx.c, &ctx.name, &plan::state_patch(&rv, &next), false).await {
            Ok(n) => break (n, next),
            Err(f) if f.is_conflict() && conflicts < 10 => {
                conflicts += 1;
                let fresh = api::get_sts(&ctx.c, &ctx.name).await?;
                let same = match (CanaryState::read(&fresh), CanaryState::read(&cur)) {
                    (Some(Ok(a)), Some(Ok(b))) => ownership::same_canary(&a, &b),
                    _ => false,
                };
                if !same {
                    let prev = CanaryState::read(&cur).and_then(Result::ok);
                    let l = match prev {
                        Some(p) => ownership::check(&p, &ctx.uid, Some(&fresh)).err(),
                        None => None,
                    };
                    return Ok(Answered::Lost(
                        l.unwrap_or(Lost::StateRemoved(ownership::Removal::Unknown)),
                    ));
                }
                cur = fresh;
            }
            Err(f) => return Err(f),
        }
    };
    let (written, mine) = first;
    ctx.asked = Some(req.id.clone());
    ctx.rep.event(
        "requested",
        json!({"action": action.as_str(), "id": req.id, "by": req.by}),
        &format!(
            "{} requested; waiting up to {}s for the running session to act on it",
            action.as_str(),
            ANSWER_WAIT.as_secs()
        ),
    );
    let mut w = Watch::start(&ctx.c, &written).await;
    w.ready().await;
    let deadline = Instant::now() + ANSWER_WAIT;
    loop {
        let (s, _) = w.snapshot();
        if let Some(s) = s.as_ref() {
            match CanaryState::read(s) {
                Some(Ok(now)) if ownership::same_canary(&now, &mine) => {
                    if let Some(last) = now.last.as_ref().filter(|l| l.id == req.id) {
                        return Ok(Answered::Handled(
                            last.handled_by.clone().unwrap_or_default(),
                        ));
                    }
                    if now.phase == plan::CanaryPhase::Aborting {
                        return Ok(Answered::Lost(
                            ownership::check(&mine, &ctx.uid, Some(s))
                                .err()
                                .unwrap_or(Lost::Aborted { by: None, at: None }),
                        ));
                    }
                }
                _ => {
                    let l = ownership::check(&mine, &ctx.uid, Some(s))
                        .err()
                        .unwrap_or(Lost::StateRemoved(ownership::Removal::Unknown));
                    return Ok(Answered::Lost(l));
                }
            }
        }
        tokio::select! {
            biased;
            _ = signal() => {
                // The request is recorded; a session may still act on it.
                let at = format!("the {} request is recorded; a running session acts on it", action.as_str());
                ctx.rep.note(&format!("interrupted; the StatefulSet is left consistent: {at}"));
                return Err(Failure::new(Exit::Interrupted, "interrupted while waiting for an answer")
                    .hint(format!("see where it stands: {}", ctx.status_cmd())));
            }
            _ = w.changed() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {
                let cur = api::get_sts(&ctx.c, &ctx.name).await?;
                return Ok(Answered::NoAnswer(Box::new(cur)));
            }
        }
    }
}
