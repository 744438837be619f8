//! Starting a canary: check, show the plan, confirm, one start patch; or
//! adopt a change already held by a partition.

use super::*;

/// Checks, shows the plan, confirms and sends the start patch. `None` when
/// it was a dry run.
pub(super) async fn start(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    specs: &[plan::StepSpec],
    template_patch: Value,
    images: &[(String, String)],
    args: &CanaryArgs,
) -> Result<Option<CanaryState>, Failure> {
    let pods = api::pods(&ctx.c, &sts).await?;
    let hpa = api::hpa_for(&ctx.c, &ctx.name).await?;
    let (from, floor) = plan::check_startable(&sts, &pods, hpa.as_deref(), args.allow_autoscaler)
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
    let rv = sts.metadata.resource_version.clone().unwrap_or_default();
    // A change that leaves the template as it is would hold the set at a
    // partition with nothing to roll out: find out before the first write.
    let unchanged = match args.dry_run.dry_run {
        Some(DryRun::Client) => args.patch_file.is_none() && plan::images_unchanged(&sts, images),
        _ => {
            let probe = plan::template_probe(&rv, &template_patch);
            let after = api::patch_sts(&ctx.c, &ctx.name, &probe, true)
                .await
                .map_err(invalid_change)?;
            after.spec.map(|s| s.template) == sts.spec.as_ref().map(|s| s.template.clone())
        }
    };
    if unchanged {
        return Err(Failure::usage(format!(
            "the change leaves the pod template of statefulset {} as it is",
            ctx.name
        ))
        .hint("there is nothing to roll out; check the image tag or the patch file"));
    }
    let r = plan::replicas(&sts);
    let counts = plan::resolve_steps(specs, r - floor).map_err(Failure::usage)?;
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
    let state = CanaryState {
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
    };
    let cause = cause_text(args);
    let patch = plan::start_patch(&rv, &template_patch, r, &state, &cause);
    let st = plan::start(&sts);
    ctx.rep.text(&format!("canary of statefulset {} from {from}: {} pods above the floor (partition {floor}), ordinals {}..{}", ctx.name, r - floor, st + floor, st + r - 1));
    for (i, n) in counts.iter().enumerate() {
        let p = state.partition_of(i);
        ctx.rep.text(&format!(
            "  step {}/{}: partition {p} → {n} pod(s) updated: ordinals {}..{}",
            i + 1,
            counts.len(),
            st + p,
            st + r - 1
        ));
    }
    ctx.rep.text(&format!(
        "soak {} per step, timeout {}",
        secs(ctx.soak),
        secs(ctx.timeout)
    ));
    if owners.is_empty() {
        // nothing
    } else {
        ctx.rep.text(&format!(
            "warning: {} (--force-conflicts given)",
            owners.join("; ")
        ));
    }
    match args.dry_run.dry_run {
        Some(DryRun::Client) => {
            ctx.rep.text("start patch (strategic merge, one request):");
            let shown = serde_json::to_string_pretty(&patch).unwrap_or_default();
            if ctx.rep.json {
                ctx.rep.event("plan", json!({"startPatch": patch, "counts": counts, "partitions": (0..counts.len()).map(|i| state.partition_of(i)).collect::<Vec<_>>()}), "");
            } else {
                ctx.rep.text(&shown);
                ctx.rep.text("dry run: nothing was changed");
            }
            return Ok(None);
        }
        Some(DryRun::Server) => {
            api::patch_sts(&ctx.c, &ctx.name, &patch, true)
                .await
                .map_err(invalid_change)?;
            ctx.rep.text(
                "server dry run: the API server accepted the start patch; nothing was changed",
            );
            return Ok(None);
        }
        None => {}
    }
    if !ctx
        .prompt
        .confirm(&format!("start the canary of statefulset {}?", ctx.name))?
    {
        return Err(Failure::refused("not confirmed; nothing was changed"));
    }
    fault("canary-before-start", &ctx.name).await;
    before_first_write();
    let new = api::patch_sts(&ctx.c, &ctx.name, &patch, false).await?;
    let _ = api::record_event(
        &ctx.c,
        &new,
        "CanaryStarted",
        &format!("canary started from {from}: {cause}"),
        false,
    )
    .await;
    ctx.rep.event(
        "started",
        json!({"from": from, "floor": floor, "replicas": r, "counts": counts}),
        &format!("started: template changed and held at partition {r}"),
    );
    Ok(Some(state))
}

/// Adopts a change already applied under a hold: writes the state only.
pub(super) async fn adopt(
    ctx: &mut Ctx<'_>,
    sts: StatefulSet,
    specs: &[plan::StepSpec],
    args: &CanaryArgs,
) -> Result<Option<CanaryState>, Failure> {
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
    let (from, to) = plan::check_adoptable(&sts, &pods, args.floor.unwrap_or(0))
        .map_err(|r| Failure::refused(r.reason).hint(r.fix))?;
    let r = plan::replicas(&sts);
    let counts = plan::resolve_steps(specs, r - args.floor.unwrap_or(0)).map_err(Failure::usage)?;
    let rev = api::revision(&ctx.c, &from).await?.ok_or_else(|| {
        Failure::refused(format!(
            "ControllerRevision {from} no longer exists: the canary could not be rolled back"
        ))
        .hint("raise revisionHistoryLimit, or roll out without adopting")
    })?;
    let state = CanaryState {
        from: from.clone(),
        to: to.clone(),
        floor: args.floor.unwrap_or(0),
        replicas: r,
        steps: specs.to_vec(),
        counts,
        completed: 0,
        phase: plan::CanaryPhase::Running,
        from_data: rev.data.map(|d| d.0).unwrap_or(Value::Null),
        started: Timestamp::now().to_string(),
    };
    let patch = plan::adopt_patch(
        &sts.metadata.resource_version.clone().unwrap_or_default(),
        &state,
    );
    ctx.rep.text(&format!(
        "adopting the held change of statefulset {}: {from} → {to}, floor {}, partition {}",
        ctx.name,
        args.floor.unwrap_or(0),
        plan::partition(&sts).unwrap_or(0)
    ));
    match args.dry_run.dry_run {
        Some(DryRun::Client) => {
            ctx.rep
                .text(&serde_json::to_string_pretty(&patch).unwrap_or_default());
            ctx.rep.text("dry run: nothing was changed");
            return Ok(None);
        }
        Some(DryRun::Server) => {
            api::patch_sts(&ctx.c, &ctx.name, &patch, true).await?;
            ctx.rep
                .text("server dry run: the API server accepted the patch; nothing was changed");
            return Ok(None);
        }
        None => {}
    }
    if !ctx.prompt.confirm(&format!(
        "adopt and continue the canary of statefulset {}?",
        ctx.name
    ))? {
        return Err(Failure::refused("not confirmed; nothing was changed"));
    }
    before_first_write();
    let new = api::patch_sts(&ctx.c, &ctx.name, &patch, false).await?;
    let _ = api::record_event(
        &ctx.c,
        &new,
        "CanaryStarted",
        &format!("canary adopted: {from} → {to}"),
        false,
    )
    .await;
    ctx.rep.event(
        "started",
        json!({"from": from, "to": to, "floor": args.floor.unwrap_or(0), "replicas": r, "adopted": true}),
        "adopted",
    );
    Ok(Some(state))
}

/// The API server's 400/422 on the change itself (e.g. an image it
/// rejects) is a value that does not fit the object: exit 2.
fn invalid_change(f: Failure) -> Failure {
    match f.status {
        Some(400 | 422) => Failure::usage(format!(
            "the API server rejects the change: {}",
            f.server_reason()
        ))
        .hint("fix the --image or --patch-file value; nothing was changed"),
        _ => f,
    }
}
