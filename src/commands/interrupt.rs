//! SIGINT and SIGTERM for the commands that write. Until the command arms
//! it (right before its first write), a signal ends the process at once:
//! nothing was changed. Once armed, the first signal is a request: the
//! command finishes the request in flight (each write is atomic), stops at
//! its next safe point and says where the object stands (exit 130). A
//! second signal exits at once.

use std::sync::Once;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

use crate::cli::ColorChoice;
use crate::error::Exit;
use crate::render::Printer;

static ARMED: AtomicBool = AtomicBool::new(false);
static REQUESTED: AtomicBool = AtomicBool::new(false);

fn notify() -> &'static Notify {
    static N: OnceLock<Notify> = OnceLock::new();
    N.get_or_init(Notify::new)
}

fn exit_now(message: &str) -> ! {
    Printer::new(ColorChoice::Never).note(message);
    std::process::exit(i32::from(Exit::Interrupted.code()))
}

/// Starts listening for SIGINT/SIGTERM (once per process; needs a tokio
/// runtime).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut signals = Signals::new();
        tokio::spawn(async move {
            loop {
                signals.next().await;
                if !ARMED.load(Ordering::SeqCst) {
                    exit_now("interrupted; nothing was changed");
                }
                if REQUESTED.swap(true, Ordering::SeqCst) {
                    exit_now(
                        "interrupted again: exiting at once; check the object with: kubectl sts status",
                    );
                }
                notify().notify_waiters();
            }
        });
    });
}

/// Called right before the first write: from now on a signal is a request
/// to stop at the next safe point.
pub fn arm() {
    install();
    ARMED.store(true, Ordering::SeqCst);
}

/// Whether SIGINT or SIGTERM has arrived since [`arm`].
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Resolves once SIGINT or SIGTERM has arrived (at once if it already has).
pub async fn wait() {
    // Created before the check: notify_waiters() reaches it from here on.
    let notified = notify().notified();
    if requested() {
        return;
    }
    notified.await;
}

/// SIGINT and SIGTERM, each registered once so that none is missed between
/// two waits.
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
