//! `kubectl sts completion SHELL` and the hidden `kubectl sts __complete …`.
//!
//! `__complete` speaks cobra's protocol, which kubectl (1.26+) uses for
//! plugins: kubectl runs `kubectl_complete-sts WORD… CURRENT` and expects
//! one candidate per line (optionally `candidate<TAB>description`), then a
//! last line `:<directive>`. `completion kubectl-helper` prints the tiny
//! `kubectl_complete-sts` script that forwards to `kubectl-sts __complete`,
//! so a krew install (one binary) can still complete names from the cluster.

use std::time::Duration;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionArgs, CompletionShell, GlobalArgs};
use crate::cluster;
use crate::error::{Exit, Outcome};
use crate::render::Printer;

/// cobra's `ShellCompDirectiveError`: completion failed, show nothing.
pub const DIRECTIVE_ERROR: u32 = 1;
/// cobra's `ShellCompDirectiveDefault`: the shell may fall back to files.
pub const DIRECTIVE_DEFAULT: u32 = 0;
/// cobra's `ShellCompDirectiveNoFileComp`: no file-name fallback.
pub const DIRECTIVE_NO_FILE_COMP: u32 = 4;

/// How long a completion may wait for the cluster before giving up.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// The `kubectl_complete-sts` script printed by `completion kubectl-helper`.
pub const KUBECTL_HELPER: &str = "\
#!/bin/sh
# kubectl_complete-sts: lets `kubectl sts <TAB>` complete (kubectl 1.26+).
# kubectl runs it with the words typed after `kubectl sts`; it forwards them
# to kubectl-sts, which answers in cobra's completion protocol.
# Install: put this file on PATH next to kubectl-sts and make it executable.
exec kubectl-sts __complete \"$@\"
";

/// Generates the completion script for a shell as a string.
pub fn script(shell: CompletionShell) -> String {
    let shell = match shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
        CompletionShell::Powershell => clap_complete::Shell::PowerShell,
        CompletionShell::KubectlHelper => return KUBECTL_HELPER.to_string(),
    };
    // Leave hidden subcommands (`__complete`) out of the static scripts.
    let root = Cli::command();
    let mut cmd = clap::Command::new("kubectl-sts")
        .version(env!("CARGO_PKG_VERSION"))
        .about(root.get_about().cloned().unwrap_or_default())
        .disable_help_subcommand(true)
        .args(root.get_arguments().cloned())
        .subcommands(
            root.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| s.clone().bin_name(format!("kubectl-sts {}", s.get_name()))),
        );
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kubectl-sts", &mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    if shell == clap_complete::Shell::Bash {
        // clap_complete names the per-subcommand cases after the bin name with
        // every '-' turned into its separator, so "kubectl-sts" would never
        // match the case it dispatches to; align the two spellings.
        return text.replace("kubectl__subcmd__sts__subcmd__", "kubectl__sts__subcmd__");
    }
    text
}

/// Prints the completion script.
pub fn run(args: CompletionArgs, printer: &Printer) -> Outcome {
    printer.out(&script(args.shell));
    Ok(Exit::Ok)
}

/// What the word under the cursor should be completed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// Fixed candidates (value, description), already filtered by prefix.
    Fixed(Vec<(String, String)>),
    /// StatefulSet (and with `daemonsets`, DaemonSet) names from the cluster.
    Sets { daemonsets: bool, prefix: String },
    /// Namespace names from the cluster.
    Namespaces { prefix: String },
    /// File names (let the shell do it).
    Files,
}

/// Subcommands whose first positional argument is a `[TYPE/]NAME`, and
/// whether DaemonSets are accepted there.
fn takes_set(sub: &str) -> Option<bool> {
    match sub {
        "status" => Some(true),
        "canary" | "prune-pvcs" => Some(false),
        _ => None,
    }
}

fn find_long<'a>(cmd: &'a clap::Command, name: &str) -> Option<&'a clap::Arg> {
    cmd.get_arguments().find(|a| a.get_long() == Some(name))
}

fn find_short(cmd: &clap::Command, c: char) -> Option<&clap::Arg> {
    cmd.get_arguments().find(|a| a.get_short() == Some(c))
}

fn takes_value(a: &clap::Arg) -> bool {
    a.get_action().takes_values() && a.get_num_args().is_none_or(|n| n.min_values() > 0)
}

fn help_of(help: Option<&clap::builder::StyledStr>) -> String {
    help.map(|h| h.to_string().lines().next().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// What to offer for the value of `arg`, given the prefix typed so far.
fn value_of(arg: &clap::Arg, prefix: &str, shown_prefix: &str) -> Want {
    let values = arg.get_possible_values();
    if !values.is_empty() {
        return Want::Fixed(
            values
                .iter()
                .filter(|v| !v.is_hide_set() && v.get_name().starts_with(prefix))
                .map(|v| {
                    (
                        format!("{shown_prefix}{}", v.get_name()),
                        help_of(v.get_help()),
                    )
                })
                .collect(),
        );
    }
    match arg.get_id().as_str() {
        "namespace" => Want::Namespaces {
            prefix: prefix.to_string(),
        },
        "kubeconfig" => Want::Files,
        _ => Want::Fixed(Vec::new()),
    }
}

/// Decides what to complete for `words` (everything typed after
/// `kubectl sts`; the last word is the one under the cursor). Pure: walks
/// the clap definition, so new subcommands and flags complete by themselves.
pub fn plan(words: &[String]) -> Want {
    let mut root = Cli::command();
    root.build();
    let (current, done) = match words.split_last() {
        Some((c, d)) => (c.as_str(), d),
        None => ("", &[][..]),
    };
    let mut cmd = &root;
    let mut positionals = 0usize;
    let mut pending: Option<&clap::Arg> = None;
    let mut after_dashes = false;
    for w in done {
        if pending.take().is_some() {
            continue;
        }
        if after_dashes || w == "-" || !w.starts_with('-') {
            match cmd.find_subcommand(w) {
                Some(sub) if positionals == 0 && !after_dashes => cmd = sub,
                _ => positionals += 1,
            }
        } else if w == "--" {
            after_dashes = true;
        } else if let Some(long) = w.strip_prefix("--") {
            if !long.contains('=')
                && let Some(a) = find_long(cmd, long)
                && takes_value(a)
            {
                pending = Some(a);
            }
        } else {
            // -n, -Ao, -nfoo: the first short flag taking a value ends the cluster.
            let rest = &w[1..];
            for (i, c) in rest.char_indices() {
                if let Some(a) = find_short(cmd, c)
                    && takes_value(a)
                {
                    if i + c.len_utf8() == rest.len() {
                        pending = Some(a);
                    }
                    break;
                }
            }
        }
    }
    if let Some(arg) = pending {
        return value_of(arg, current, "");
    }
    if !after_dashes && current.starts_with('-') {
        if let Some((flag, value)) = current.split_once('=')
            && let Some(a) = flag.strip_prefix("--").and_then(|l| find_long(cmd, l))
        {
            return value_of(a, value, &format!("{flag}="));
        }
        let mut out = Vec::new();
        for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let help = help_of(a.get_help());
            if let Some(l) = a.get_long() {
                out.push((format!("--{l}"), help.clone()));
            }
            if current.len() <= 2
                && !current.starts_with("--")
                && let Some(s) = a.get_short()
            {
                out.push((format!("-{s}"), help));
            }
        }
        out.retain(|(c, _)| c.starts_with(current));
        out.sort();
        return Want::Fixed(out);
    }
    if positionals == 0 && cmd.has_subcommands() {
        let subs = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name().starts_with(current))
            .map(|s| (s.get_name().to_string(), help_of(s.get_about())))
            .collect();
        return Want::Fixed(subs);
    }
    if positionals == 0
        && let Some(daemonsets) = takes_set(cmd.get_name())
    {
        return Want::Sets {
            daemonsets,
            prefix: current.to_string(),
        };
    }
    if let Some(a) = cmd
        .get_positionals()
        .filter(|a| !a.is_hide_set())
        .nth(positionals)
    {
        return value_of(a, current, "");
    }
    Want::Fixed(Vec::new())
}

/// The candidates for a `[TYPE/]NAME` argument: `sts/NAME` and `ds/NAME`
/// (with the type the user started typing, e.g. `statefulset/`), plus bare
/// StatefulSet names once the user typed something, filtered by `prefix`.
pub fn set_candidates(
    sts: &[String],
    ds: &[String],
    daemonsets: bool,
    prefix: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    match prefix.split_once('/') {
        Some((ty, _)) => {
            let t = ty.to_ascii_lowercase();
            let names = match t.as_str() {
                "sts" | "statefulset" | "statefulsets" | "statefulset.apps"
                | "statefulsets.apps" => sts,
                "ds" | "daemonset" | "daemonsets" | "daemonset.apps" | "daemonsets.apps"
                    if daemonsets =>
                {
                    ds
                }
                _ => &[][..],
            };
            out.extend(names.iter().map(|n| format!("{ty}/{n}")));
        }
        None => {
            out.extend(sts.iter().map(|n| format!("sts/{n}")));
            if daemonsets {
                out.extend(ds.iter().map(|n| format!("ds/{n}")));
            }
            if !prefix.is_empty() {
                out.extend(sts.iter().cloned());
            }
        }
    }
    out.retain(|c| c.starts_with(prefix));
    out.sort();
    out.dedup();
    out
}

/// Reads connection flags (`-n`, `--kubeconfig`, `--context`, …) from the
/// words being completed, on top of those given to `__complete` itself.
pub fn globals_from_words(base: &GlobalArgs, words: &[String]) -> GlobalArgs {
    let mut g = base.clone();
    let mut it = words.iter().peekable();
    while let Some(w) = it.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if w.starts_with("--") => (f, Some(v.to_string())),
            _ => (w.as_str(), None),
        };
        let slot = match flag {
            "-n" | "--namespace" => &mut g.namespace,
            "--context" => &mut g.context,
            "--cluster" => &mut g.cluster,
            "--user" => &mut g.user,
            "--request-timeout" => &mut g.request_timeout,
            "--kubeconfig" => {
                let v = inline.or_else(|| it.peek().map(|s| s.to_string()));
                if let Some(v) = v.filter(|v| !v.is_empty()) {
                    g.kubeconfig = Some(v.into());
                }
                continue;
            }
            _ => {
                if let Some(ns) = flag
                    .strip_prefix("-n")
                    .filter(|v| !v.is_empty() && !flag.starts_with("--"))
                {
                    g.namespace = Some(ns.to_string());
                }
                continue;
            }
        };
        let v = inline.or_else(|| it.peek().map(|s| s.to_string()));
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            *slot = Some(v);
        }
    }
    g
}

/// The words after `__complete` on the real command line (clap may have
/// taken some of them as global flags, so read them raw).
fn raw_words() -> Vec<String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "__complete") {
        Some(i) => args[i + 1..].to_vec(),
        None => Vec::new(),
    }
}

/// Formats candidates and the directive in cobra's protocol.
pub fn protocol(candidates: &[(String, String)], directive: u32) -> String {
    let mut s = String::new();
    for (c, help) in candidates {
        s.push_str(c);
        if !help.is_empty() {
            s.push('\t');
            s.push_str(help);
        }
        s.push('\n');
    }
    s.push_str(&format!(":{directive}\n"));
    s
}

async fn lookup(g: &GlobalArgs, want: &Want) -> Result<Vec<String>, crate::error::Failure> {
    let c = cluster::connect(g).await?;
    match want {
        Want::Sets { daemonsets, prefix } => {
            let (sts, ds) = cluster::fetch::sets_and_daemons(&c).await?;
            let names = |v: Vec<Option<String>>| v.into_iter().flatten().collect::<Vec<_>>();
            let sts = names(sts.into_iter().map(|s| s.metadata.name).collect());
            let ds = names(ds.into_iter().map(|d| d.metadata.name).collect());
            Ok(set_candidates(&sts, &ds, *daemonsets, prefix))
        }
        Want::Namespaces { prefix } => {
            let lp = kube::api::ListParams::default();
            let all: Vec<k8s_openapi::api::core::v1::Namespace> =
                cluster::fetch::list_cluster(&c, &lp, "namespaces").await?;
            let mut out: Vec<String> = all
                .into_iter()
                .filter_map(|n| n.metadata.name)
                .filter(|n| n.starts_with(prefix.as_str()))
                .collect();
            out.sort();
            Ok(out)
        }
        Want::Fixed(_) | Want::Files => Ok(Vec::new()),
    }
}

/// `kubectl sts __complete WORD… CURRENT`: prints candidates in cobra's
/// protocol. Always exits 0 (a failed cluster lookup gives directive 1).
pub async fn complete(global: &GlobalArgs, printer: &Printer) -> Outcome {
    let words = raw_words();
    let want = plan(&words);
    let text = match &want {
        Want::Fixed(c) => protocol(c, DIRECTIVE_NO_FILE_COMP),
        Want::Files => protocol(&[], DIRECTIVE_DEFAULT),
        Want::Sets { .. } | Want::Namespaces { .. } => {
            let g = globals_from_words(global, &words);
            match tokio::time::timeout(LOOKUP_TIMEOUT, lookup(&g, &want)).await {
                Ok(Ok(names)) => {
                    let c: Vec<(String, String)> =
                        names.into_iter().map(|n| (n, String::new())).collect();
                    protocol(&c, DIRECTIVE_NO_FILE_COMP)
                }
                Ok(Err(_)) | Err(_) => protocol(&[], DIRECTIVE_ERROR),
            }
        }
    };
    printer.out(&text);
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    fn names(want: Want) -> Vec<String> {
        match want {
            Want::Fixed(c) => c.into_iter().map(|(n, _)| n).collect(),
            other => panic!("expected fixed candidates, got {other:?}"),
        }
    }

    #[test]
    fn subcommands_complete_and_hidden_ones_do_not() {
        assert_eq!(
            names(plan(&w(&[""]))),
            ["status", "canary", "prune-pvcs", "completion"]
        );
        assert_eq!(names(plan(&w(&["st"]))), ["status"]);
        assert_eq!(names(plan(&w(&["__"]))), Vec::<String>::new());
    }

    #[test]
    fn flags_of_the_subcommand_and_globals_complete() {
        assert_eq!(names(plan(&w(&["status", "--ou"]))), ["--output"]);
        let all = names(plan(&w(&["status", "--"])));
        for f in [
            "--namespace",
            "--all-namespaces",
            "--watch",
            "--kubeconfig",
            "--context",
            "--fail-on",
        ] {
            assert!(all.contains(&f.to_string()), "{f} missing from {all:?}");
        }
        assert!(names(plan(&w(&["status", "-"]))).contains(&"-A".to_string()));
    }

    #[test]
    fn flag_values_complete() {
        assert_eq!(
            names(plan(&w(&["status", "-o", ""]))),
            ["table", "wide", "json", "yaml"]
        );
        assert_eq!(names(plan(&w(&["status", "--output", "j"]))), ["json"]);
        assert_eq!(
            names(plan(&w(&["status", "--output=y"]))),
            ["--output=yaml"]
        );
        assert_eq!(
            names(plan(&w(&["status", "--fail-on", ""]))),
            ["warning", "error"]
        );
        assert_eq!(
            names(plan(&w(&["completion", ""]))),
            ["bash", "zsh", "fish", "powershell", "kubectl-helper"]
        );
        assert_eq!(
            plan(&w(&["-n", "ku"])),
            Want::Namespaces {
                prefix: "ku".into()
            }
        );
        assert_eq!(plan(&w(&["status", "--kubeconfig", ""])), Want::Files);
    }

    #[test]
    fn names_complete_after_set_subcommands() {
        assert_eq!(
            plan(&w(&["status", ""])),
            Want::Sets {
                daemonsets: true,
                prefix: String::new()
            }
        );
        assert_eq!(
            plan(&w(&["-n", "prod", "status", "-o", "wide", "we"])),
            Want::Sets {
                daemonsets: true,
                prefix: "we".into()
            }
        );
        assert_eq!(
            plan(&w(&["canary", "sts/"])),
            Want::Sets {
                daemonsets: false,
                prefix: "sts/".into()
            }
        );
        assert_eq!(
            names(plan(&w(&["status", "web", ""]))),
            Vec::<String>::new()
        );
    }

    #[test]
    fn set_candidates_use_kubectl_type_prefixes() {
        let sts = w(&["web", "db"]);
        let ds = w(&["logs"]);
        assert_eq!(
            set_candidates(&sts, &ds, true, ""),
            ["ds/logs", "sts/db", "sts/web"]
        );
        assert_eq!(set_candidates(&sts, &ds, false, ""), ["sts/db", "sts/web"]);
        assert_eq!(set_candidates(&sts, &ds, true, "w"), ["web"]);
        assert_eq!(set_candidates(&sts, &ds, true, "ds/"), ["ds/logs"]);
        assert_eq!(
            set_candidates(&sts, &ds, false, "ds/"),
            Vec::<String>::new()
        );
        assert_eq!(
            set_candidates(&sts, &ds, true, "statefulset/w"),
            ["statefulset/web"]
        );
    }

    #[test]
    fn connection_flags_are_read_from_the_words() {
        let g = globals_from_words(
            &GlobalArgs::default(),
            &w(&[
                "--context=dev",
                "-n",
                "prod",
                "status",
                "--kubeconfig",
                "/k",
                "",
            ]),
        );
        assert_eq!(g.context.as_deref(), Some("dev"));
        assert_eq!(g.namespace.as_deref(), Some("prod"));
        assert_eq!(g.kubeconfig.as_deref(), Some(std::path::Path::new("/k")));
        assert_eq!(
            globals_from_words(&GlobalArgs::default(), &w(&["-nfoo"]))
                .namespace
                .as_deref(),
            Some("foo")
        );
    }

    #[test]
    fn protocol_is_cobras() {
        let c = vec![
            ("status".to_string(), "Show".to_string()),
            ("x".to_string(), String::new()),
        ];
        assert_eq!(protocol(&c, 4), "status\tShow\nx\n:4\n");
    }
}
