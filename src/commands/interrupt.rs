//! SIGINT and SIGTERM for the commands that write. Until the command arms
//! it (right before its first write), a signal ends the process at once:
//! nothing was changed. Once armed, the first signal is a request: the
//! command finishes the request in flight (each write is atomic), stops at
//! its next safe point and says where the object stands (exit 130). A
//! second signal exits at once.
//!
//! The signal handler itself sets [`PENDING`] (no task has to run first),
//! and [`arm`] checks it after arming: a signal either comes before the arm
//! (and the command exits without writing) or after it (and is a request),
//! never both or neither.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once, OnceLock};

use tokio::sync::Notify;

use crate::cli::ColorChoice;
use crate::error::Exit;
use crate::render::Printer;

static ARMED: AtomicBool = AtomicBool::new(false);
/// A prompt is shown: a signal before the first write is the prompt's
/// answer (it says so and the command exits 130), not an exit from here.
static HELD: AtomicBool = AtomicBool::new(false);

/// Set synchronously by the signal handler.
fn pending() -> &'static Arc<AtomicBool> {
    static P: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    P.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

fn notify() -> &'static Notify {
    static N: OnceLock<Notify> = OnceLock::new();
    N.get_or_init(Notify::new)
}

fn exit_now(message: &str) -> ! {
    crate::commands::confirm::restore_terminal();
    Printer::new(ColorChoice::Never).note(message);
    std::process::exit(i32::from(Exit::Interrupted.code()))
}

const NOTHING_CHANGED: &str = "interrupted; nothing was changed";

/// Starts listening for SIGINT/SIGTERM (once per process; needs a tokio
/// runtime).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(unix)]
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let _ = signal_hook::flag::register(sig, pending().clone());
        }
        let mut signals = Signals::new();
        tokio::spawn(async move {
            let mut seen = 0u32;
            loop {
                signals.next().await;
                #[cfg(not(unix))]
                pending().store(true, Ordering::SeqCst);
                seen += 1;
                if !ARMED.load(Ordering::SeqCst) && !HELD.load(Ordering::SeqCst) {
                    exit_now(NOTHING_CHANGED);
                }
                if seen > 1 {
                    let check = CHECK
                        .get()
                        .cloned()
                        .unwrap_or_else(|| "kubectl sts status".to_string());
                    exit_now(&format!(
                        "interrupted again: exiting at once; check the object with: {check}"
                    ));
                }
                notify().notify_waiters();
            }
        });
    });
}

/// Called right before the first write: from now on a signal is a request
/// to stop at the next safe point. A signal that came before ends the
/// process here, before anything is sent.
pub fn arm() {
    install();
    ARMED.store(true, Ordering::SeqCst);
    if pending().load(Ordering::SeqCst) {
        exit_now(NOTHING_CHANGED);
    }
}

/// The command that shows the object the running command changes (for the
/// message of a second signal).
static CHECK: OnceLock<String> = OnceLock::new();

/// Names the command that shows the object being changed, e.g.
/// `kubectl sts status web -n NS`, for the message of a second signal.
pub fn check_with(command: String) {
    let _ = CHECK.set(command);
}

/// While a prompt is shown (`true`), a signal is left for the prompt to
/// answer instead of ending the process before the first write.
pub fn hold(on: bool) {
    HELD.store(on, Ordering::SeqCst);
}

/// Whether SIGINT or SIGTERM has arrived (once armed: a stop request).
pub fn requested() -> bool {
    pending().load(Ordering::SeqCst)
}

/// Resolves once SIGINT or SIGTERM has arrived (at once if it already has).
pub async fn wait() {
    loop {
        // Created before the check: notify_waiters() reaches it from here on.
        let notified = notify().notified();
        if requested() {
            return;
        }
        notified.await;
    }
}

/// SIGINT and SIGTERM as a stream, each registered once so that none is
/// missed between two waits.
struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        if let (Some(int), Some(term)) = (self.int.as_mut(), self.term.as_mut()) {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
