//! Starting a canary: check, show the plan (what changes first), confirm,
//! one start patch; or adopt a change already held by a partition.

use super::*;

/// How a start ended before the steps.
pub(super) enum Started {
    /// The start patch (or the adoption) is applied.
    Applied(Box<CanaryState>),
    /// A dry run: nothing was changed.
    DryRun,
    /// The person declined: nothing was changed.
    Declined,
}

/// Checks, shows the plan, confirms and sends the start patch.
pub(super) async fn start(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    specs: &[plan::StepSpec],
    template_patch: Value,
    images: &[(String, String)],
    args: &CanaryArgs,
) -> Result<Started, Failure> {
    let pods = api::pods(&ctx.c, &sts).await?;
    let hpa = api::hpa_for(&ctx.c, &ctx.name).await?;
    let (from, floor) = plan::check_startable(
        &sts,
        &pods,
        hpa.as_deref(),
        args.allow_autoscaler,
        &ctx.target,
    )
    .map_err(|r| Failure::refused(r.reason).hint(r.fix))?;
    let containers: Vec<String> = images.iter().map(|(c, _)| c.clone()).collect();
    let owners = plan::foreign_owners(&sts, &containers);
    if !owners.is_empty() && !args.force_conflicts {
        return Err(Failure::refused(format!(
            "another field manager owns fields the canary changes: {}",
            owners.join("; ")
        ))
        .hint(
            "it may revert the canary on its next apply; pass --force-conflicts to proceed anyway",
        ));
    }
    let r = plan::replicas(&sts);
    let counts = plan::resolve_steps(specs, r - floor).map_err(Failure::usage)?;
    if !args.allow_big_steps
        && let Err(e) = plan::check_steps(&counts, r - floor)
    {
        return Err(Failure::usage(e).hint(big_steps_hint(ctx, r - floor)));
    }
    let rv = sts.metadata.resource_version.clone().unwrap_or_default();
    let before = sts
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    // The template after the change: the API server's own answer to a dryRun
    // patch, or (client-side dry run, which sends nothing) a local merge.
    let (after, local) = match args.dry_run.dry_run {
        Some(DryRun::Client) => {
            let cur = serde_json::to_value(&before).unwrap_or(Value::Null);
            let merged = summary::apply_template_patch(&cur, &template_patch);
            (
                serde_json::from_value(merged).unwrap_or_else(|_| before.clone()),
                true,
            )
        }
        _ => {
            let probe = plan::template_probe(&rv, &template_patch);
            let after = api::patch_sts(&ctx.c, &ctx.name, &probe, true)
                .await
                .map_err(|f| invalid_change(ctx, f))?;
            (after.spec.map(|s| s.template).unwrap_or_default(), false)
        }
    };
    let unchanged = if local && args.patch_file.is_none() {
        plan::images_unchanged(&sts, images)
    } else {
        after == before
    };
    if unchanged {
        return Err(Failure::usage(format!(
            "the change leaves the pod template of statefulset {} as it is",
            ctx.name
        ))
        .hint("there is nothing to roll out; check the image tag or the patch file"));
    }
    let rev = api::revision(&ctx.c, &from).await?.ok_or_else(|| {
        Failure::refused(format!(
            "ControllerRevision {from} (the current update revision) does not exist"
        ))
        .hint("wait for the controller and re-run")
    })?;
    let from_data = rev.data.map(|d| d.0).unwrap_or(Value::Null);
    if !from_data["spec"]["template"].is_object() {
        return Err(Failure::refused(format!(
            "ControllerRevision {from} holds no template: an abort could not restore it"
        ))
        .hint("wait for the controller to write a complete revision and re-run"));
    }
    let mut state = CanaryState {
        from: from.clone(),
        to: String::new(),
        floor,
        replicas: r,
        steps: specs.to_vec(),
        counts: counts.clone(),
        completed: 0,
        phase: plan::CanaryPhase::Running,
        from_data,
        started: Timestamp::now().to_string(),
        id: new_id(),
        by: ctx.me.clone(),
        template: ownership::hash_template(&after),
        request: None,
        last: None,
        gate: None,
        set_partition: None,
    };
    let cause = cause_text(args);
    let patch = plan::start_patch(&rv, &template_patch, r, &state, &cause);
    let changes = summary::diff(&before, &after);
    show_plan(ctx, &sts, &state, &changes, local);
    if !owners.is_empty() {
        ctx.rep.text(&format!(
            "warning: {} (--force-conflicts given)",
            owners.join("; ")
        ));
    }
    let partitions: Vec<i32> = (0..counts.len()).map(|i| state.partition_of(i)).collect();
    match args.dry_run.dry_run {
        Some(DryRun::Client) => {
            ctx.rep.event(
                "plan",
                json!({"changes": show::changes_json(&changes), "counts": counts, "partitions": partitions, "startPatch": plan::readable_patch(&patch, false)}),
                "",
            );
            if ctx.show_patch {
                ctx.rep.text(&format!(
                    "start patch (strategic merge, one request; the {} annotation is sent as a JSON string):\n{}",
                    plan::STATE_ANNOTATION,
                    show::patch_text(&plan::readable_patch(&patch, true))
                ));
            }
            ctx.rep.text("dry run: nothing was changed");
            return Ok(Started::DryRun);
        }
        Some(DryRun::Server) => {
            api::patch_sts(&ctx.c, &ctx.name, &patch, true)
                .await
                .map_err(|f| invalid_change(ctx, f))?;
            ctx.rep.event(
                "plan",
                json!({"changes": show::changes_json(&changes), "counts": counts, "partitions": partitions, "startPatch": plan::readable_patch(&patch, false), "serverDryRun": true}),
                "",
            );
            if ctx.show_patch {
                ctx.rep
                    .text(&show::patch_text(&plan::readable_patch(&patch, true)));
            }
            ctx.rep.text(
                "server dry run: the API server accepted the start patch; nothing was changed",
            );
            return Ok(Started::DryRun);
        }
        None => {}
    }
    ctx.rep.clear_live();
    if !ctx
        .prompt
        .confirm(&format!("start the canary of statefulset {}?", ctx.name))?
    {
        return Ok(Started::Declined);
    }
    fault("canary-before-start", &ctx.name).await;
    before_first_write();
    let new = match api::patch_sts(&ctx.c, &ctx.name, &patch, false).await {
        Ok(n) => n,
        Err(f) if f.is_conflict() => {
            return Err(Failure::refused(format!(
                "statefulset {} changed since the plan was made; nothing was changed",
                ctx.name
            ))
            .hint(format!("re-run to plan again: {}", cause_text(args))));
        }
        Err(f) => return Err(f),
    };
    // The API server's template is the reference (a mutating webhook may add
    // to it); the first step writes the state again.
    state.template = ownership::template_hash(&new);
    let _ = api::record_event(
        &ctx.c,
        &new,
        "CanaryStarted",
        &format!("canary started from {from} by {}: {cause}", ctx.me),
        false,
    )
    .await;
    ctx.rep.event(
        "started",
        json!({"from": from, "floor": floor, "replicas": r, "counts": counts, "id": state.id, "by": state.by, "changes": show::changes_json(&changes)}),
        &format!("started: template changed and held at partition {r}"),
    );
    Ok(Started::Applied(Box::new(state)))
}

/// The plan: what changes first, then the steps.
fn show_plan(
    ctx: &Ctx<'_>,
    sts: &StatefulSet,
    state: &CanaryState,
    changes: &[summary::Change],
    local: bool,
) {
    let title = if local {
        format!(
            "changes to the pod template of statefulset {} (computed locally; --dry-run=server asks the API server):",
            ctx.name
        )
    } else {
        format!("changes to the pod template of statefulset {}:", ctx.name)
    };
    ctx.rep.text(&show::changes_text(&title, changes));
    let st = plan::start(sts);
    let r = state.replicas;
    let floor = state.floor;
    ctx.rep.text(&format!(
        "canary from {}: {} pods above the floor (partition {floor}), ordinals {}..{}",
        state.from,
        r - floor,
        st + floor,
        st + r - 1
    ));
    for (i, n) in state.counts.iter().enumerate() {
        let p = state.partition_of(i);
        ctx.rep.text(&format!(
            "  step {}/{}: partition {p} → {n} pod(s) updated: ordinals {}..{}",
            i + 1,
            state.counts.len(),
            st + p,
            st + r - 1
        ));
    }
    ctx.rep.text(&format!(
        "soak {} per step, timeout {}",
        secs(ctx.soak),
        secs(ctx.timeout)
    ));
}

/// The hint for steps that are not a canary: smaller steps, or the flag.
fn big_steps_hint(ctx: &Ctx<'_>, extent: i32) -> String {
    let smaller = if extent > 1 {
        "use a smaller first step (e.g. --steps 1,50%,100%), or "
    } else {
        "only one pod is above the floor; "
    };
    format!(
        "{smaller}to roll out anyway re-run with --allow-big-steps: {}",
        rerun_with(ctx, "--allow-big-steps")
    )
}

/// This command line again, with `extra` added (and `-n` when missing).
pub(super) fn rerun_with(ctx: &Ctx<'_>, extra: &str) -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = vec!["kubectl".to_string(), "sts".to_string()];
    let has_ns = args
        .iter()
        .any(|a| a == "-n" || a == "--namespace" || a.starts_with("--namespace="));
    out.extend(args.iter().map(|a| quote(a)));
    if !has_ns {
        out.push(format!("-n {}", ctx.c.namespace));
    }
    out.push(extra.to_string());
    out.join(" ")
}

fn quote(a: &str) -> String {
    let plain = !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=.,:/%@+".contains(c));
    if plain {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', "'\\''"))
    }
}

/// Adopts a change already applied under a hold: writes the state only.
pub(super) async fn adopt(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    specs: &[plan::StepSpec],
    args: &CanaryArgs,
) -> Result<Started, Failure> {
    let pods = api::pods(&ctx.c, &sts).await?;
    let hpa = api::hpa_for(&ctx.c, &ctx.name).await?;
    if let Some(h) = hpa
        && !args.allow_autoscaler
    {
        return Err(Failure::refused(format!(
            "HorizontalPodAutoscaler {h} targets statefulset {}",
            ctx.name
        ))
        .hint("pause it, or pass --allow-autoscaler"));
    }
    let floor = args.floor.unwrap_or(0);
    let (from, to) = plan::check_adoptable(&sts, &pods, floor)
        .map_err(|r| Failure::refused(r.reason).hint(r.fix))?;
    let r = plan::replicas(&sts);
    let counts = plan::resolve_steps(specs, r - floor).map_err(Failure::usage)?;
    if !args.allow_big_steps
        && let Err(e) = plan::check_steps(&counts, r - floor)
    {
        return Err(Failure::usage(e).hint(big_steps_hint(ctx, r - floor)));
    }
    let rev = api::revision(&ctx.c, &from).await?.ok_or_else(|| {
        Failure::refused(format!(
            "ControllerRevision {from} no longer exists: the canary could not be rolled back"
        ))
        .hint("raise revisionHistoryLimit, or roll out without adopting")
    })?;
    let from_data = rev.data.map(|d| d.0).unwrap_or(Value::Null);
    let state = CanaryState {
        from: from.clone(),
        to: to.clone(),
        floor,
        replicas: r,
        steps: specs.to_vec(),
        counts,
        completed: 0,
        phase: plan::CanaryPhase::Running,
        from_data: from_data.clone(),
        started: Timestamp::now().to_string(),
        id: new_id(),
        by: ctx.me.clone(),
        template: ownership::template_hash(&sts),
        request: None,
        last: None,
        gate: None,
        set_partition: None,
    };
    let patch = plan::adopt_patch(
        &sts.metadata.resource_version.clone().unwrap_or_default(),
        &state,
    );
    let before = ownership::revision_template(&from_data).unwrap_or_default();
    let now = sts
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let changes = summary::diff(&before, &now);
    ctx.rep.text(&show::changes_text(
        &format!(
            "the held change of statefulset {} ({from} → {to}):",
            ctx.name
        ),
        &changes,
    ));
    ctx.rep.text(&format!(
        "adopting it: floor {floor}, partition {}",
        plan::partition(&sts).unwrap_or(0)
    ));
    match args.dry_run.dry_run {
        Some(DryRun::Client) => {
            ctx.rep.event(
                "plan",
                json!({"changes": show::changes_json(&changes), "counts": state.counts, "adoptPatch": plan::readable_patch(&patch, false)}),
                "",
            );
            if ctx.show_patch {
                ctx.rep
                    .text(&show::patch_text(&plan::readable_patch(&patch, true)));
            }
            ctx.rep.text("dry run: nothing was changed");
            return Ok(Started::DryRun);
        }
        Some(DryRun::Server) => {
            api::patch_sts(&ctx.c, &ctx.name, &patch, true).await?;
            ctx.rep
                .text("server dry run: the API server accepted the patch; nothing was changed");
            return Ok(Started::DryRun);
        }
        None => {}
    }
    if !ctx.prompt.confirm(&format!(
        "adopt and continue the canary of statefulset {}?",
        ctx.name
    ))? {
        return Ok(Started::Declined);
    }
    before_first_write();
    let new = match api::patch_sts(&ctx.c, &ctx.name, &patch, false).await {
        Ok(n) => n,
        Err(f) if f.is_conflict() => {
            return Err(Failure::refused(format!(
                "statefulset {} changed since the plan was made; nothing was changed",
                ctx.name
            ))
            .hint(format!("re-run to plan again: {}", ctx.cmd(" --adopt"))));
        }
        Err(f) => return Err(f),
    };
    let _ = api::record_event(
        &ctx.c,
        &new,
        "CanaryStarted",
        &format!("canary adopted by {}: {from} → {to}", ctx.me),
        false,
    )
    .await;
    ctx.rep.event(
        "started",
        json!({"from": from, "to": to, "floor": floor, "replicas": r, "adopted": true, "id": state.id, "by": state.by}),
        "adopted",
    );
    Ok(Started::Applied(Box::new(state)))
}

/// The API server's 400/422 on the change itself (e.g. an image it
/// rejects) is a value that does not fit the object: exit 2.
fn invalid_change(_ctx: &Ctx<'_>, f: Failure) -> Failure {
    match f.status {
        Some(400 | 422) => Failure::usage(format!(
            "the API server rejects the change: {}",
            f.server_reason()
        ))
        .hint("fix the --image or --patch-file value; nothing was changed"),
        _ => f,
    }
}
