//! Process supervision: every component is spawned from one dedicated thread
//! with `PR_SET_PDEATHSIG`, so when the owner of the sandbox goes away (normal
//! exit, panic, or SIGKILL) the kernel kills the components too.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

/// One running component.
pub struct Proc {
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub log: PathBuf,
    pub child: Child,
}

impl Proc {
    /// The OS process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it has exited (and how).
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(st)) => Some(st.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// SIGTERM, then SIGKILL after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        if self.exited().is_some() {
            return;
        }
        signal(self.pid(), libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last `n` lines of its log.
    pub fn log_tail(&self, n: usize) -> String {
        tail(&self.log, n)
    }
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Sends a signal to a process id.
pub fn signal(pid: u32, sig: i32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    // SAFETY: kill(2) with a plain pid and signal number has no memory effects.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Whether a process id is alive.
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// A thread that owns every spawned child (PDEATHSIG is tied to the thread
/// that forked the child, so the spawner must outlive the components).
pub struct Spawner {
    tx: Option<mpsc::Sender<SpawnRequest>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Default for Spawner {
    fn default() -> Self {
        Spawner::new()
    }
}

impl Spawner {
    pub fn new() -> Spawner {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        let thread = std::thread::Builder::new()
            .name("sandbox-spawner".into())
            .spawn(move || {
                while let Ok((mut cmd, reply)) = rx.recv() {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .ok();
        Spawner {
            tx: Some(tx),
            thread,
        }
    }

    /// Starts `program args…` with stdout and stderr appended to `log`.
    pub fn spawn(&self, name: &str, program: &Path, args: Vec<String>, log: &Path) -> Result<Proc> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(program);
        cmd.args(&args).stdin(Stdio::null()).stdout(out).stderr(err);
        set_pdeathsig(&mut cmd);
        let (rtx, rrx) = mpsc::channel();
        self.tx
            .as_ref()
            .ok_or_else(|| anyhow!("spawner stopped"))?
            .send((cmd, rtx))
            .map_err(|_| anyhow!("spawner thread is gone"))?;
        let child = rrx
            .recv()
            .map_err(|_| anyhow!("spawner thread is gone"))?
            .with_context(|| format!("starting {name} ({})", program.display()))?;
        Ok(Proc {
            name: name.to_string(),
            program: program.to_path_buf(),
            args,
            log: log.to_path_buf(),
            child,
        })
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn set_pdeathsig(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no
    // memory of the parent; it is the documented way to tie a child's life to
    // its parent thread.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            Ok(())
        });
    }
}
