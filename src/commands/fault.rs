//! Test-only fault points (prune-pvcs and canary). Without
//! `KUBECTL_STS_TEST_FAULT` each is a no-op.

use std::path::PathBuf;
use std::time::Duration;

/// The test-only fault point: with `KUBECTL_STS_TEST_FAULT=DIR`, writes
/// `DIR/<seq>-<point>` (containing `detail`) and waits for
/// `DIR/<seq>-<point>.go`, so a test can act in exactly this window.
pub async fn fault(point: &str, detail: &str) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let Some(dir) = std::env::var_os("KUBECTL_STS_TEST_FAULT") else {
        return;
    };
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let base = PathBuf::from(dir).join(format!("{n:04}-{point}"));
    let tmp = base.with_extension("tmp");
    if std::fs::write(&tmp, detail).is_err() || std::fs::rename(&tmp, &base).is_err() {
        return;
    }
    let go = base.with_extension("go");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !go.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
