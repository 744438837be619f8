//! `kubectl sts status ds/NAME` (not available yet).

use crate::cli::StatusArgs;
use crate::cluster::Cluster;
use crate::error::{Exit, Failure, Outcome};
use crate::render::Printer;

/// Runs `status ds/NAME`.
pub async fn run(_c: &Cluster, _name: &str, _args: &StatusArgs, _printer: &Printer) -> Outcome {
    Err(Failure::new(Exit::Bad, "kubectl sts status ds/NAME is not available yet in this version").into())
}
