//! Exit codes and user-facing failures (see README "Exit codes").

use std::fmt;

/// The exit codes every command uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The command did what was asked.
    Ok,
    /// Finished with a bad outcome (findings at `--fail-on`, canary aborted, prune skipped or failed).
    Bad,
    /// Usage error: unknown flag, malformed value, conflicting flags, value that does not fit the object.
    Usage,
    /// Cannot talk to the cluster or was refused by it (config, network, TLS, auth, RBAC, not found).
    Cluster,
    /// Refused for safety before changing anything.
    Refused,
    /// Paused between canary steps; re-running resumes.
    Paused,
    /// Interrupted by SIGINT/SIGTERM.
    Interrupted,
}

impl Exit {
    /// The numeric process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Bad => 1,
            Exit::Usage => 2,
            Exit::Cluster => 3,
            Exit::Refused => 4,
            Exit::Paused => 5,
            Exit::Interrupted => 130,
        }
    }

    /// Every code with its meaning, in order (for `--help` and the README).
    pub const TABLE: &'static [(u8, &'static str)] = &[
        (0, "success"),
        (
            1,
            "bad outcome (findings at --fail-on, canary aborted or timed out, prune skipped or failed)",
        ),
        (
            2,
            "usage error (unknown flag, malformed or conflicting values)",
        ),
        (
            3,
            "cannot talk to the cluster or refused by it (kubeconfig, network, TLS, auth, RBAC, not found)",
        ),
        (
            4,
            "refused for safety before changing anything (unsafe state, or no TTY and no --yes)",
        ),
        (5, "paused: a canary waits for a decision; re-run to resume"),
        (
            130,
            "interrupted; the object is left consistent and resumable",
        ),
    ];
}

/// The exit-code table as shown at the end of `--help`.
pub fn exit_codes_help() -> String {
    let mut s = String::from("Exit codes:");
    for (code, meaning) in Exit::TABLE {
        s.push_str(&format!("\n  {code:<4} {meaning}"));
    }
    s
}

/// A failure the user sees as `error: <message>` and optionally `hint: <hint>`.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
    pub hint: Option<String>,
    /// The API server's HTTP status when the failure is its answer.
    pub status: Option<u16>,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
            hint: None,
            status: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// Whether the API server answered 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        self.status == Some(403)
    }

    /// Whether the API server answered 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        self.status == Some(409)
    }

    /// The API server's own words in a failure built from its answer
    /// ("the API server refused to … (CODE): REASON"), else the message.
    pub fn server_reason(&self) -> &str {
        match self.status {
            Some(_) => self
                .message
                .split_once("): ")
                .map_or(self.message.as_str(), |(_, w)| w),
            None => &self.message,
        }
    }

    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(Exit::Usage, message)
    }

    pub fn cluster(message: impl Into<String>) -> Failure {
        Failure::new(Exit::Cluster, message)
    }

    pub fn refused(message: impl Into<String>) -> Failure {
        Failure::new(Exit::Refused, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// What a command returns when it did not fail outright: the exit code.
pub type Outcome = anyhow::Result<Exit>;

/// Splits any error into the exit code, the one-line message and the hint.
pub fn describe(err: &anyhow::Error) -> (Exit, String, Option<String>) {
    // One line: the Display chain, newlines folded.
    let msg = format!("{err:#}").replace('\n', " ");
    let failure = err
        .chain()
        .find_map(|c| c.downcast_ref::<Failure>())
        .or_else(|| err.downcast_ref::<Failure>());
    match failure {
        Some(f) => (f.exit, msg, f.hint.clone()),
        None => (Exit::Bad, msg, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_table() {
        let all = [
            Exit::Ok,
            Exit::Bad,
            Exit::Usage,
            Exit::Cluster,
            Exit::Refused,
            Exit::Paused,
            Exit::Interrupted,
        ];
        let codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        let table: Vec<u8> = Exit::TABLE.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, table);
    }

    #[test]
    fn failure_inside_context_keeps_its_code_and_hint() {
        let e = anyhow::Error::new(Failure::cluster("boom").hint("try again"))
            .context("fetching statefulset web");
        let (exit, msg, hint) = describe(&e);
        assert_eq!(exit, Exit::Cluster);
        assert_eq!(msg, "fetching statefulset web: boom");
        assert_eq!(hint.as_deref(), Some("try again"));
    }
}
