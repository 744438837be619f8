//! Confirmation before writes: a prompt on a TTY, `--yes` otherwise.

use std::io::IsTerminal;

use crate::error::{Exit, Failure};

/// How to get a "yes".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// Ask on the terminal.
    Interactive,
    /// `--yes` was given.
    AssumeYes,
    /// No TTY and no `--yes`: refuse before any write.
    Never,
}

impl Prompt {
    /// From `--yes` and whether stdin and stderr are terminals.
    pub fn detect(yes: bool) -> Prompt {
        if yes {
            Prompt::AssumeYes
        } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            Prompt::Interactive
        } else {
            Prompt::Never
        }
    }

    /// Asks `question`; `Ok(false)` when the user declines. Without a TTY
    /// and without `--yes` this is a refusal (exit 4) naming the flag.
    pub fn confirm(self, question: &str) -> Result<bool, Failure> {
        match self {
            Prompt::AssumeYes => Ok(true),
            Prompt::Never => Err(Failure::refused(format!(
                "confirmation needed ({question}) but there is no terminal to ask on"
            ))
            .hint(
                "re-run with --yes to proceed without a prompt, or --dry-run to only see the plan",
            )),
            Prompt::Interactive => dialoguer::Confirm::new()
                .with_prompt(question)
                .default(false)
                .interact()
                .map_err(|e| prompt_failed(e, "no confirmation")),
        }
    }
}

/// A prompt that could not be answered: Ctrl-C at the prompt (the terminal
/// is in raw mode, so it arrives as a key, not a signal) is an interruption
/// before any change (exit 130); anything else a refusal (exit 4).
pub fn prompt_failed(e: dialoguer::Error, what: &str) -> Failure {
    let dialoguer::Error::IO(io) = &e;
    if io.kind() == std::io::ErrorKind::Interrupted {
        return Failure::new(Exit::Interrupted, "interrupted at the prompt")
            .hint("nothing was changed by this answer; re-run to be asked again");
    }
    Failure::refused(format!("{what}: {e}"))
}
