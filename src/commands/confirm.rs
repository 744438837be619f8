//! Confirmation before writes: a prompt on a TTY, `--yes` otherwise.
//!
//! The prompts are made so that a person cannot trip over them: input typed
//! ahead is discarded before every prompt, a confirmation needs Enter, Esc
//! or `q` declines, and a prompt can be cancelled from outside (the canary
//! cancels it when someone else changes the canary meanwhile). On Unix they
//! read the terminal themselves (non-canonical mode, 100 ms reads, Ctrl-C
//! still a signal); elsewhere they fall back to dialoguer.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::commands::interrupt;
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

/// What a prompt ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer<T> {
    /// A choice, confirmed with Enter.
    Chosen(T),
    /// Esc, `q`, or anything but yes at a confirmation.
    Declined,
    /// Ctrl-C (or SIGTERM) while asked.
    Interrupted,
    /// Cancelled from outside (see [`ask_confirm`]).
    Cancelled,
}

/// Whether stdin and stderr are terminals (where prompts are shown).
pub fn is_tty() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

impl Prompt {
    /// From `--yes` and whether stdin and stderr are terminals.
    pub fn detect(yes: bool) -> Prompt {
        if yes {
            Prompt::AssumeYes
        } else if is_tty() {
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
            Prompt::Never => Err(no_terminal(question)),
            Prompt::Interactive => {
                let never = AtomicBool::new(false);
                match ask_confirm(question, &never) {
                    Ok(Answer::Chosen(yes)) => Ok(yes),
                    Ok(Answer::Declined | Answer::Cancelled) => Ok(false),
                    Ok(Answer::Interrupted) => Err(interrupted_at_prompt()),
                    Err(e) => Err(Failure::refused(format!("no confirmation: {e}"))),
                }
            }
        }
    }
}

/// The refusal when a confirmation is needed and there is no terminal.
pub fn no_terminal(question: &str) -> Failure {
    Failure::refused(format!(
        "confirmation needed ({question}) but there is no terminal to ask on"
    ))
    .hint("re-run with --yes to proceed without a prompt, or --dry-run to only see the plan")
}

/// Ctrl-C at a prompt before any change (exit 130).
pub fn interrupted_at_prompt() -> Failure {
    Failure::new(Exit::Interrupted, "interrupted at the prompt")
        .hint("nothing was changed by this answer; re-run to be asked again")
}

/// A dialoguer prompt that could not be answered: Ctrl-C at the prompt (the
/// terminal is in raw mode, so it arrives as a key, not a signal) is an
/// interruption before any change (exit 130); anything else a refusal (exit 4).
pub fn prompt_failed(e: dialoguer::Error, what: &str) -> Failure {
    let dialoguer::Error::IO(io) = &e;
    if io.kind() == std::io::ErrorKind::Interrupted {
        return interrupted_at_prompt();
    }
    Failure::refused(format!("{what}: {e}"))
}

/// Asks `question [y/N]` and waits for Enter: `Chosen(true)` for `y` or
/// `yes`, `Chosen(false)` for anything else; Esc declines at once. Input
/// typed before the question is discarded. Returns `Cancelled` soon after
/// `cancel` is set. Blocking: run it off the async runtime's threads when
/// something must go on meanwhile.
pub fn ask_confirm(question: &str, cancel: &AtomicBool) -> std::io::Result<Answer<bool>> {
    imp::confirm(question, cancel)
}

/// A menu: ↑/↓ (or the item's number) moves, Enter chooses, Esc or `q`
/// declines. Input typed before the menu is discarded. Returns `Cancelled`
/// soon after `cancel` is set. Blocking, like [`ask_confirm`].
pub fn ask_select(
    title: &str,
    items: &[String],
    default: usize,
    esc: &str,
    cancel: &AtomicBool,
) -> std::io::Result<Answer<usize>> {
    imp::select(title, items, default, esc, cancel)
}

/// Puts the terminal back as it was before a prompt (for an exit in the
/// middle of one).
pub fn restore_terminal() {
    imp::restore();
}

fn stopped(cancel: &AtomicBool) -> Option<Answer<()>> {
    if interrupt::requested() {
        return Some(Answer::Interrupted);
    }
    if cancel.load(Ordering::SeqCst) {
        return Some(Answer::Cancelled);
    }
    None
}

fn err_out() -> std::io::Stderr {
    std::io::stderr()
}

fn draw(s: &str) -> std::io::Result<()> {
    let mut e = err_out().lock();
    e.write_all(s.as_bytes())?;
    e.flush()
}

/// One key read from the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Char(char),
    Enter,
    Backspace,
    Escape,
    Up,
    Down,
    /// Ctrl-D: end of input.
    Eof,
    Other,
}

/// Decodes the bytes of one read into keys (an Esc followed by `[A` in the
/// same read is an arrow, a lone Esc is Esc).
fn keys(bytes: &[u8]) -> Vec<Key> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        out.push(match b {
            b'\r' | b'\n' => Key::Enter,
            0x7f | 0x08 => Key::Backspace,
            0x04 => Key::Eof,
            0x1b => {
                if bytes.get(i) == Some(&b'[') || bytes.get(i) == Some(&b'O') {
                    let k = match bytes.get(i + 1) {
                        Some(b'A') => Key::Up,
                        Some(b'B') => Key::Down,
                        _ => Key::Other,
                    };
                    i += 2;
                    // Skip the rest of a longer sequence (e.g. `ESC [ 1 ; 5 A`).
                    while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i - 1]) {
                        i += 1;
                    }
                    k
                } else {
                    Key::Escape
                }
            }
            b if b.is_ascii_graphic() || b == b' ' => Key::Char(char::from(b)),
            _ => Key::Other,
        });
    }
    out
}

/// What the confirmation's line editor does with a key.
fn confirm_key(line: &mut String, k: Key) -> Option<Answer<bool>> {
    match k {
        Key::Enter => {
            let a = line.trim().to_ascii_lowercase();
            Some(Answer::Chosen(a == "y" || a == "yes"))
        }
        Key::Escape | Key::Eof => Some(Answer::Declined),
        Key::Backspace => {
            line.pop();
            None
        }
        Key::Char(c) if line.len() < 16 => {
            line.push(c);
            None
        }
        _ => None,
    }
}

/// What the menu does with a key: move, choose or decline.
fn select_key(pos: &mut usize, n: usize, k: Key) -> Option<Answer<usize>> {
    match k {
        Key::Enter => Some(Answer::Chosen(*pos)),
        Key::Escape | Key::Eof | Key::Char('q') => Some(Answer::Declined),
        Key::Up | Key::Char('k') => {
            *pos = (*pos + n - 1) % n;
            None
        }
        Key::Down | Key::Char('j') => {
            *pos = (*pos + 1) % n;
            None
        }
        Key::Char(c) => {
            if let Some(d) = c.to_digit(10)
                && d >= 1
                && (d as usize) <= n
            {
                *pos = d as usize - 1;
            }
            None
        }
        _ => None,
    }
}

fn menu_lines(title: &str, items: &[String], pos: usize, esc: &str) -> String {
    let mut s = format!(
        "{title} (↑/↓ or 1-{}, then Enter; Esc or q: {esc})\n",
        items.len()
    );
    for (i, it) in items.iter().enumerate() {
        let mark = if i == pos { ">" } else { " " };
        s.push_str(&format!("{mark} {}. {it}\n", i + 1));
    }
    s
}

#[cfg(unix)]
mod imp {
    use std::os::fd::AsFd;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;

    use rustix::termios::{
        LocalModes, OptionalActions, QueueSelector, SpecialCodeIndex, Termios, tcflush, tcgetattr,
        tcsetattr,
    };

    use super::{Answer, Key, confirm_key, draw, keys, menu_lines, select_key, stopped};
    use crate::commands::interrupt;

    /// The terminal settings before the prompt now shown, if any.
    static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

    /// Non-canonical, no echo, reads that return after 100 ms; Ctrl-C stays a
    /// signal. Restored on drop.
    struct Raw;

    impl Raw {
        fn on() -> std::io::Result<Raw> {
            let stdin = std::io::stdin();
            let fd = stdin.as_fd();
            let before = tcgetattr(fd)?;
            let mut t = before.clone();
            t.local_modes.remove(LocalModes::ICANON | LocalModes::ECHO);
            t.local_modes.insert(LocalModes::ISIG);
            t.special_codes[SpecialCodeIndex::VMIN] = 0;
            t.special_codes[SpecialCodeIndex::VTIME] = 1;
            if let Ok(mut s) = SAVED.lock() {
                *s = Some(before);
            }
            // Ctrl-C while asked is an answer, not an exit with the terminal raw.
            interrupt::hold(true);
            let raw = Raw;
            tcsetattr(fd, OptionalActions::Now, &t)?;
            // Typed ahead: not an answer to this question.
            tcflush(fd, QueueSelector::IFlush)?;
            Ok(raw)
        }

        /// The keys of one read (none after 100 ms without input).
        fn read(&self) -> std::io::Result<Vec<Key>> {
            let stdin = std::io::stdin();
            let mut buf = [0u8; 64];
            match rustix::io::read(stdin.as_fd(), &mut buf) {
                Ok(n) => Ok(keys(&buf[..n])),
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => Ok(Vec::new()),
                Err(e) => Err(e.into()),
            }
        }
    }

    impl Drop for Raw {
        fn drop(&mut self) {
            restore();
            interrupt::hold(false);
        }
    }

    pub(super) fn restore() {
        let saved = SAVED.lock().ok().and_then(|mut s| s.take());
        if let Some(t) = saved {
            let _ = tcsetattr(std::io::stdin().as_fd(), OptionalActions::Now, &t);
        }
    }

    pub(super) fn confirm(question: &str, cancel: &AtomicBool) -> std::io::Result<Answer<bool>> {
        let raw = Raw::on()?;
        draw(&format!("{question} [y/N] "))?;
        let mut line = String::new();
        loop {
            if let Some(a) = stopped(cancel) {
                draw("\n")?;
                return Ok(match a {
                    Answer::Interrupted => Answer::Interrupted,
                    _ => Answer::Cancelled,
                });
            }
            for k in raw.read()? {
                let before = line.len();
                if let Some(a) = confirm_key(&mut line, k) {
                    draw(if a == Answer::Declined { "no\n" } else { "\n" })?;
                    return Ok(a);
                }
                if line.len() > before {
                    draw(&line[before..])?;
                } else if line.len() < before {
                    draw("\x08 \x08")?;
                }
            }
        }
    }

    pub(super) fn select(
        title: &str,
        items: &[String],
        default: usize,
        esc: &str,
        cancel: &AtomicBool,
    ) -> std::io::Result<Answer<usize>> {
        let raw = Raw::on()?;
        let n = items.len().max(1);
        let mut pos = default.min(n - 1);
        let up = format!("\x1b[{}A", items.len() + 1);
        draw(&menu_lines(title, items, pos, esc))?;
        // Back to the title and erase the menu.
        let clear = || draw(&format!("{up}\r\x1b[J"));
        loop {
            if let Some(a) = stopped(cancel) {
                clear()?;
                return Ok(match a {
                    Answer::Interrupted => Answer::Interrupted,
                    _ => Answer::Cancelled,
                });
            }
            for k in raw.read()? {
                let before = pos;
                if let Some(a) = select_key(&mut pos, n, k) {
                    clear()?;
                    let shown = match a {
                        Answer::Chosen(i) => items.get(i).cloned().unwrap_or_default(),
                        _ => esc.to_string(),
                    };
                    draw(&format!("{title}: {shown}\n"))?;
                    return Ok(a);
                }
                if pos != before {
                    clear()?;
                    draw(&menu_lines(title, items, pos, esc))?;
                }
            }
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use std::sync::atomic::AtomicBool;

    use super::Answer;

    pub(super) fn restore() {}

    pub(super) fn confirm(question: &str, _cancel: &AtomicBool) -> std::io::Result<Answer<bool>> {
        match dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .wait_for_newline(true)
            .interact_opt()
        {
            Ok(Some(yes)) => Ok(Answer::Chosen(yes)),
            Ok(None) => Ok(Answer::Declined),
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                Ok(Answer::Interrupted)
            }
            Err(dialoguer::Error::IO(e)) => Err(e),
        }
    }

    pub(super) fn select(
        title: &str,
        items: &[String],
        default: usize,
        _esc: &str,
        _cancel: &AtomicBool,
    ) -> std::io::Result<Answer<usize>> {
        match dialoguer::Select::new()
            .with_prompt(title)
            .items(items)
            .default(default)
            .interact_opt()
        {
            Ok(Some(i)) => Ok(Answer::Chosen(i)),
            Ok(None) => Ok(Answer::Declined),
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                Ok(Answer::Interrupted)
            }
            Err(dialoguer::Error::IO(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_arrows_escape_and_enter() {
        assert_eq!(keys(b"y\r"), vec![Key::Char('y'), Key::Enter]);
        assert_eq!(keys(b"\x1b"), vec![Key::Escape]);
        assert_eq!(keys(b"\x1b[A\x1b[B"), vec![Key::Up, Key::Down]);
        assert_eq!(keys(b"\x7f\x04"), vec![Key::Backspace, Key::Eof]);
    }

    #[test]
    fn confirmation_needs_enter_and_yes() {
        let mut line = String::new();
        assert_eq!(confirm_key(&mut line, Key::Char('y')), None);
        assert_eq!(
            confirm_key(&mut line, Key::Enter),
            Some(Answer::Chosen(true))
        );
        let mut line = String::new();
        assert_eq!(
            confirm_key(&mut line, Key::Enter),
            Some(Answer::Chosen(false))
        );
        let mut line = "yes".to_string();
        assert_eq!(
            confirm_key(&mut line, Key::Enter),
            Some(Answer::Chosen(true))
        );
        let mut line = "y".to_string();
        assert_eq!(confirm_key(&mut line, Key::Backspace), None);
        assert_eq!(
            confirm_key(&mut line, Key::Enter),
            Some(Answer::Chosen(false))
        );
        let mut line = "y".to_string();
        assert_eq!(confirm_key(&mut line, Key::Escape), Some(Answer::Declined));
    }

    #[test]
    fn menu_moves_chooses_and_cancels() {
        let mut pos = 0;
        assert_eq!(select_key(&mut pos, 3, Key::Down), None);
        assert_eq!(pos, 1);
        assert_eq!(select_key(&mut pos, 3, Key::Up), None);
        assert_eq!(select_key(&mut pos, 3, Key::Up), None);
        assert_eq!(pos, 2);
        assert_eq!(select_key(&mut pos, 3, Key::Char('2')), None);
        assert_eq!(pos, 1);
        assert_eq!(select_key(&mut pos, 3, Key::Enter), Some(Answer::Chosen(1)));
        assert_eq!(select_key(&mut pos, 3, Key::Escape), Some(Answer::Declined));
        assert_eq!(
            select_key(&mut pos, 3, Key::Char('q')),
            Some(Answer::Declined)
        );
    }
}
