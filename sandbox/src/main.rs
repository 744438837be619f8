//! `sts-sandbox`: start, wait for and stop the local control plane.
//!
//! ```text
//! sts-sandbox up    [--dir DIR] [--workers N]   run in the foreground until SIGTERM/SIGINT
//! sts-sandbox wait  [--dir DIR] [--timeout S]   wait until a starting sandbox is ready
//! sts-sandbox down  [--dir DIR]                 stop a running sandbox
//! sts-sandbox env   [--dir DIR]                 print `export KUBECONFIG=…`
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sts_sandbox::{Options, Sandbox, peak_rss_kib, procs};

struct Args {
    cmd: String,
    dir: PathBuf,
    workers: usize,
    timeout: u64,
}

fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("STS_SANDBOX_DIR") {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("kubectl-sts").join("sandbox")
}

fn parse() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let cmd = it.next().unwrap_or_default();
    let mut a = Args {
        cmd,
        dir: default_dir(),
        workers: 3,
        timeout: 300,
    };
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--dir" => a.dir = PathBuf::from(val()?),
            "--workers" => a.workers = val()?.parse().context("--workers takes a number")?,
            "--timeout" => a.timeout = val()?.parse().context("--timeout takes seconds")?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

async fn up(a: &Args) -> Result<()> {
    let sup = a.dir.join("supervisor.pid");
    if let Some(pid) = read_pid(&sup)
        && procs::alive(pid)
        && pid != std::process::id()
    {
        bail!(
            "a sandbox is already running in {} (pid {pid}); stop it with: sts-sandbox down --dir {}",
            a.dir.display(),
            a.dir.display()
        );
    }
    // Components left behind by a supervisor that was killed outright.
    for name in [
        "kwok",
        "kube-scheduler",
        "kube-controller-manager",
        "kube-apiserver",
        "etcd",
    ] {
        if let Some(pid) = read_pid(&a.dir.join(format!("{name}.pid")))
            && procs::alive(pid)
        {
            procs::signal(pid, libc::SIGKILL);
        }
    }
    std::fs::create_dir_all(&a.dir)?;
    std::fs::write(&sup, std::process::id().to_string())?;
    let mut opts = Options::new(&a.dir)?;
    opts.workers = a.workers;
    opts.verbose = true;
    let mut sb = match Sandbox::start(opts).await {
        Ok(sb) => sb,
        Err(e) => {
            let _ = std::fs::create_dir_all(&a.dir);
            let _ = std::fs::write(a.dir.join("failed"), format!("{e:#}\n"));
            let _ = std::fs::remove_file(&sup);
            return Err(e);
        }
    };
    let kc = sb.kubeconfig();
    std::fs::write(
        a.dir.join("env"),
        format!(
            "export KUBECONFIG={}\nexport STS_SANDBOX_VIEWER_KUBECONFIG={}\nexport STS_SANDBOX_AUDIT_LOG={}\n",
            kc.display(),
            sb.viewer_kubeconfig().display(),
            sb.audit_log().display()
        ),
    )?;
    std::fs::write(a.dir.join("ready"), format!("{:.1}\n", sb.start_secs))?;
    eprintln!(
        "sandbox: ready in {:.1}s; kubeconfig {}; stop with: sts-sandbox down --dir {}",
        sb.start_secs,
        kc.display(),
        a.dir.display()
    );

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut reported = false;
    let mut restarts = 0;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick() => {
                if !reported && let Err(e) = sb.check_alive() {
                    eprintln!("sandbox: {e:#}");
                    reported = true;
                }
                let r = sb.restarts();
                for line in r.iter().skip(restarts) {
                    eprintln!("{line}");
                }
                restarts = r.len();
            }
        }
    }
    let _ = std::fs::remove_file(a.dir.join("ready"));
    let mut total = 0;
    let mut parts = Vec::new();
    for (name, pid) in sb.pids() {
        if let Some(k) = peak_rss_kib(pid) {
            total += k;
            parts.push(format!("{name} {} MiB", k / 1024));
        }
    }
    eprintln!(
        "sandbox: peak RSS {} (sum {} MiB); stopping",
        parts.join(", "),
        total / 1024
    );
    sb.stop();
    let _ = std::fs::remove_file(&sup);
    eprintln!("sandbox: stopped");
    Ok(())
}

async fn wait(a: &Args) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(a.timeout);
    loop {
        if a.dir.join("ready").exists() {
            return Ok(());
        }
        if let Ok(msg) = std::fs::read_to_string(a.dir.join("failed")) {
            bail!("the sandbox failed to start: {msg}");
        }
        if Instant::now() > deadline {
            bail!(
                "the sandbox in {} was not ready after {}s (see {}/logs)",
                a.dir.display(),
                a.timeout,
                a.dir.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn down(a: &Args) -> Result<()> {
    let Some(pid) = read_pid(&a.dir.join("supervisor.pid")) else {
        eprintln!("sandbox: nothing running in {}", a.dir.display());
        return Ok(());
    };
    procs::signal(pid, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(60);
    while procs::alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if procs::alive(pid) {
        procs::signal(pid, libc::SIGKILL);
    }
    let _ = std::fs::remove_file(a.dir.join("supervisor.pid"));
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let res = match parse() {
        Err(e) => Err(e),
        Ok(a) => match a.cmd.as_str() {
            "up" => up(&a).await,
            "wait" => wait(&a).await,
            "down" => down(&a).await,
            "env" => match std::fs::read_to_string(a.dir.join("env")) {
                Ok(s) => {
                    print!("{s}");
                    Ok(())
                }
                Err(_) => Err(anyhow::anyhow!(
                    "no sandbox is running in {}",
                    a.dir.display()
                )),
            },
            _ => Err(anyhow::anyhow!(
                "usage: sts-sandbox up|wait|down|env [--dir DIR] [--workers N] [--timeout SECS]"
            )),
        },
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sts-sandbox: {e:#}");
            ExitCode::FAILURE
        }
    }
}
