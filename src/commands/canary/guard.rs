//! What a session does when the canary may have changed under it: say what
//! changed and stop (writing nothing), and keep watching while a prompt is
//! shown.

use super::*;

/// The canary is no longer this session's: say what changed (with the
/// template change when there is one), write nothing, exit 4.
pub(super) async fn lost(ctx: &mut Ctx<'_>, mine: &CanaryState, l: Lost) -> Outcome {
    ctx.rep.clear_live();
    if l == Lost::Deleted {
        return Err(Failure::cluster(format!("statefulset {} was deleted", ctx.name)).into());
    }
    let mut changes = Vec::new();
    if l.template_changed()
        && let Ok(cur) = api::get_sts(&ctx.c, &ctx.name).await
    {
        let (title, list) = outside_changes(ctx, mine, &cur).await;
        ctx.rep.text(&show::changes_text(&title, &list));
        changes = list;
    }
    let msg = format!(
        "{}; this session stopped and wrote nothing",
        l.message(&ctx.name, mine)
    );
    ctx.rep.event(
        "stopped",
        json!({"reason": msg, "changes": show::changes_json(&changes)}),
        "",
    );
    let hint = match &l {
        Lost::TemplateEdited { .. } | Lost::RevisionMoved { .. } => format!(
            "see it with: {}; to roll back to {} (discarding that change): {}; to keep the change and end the canary: kubectl annotate sts {} {}-",
            ctx.status_cmd(),
            mine.from,
            ctx.cmd(" --abort"),
            ctx.target,
            plan::STATE_ANNOTATION
        ),
        Lost::PartitionMoved { .. } => format!(
            "see it with: {}; to roll back to {}: {}; to keep the partition as it is and end the canary: kubectl annotate sts {} {}-",
            ctx.status_cmd(),
            mine.from,
            ctx.cmd(" --abort"),
            ctx.target,
            plan::STATE_ANNOTATION
        ),
        Lost::Aborted { .. } => format!("follow the roll-back with: {}", ctx.status_cmd()),
        _ => format!("see where it stands: {}", ctx.status_cmd()),
    };
    Err(Failure::refused(msg).hint(hint).into())
}

/// What differs between the template the canary set and `cur`'s: the
/// title and the changes. Compares with `from` when the canary's own
/// template cannot be read (its revision not known or gone).
pub(super) async fn outside_changes(
    ctx: &Ctx<'_>,
    mine: &CanaryState,
    cur: &StatefulSet,
) -> (String, Vec<summary::Change>) {
    let now = cur
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    if !mine.to.is_empty()
        && let Ok(Some(rev)) = api::revision(&ctx.c, &mine.to).await
        && let Some(t) = rev
            .data
            .as_ref()
            .and_then(|d| ownership::revision_template(&d.0))
    {
        return (
            format!(
                "changed outside the canary (the canary's template {} → now):",
                mine.to
            ),
            summary::diff(&t, &now),
        );
    }
    let from = ownership::revision_template(&mine.from_data).unwrap_or_default();
    (
        format!(
            "the template now differs from {} (the canary's start) by:",
            mine.from
        ),
        summary::diff(&from, &now),
    )
}

/// Runs a prompt on a blocking thread while the watch goes on: the prompt
/// is cancelled as soon as the canary stops being this session's, or
/// someone asks it something from another terminal (`None` then; the
/// caller re-reads and finds out what).
pub(super) async fn ask_watching<T: Send + 'static>(
    ctx: &Ctx<'_>,
    w: &mut Watch,
    mine: &CanaryState,
    ask: impl FnOnce(&AtomicBool) -> std::io::Result<Answer<T>> + Send + 'static,
) -> Result<Option<Answer<T>>, Failure> {
    ctx.rep.clear_live();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let mut handle = tokio::task::spawn_blocking(move || ask(&flag));
    loop {
        tokio::select! {
            r = &mut handle => {
                return match r {
                    Ok(Ok(a)) => Ok(Some(a)),
                    Ok(Err(e)) => Err(Failure::refused(format!("no decision: {e}"))),
                    Err(e) => Err(Failure::refused(format!("no decision: {e}"))),
                };
            }
            _ = w.changed() => {
                let (sts, _) = w.snapshot();
                let changed = ownership::check(mine, &ctx.uid, sts.as_ref()).is_err()
                    || sts.as_ref().and_then(|s| ownership::pending_request(s, &ctx.ignored)).is_some();
                if changed {
                    cancel.store(true, std::sync::atomic::Ordering::SeqCst);
                    let _ = handle.await;
                    return Ok(None);
                }
            }
        }
    }
}
