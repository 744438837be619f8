//! The bad-input catalogue: every case runs the real binary against the
//! sandbox and asserts the exact `error:` line, the exact `hint:` line, the
//! exit code of conventions.md, that nothing panicked, and, for the
//! commands that write (canary, prune-pvcs), that nothing changed on the
//! server: the resourceVersion of every StatefulSet and claim in the
//! namespace is the same after the case, and the audit log holds no write
//! from kubectl-sts there.
//!
//! An expected line ending in `…` is a prefix (the rest is the operating
//! system's, the YAML parser's or a port number). `{ns}` and `{dir}` stand
//! for the test's namespace and scratch directory.
//!
//! The catalogue is also the reference: docs/errors.md holds it as tables
//! (regenerate with `UPDATE_ERRORS_DOC=1 cargo test --test errors`), and
//! every message the source can build must appear in that file.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Ns;

const CATEGORIES: &[&str] = &[
    "arguments",
    "flag values",
    "kubeconfig/auth",
    "missing objects",
    "unsafe states",
    "non-TTY",
];

struct Case {
    category: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    code: i32,
    error: String,
    hint: String,
}

fn case(category: &'static str, args: &[&str], code: i32, error: &str, hint: &str) -> Case {
    assert!(CATEGORIES.contains(&category), "{category}");
    Case {
        category,
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        code,
        error: format!("error: {error}"),
        hint: format!("hint: {hint}"),
    }
}

impl Case {
    fn env(mut self, k: &'static str, v: &str) -> Case {
        self.env.push((k, v.to_string()));
        self
    }
    fn writes(&self) -> bool {
        matches!(
            self.args.first().map(String::as_str),
            Some("canary" | "prune-pvcs")
        )
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!("kubectl-sts-errors-{}", std::process::id()));
    std::fs::create_dir_all(d.join("empty-home")).unwrap();
    d
}

/// Writes a copy of the admin kubeconfig with `f` applied to its text.
fn variant(dir: &Path, name: &str, f: impl Fn(&str) -> String) -> String {
    let text = std::fs::read_to_string(&common::env().kubeconfig).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, f(&text)).unwrap();
    p.display().to_string()
}

fn replace_line(text: &str, key: &str, new: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with(key) {
                format!("{}{new}", &l[..l.len() - l.trim_start().len()])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A StatefulSet like the web fixture (no Service), named `name`.
fn set_yaml(name: &str, replicas: u32, extra_spec: &str, image: &str) -> String {
    common::web_yaml(&[])
        .split("---\n")
        .nth(1)
        .unwrap()
        .replace("name: web", &format!("name: {name}"))
        .replace("app: web", &format!("app: {name}"))
        .replace("replicas: 3", &format!("replicas: {replicas}{extra_spec}"))
        .replace("image: nginx:1.25", &format!("image: {image}"))
}

/// resourceVersion of every StatefulSet and claim in the namespace.
fn fingerprint(ns: &Ns) -> BTreeMap<String, String> {
    let v = ns
        .kubectl(&["get", "statefulsets,persistentvolumeclaims", "-o", "json"])
        .expect_code(0)
        .json();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap()
                ),
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

/// The namespace every server-side case works in: one StatefulSet per
/// state the commands must refuse, plus a claim orphaned by scale-down.
fn setup() -> Ns {
    let ns = Ns::new("errors");
    ns.apply(&common::web_yaml(&[]));
    let on_delete = "\n  updateStrategy:\n    type: OnDelete";
    let held = "\n  updateStrategy:\n    rollingUpdate:\n      partition: 1";
    ns.apply(&set_yaml("ondel", 1, on_delete, "nginx:1.25"));
    ns.apply(&set_yaml("zero", 0, "", "nginx:1.25"));
    ns.apply(&set_yaml("shrunk", 2, "", "nginx:1.25"));
    ns.apply(&set_yaml("held", 1, held, "nginx:1.25"));
    ns.apply(&set_yaml("auto", 1, "", "nginx:1.25"));
    ns.apply(&set_yaml("corrupt", 1, "", "nginx:1.25").replacen(
        "name: corrupt\n",
        "name: corrupt\n  annotations:\n    kubectl-sts.io/canary: garbage\n",
        1,
    ));
    ns.apply(&set_yaml("sick", 1, "", "example.invalid/not-ready:1"));
    // a DaemonSet that selects no node (for `--node` on an unknown node)
    ns.apply(
        r#"{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}},
                    "spec": {"nodeSelector": {"kubectl-sts.test/none": "x"},
                        "containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}]}}}}"#,
    );
    ns.kubectl(&[
        "autoscale",
        "statefulset",
        "auto",
        "--min=1",
        "--max=3",
        "--cpu-percent=80",
    ])
    .expect_code(0);
    let t = Duration::from_secs(240);
    for s in ["web", "ondel", "zero", "shrunk", "held", "auto", "corrupt"] {
        ns.wait_sts_settled(s, t);
    }
    // Orphan data-shrunk-1, and hold a change on `held` behind its partition.
    ns.kubectl(&["scale", "statefulset", "shrunk", "--replicas=1"])
        .expect_code(0);
    ns.kubectl(&["set", "image", "statefulset/held", "nginx=nginx:1.26"])
        .expect_code(0);
    common::wait_until("shrunk-1 gone", t, || {
        ns.kubectl(&["get", "pod", "shrunk-1"]).code != 0
    });
    ns.wait_sts_settled("shrunk", t);
    common::wait_until("held observed the held change", t, || {
        let s = ns.get("statefulset", "held");
        s["status"]["observedGeneration"] == s["metadata"]["generation"]
            && s["status"]["updateRevision"] != s["status"]["currentRevision"]
    });
    common::wait_until("sick-0 Running, not Ready", t, || {
        let p = ns.kubectl(&["get", "pod", "sick-0", "-o", "json"]);
        p.code == 0 && p.json()["status"]["phase"] == "Running"
    });
    // Status writes have stopped when two reads a second apart agree.
    let mut last = BTreeMap::new();
    common::wait_until("the namespace at rest", t, || {
        std::thread::sleep(Duration::from_secs(1));
        let now = fingerprint(&ns);
        let same = now == last;
        last = now;
        same
    });
    ns
}

#[rustfmt::skip]
fn cases(dir: &Path, silent: u16) -> Vec<Case> {
    let d = dir.display().to_string();
    // A server that accepts connections and never answers.
    let silent = variant(dir, "silent.yaml", |t| {
        replace_line(t, "server:", &format!("server: https://127.0.0.1:{silent}"))
    })
    .replace(&d, "{dir}");
    let dead = variant(dir, "dead.yaml", |t| {
        replace_line(t, "server:", "server: https://127.0.0.1:1")
    });
    let corrupt = format!("{d}/corrupt.yaml");
    std::fs::write(&corrupt, "{not yaml: [").unwrap();
    let wrong_ca = variant(dir, "wrong-ca.yaml", |t| {
        // A CA that did not sign the server's certificate: the server's own.
        let cert = common::env()
            .kubeconfig
            .parent()
            .unwrap()
            .join("pki/apiserver.crt");
        let cert = std::fs::read(cert).unwrap();
        replace_line(
            t,
            "certificate-authority-data:",
            &format!("certificate-authority-data: {}", b64(&cert)),
        )
    });
    let bad_token = variant(dir, "bad-token.yaml", |t| {
        let t = t
            .lines()
            .filter(|l| !l.trim_start().starts_with("client-certificate-data:"))
            .collect::<Vec<_>>()
            .join("\n");
        replace_line(&t, "client-key-data:", "token: not-a-valid-token")
    });
    std::fs::write(format!("{d}/bad.yaml"), "{not: [yaml").unwrap();
    std::fs::write(format!("{d}/list.yaml"), "- a\n- b\n").unwrap();
    std::fs::create_dir_all(format!("{d}/a-directory")).unwrap();
    std::fs::write(
        format!("{d}/same.json"),
        r#"{"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"}]}}"#,
    )
    .unwrap();
    std::fs::write(
        format!("{d}/new.json"),
        r#"{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}"#,
    )
    .unwrap();
    let dead = dead.replace(&d, "{dir}");
    let wrong_ca = wrong_ca.replace(&d, "{dir}");
    let bad_token = bad_token.replace(&d, "{dir}");

    let steps_hint = "e.g. --steps 1,25%,100%";
    let image_hint = "e.g. --image nginx=nginx:1.26";
    let patch_hint = r#"the file is a strategic-merge patch of the pod template, e.g. {"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}"#;
    let help = "see 'kubectl sts --help'";
    let confirm_hint =
        "re-run with --yes to proceed without a prompt, or --dry-run to only see the plan";
    let unreachable_hint = "is the cluster running and the kubeconfig's server address right? check with: kubectl cluster-info";
    let list_sts = "list them with: kubectl get statefulsets -n {ns}";
    let no_ns = "namespace \"no-such-namespace-xyz\" not found";
    let list_ns = "list namespaces with: kubectl get namespaces";
    let canary = |extra: &[&str]| {
        let mut a = vec!["canary", "web", "-n", "{ns}"];
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let c = |category, extra: &[&str], code, error: &str, hint: &str| {
        let a = canary(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        case(category, &a, code, error, hint)
    };
    let a = "arguments";
    let f = "flag values";
    let k = "kubeconfig/auth";
    let m = "missing objects";
    let u = "unsafe states";
    let n = "non-TTY";
    vec![
        // arguments
        case(a, &["status", "deploy/web"], 2,
            "unsupported resource type \"deploy\": kubectl sts works on statefulsets (sts) and daemonsets (ds)",
            "use sts/web or ds/web"),
        case(a, &["status", "sts/"], 2, "missing name in \"sts/\"", "use NAME, sts/NAME or ds/NAME"),
        case(a, &["status", "a/b/c"], 2, "too many '/' in \"a/b/c\"", "use NAME, sts/NAME or ds/NAME"),
        case(a, &["status", "Web"], 2,
            "invalid name \"Web\": names are lowercase letters, digits, '-' and '.'",
            "Kubernetes names are lowercase: did you mean \"web\"?"),
        case(a, &["status", "web", "-A"], 2,
            "-A/--all-namespaces cannot be used with a NAME", "drop -A, or pick the namespace with -n"),
        case(a, &["status", "web", "db"], 2, "unexpected argument 'db' found", help),
        case(a, &["frobnicate"], 2, "unrecognized subcommand 'frobnicate'", help),
        case(a, &["canary"], 2, "the following required arguments were not provided: <NAME>", help),
        case(a, &["canary", "ds/web", "--image", "nginx=x:1"], 2,
            "canary works on StatefulSets only", "use NAME or sts/NAME"),
        case(a, &["prune-pvcs", "ds/web"], 2,
            "prune-pvcs works on StatefulSets only (DaemonSets have no claim templates)",
            "use NAME or sts/NAME"),
        case(a, &["prune-pvcs", "web", "-A"], 2,
            "-A/--all-namespaces cannot be used with a NAME", "drop -A, or pick the namespace with -n"),
        case(a, &["completion", "tcsh"], 2, "invalid value 'tcsh' for '<SHELL>'",
            "a similar value exists: 'zsh'"),
        // flag values
        case(f, &["status", "-o", "bogus"], 2, "invalid value 'bogus' for '--output <FORMAT>'",
            "possible values: table, wide, json, yaml"),
        case(f, &["status", "--request-timeout", "soon"], 2, "invalid --request-timeout \"soon\"",
            "use a duration such as 30s, 1m or 0 for no limit"),
        case(f, &["status", "--fail-on", "sometimes"], 2,
            "invalid value 'sometimes' for '--fail-on <LEVEL>'", "possible values: warning, error"),
        case(f, &["status", "--color", "purple"], 2, "invalid value 'purple' for '--color <WHEN>'",
            "possible values: auto, always, never"),
        case(f, &["status", "--bogus"], 2, "unexpected argument '--bogus' found",
            "to pass '--bogus' as a value, use '-- --bogus'"),
        case(f, &["status", "web", "-n", "{ns}", "--node", "sandbox-worker-1"], 2,
            "--node applies to a DaemonSet only", "name one: kubectl sts status ds/NAME"),
        case(f, &["status", "-n", "{ns}", "--only-problems"], 2,
            "--only-problems applies to a DaemonSet only", "name one: kubectl sts status ds/NAME"),
        case(f, &["status", "web", "--cluster-domain", "bad domain"], 2,
            "invalid --cluster-domain \"bad domain\"", "use the cluster's DNS domain, e.g. cluster.local"),
        c(f, &["--image", "nginx=x:1", "--steps", ""], 2, "empty entry in --steps \"\"", steps_hint),
        c(f, &["--image", "nginx=x:1", "--steps", "0"], 2, "a step of 0 pods does nothing", steps_hint),
        c(f, &["--image", "nginx=x:1", "--steps", "1,abc,100%"], 2,
            "invalid step \"abc\" in --steps (use a pod count or a percentage)", steps_hint),
        c(f, &["--image", "nginx=x:1", "--steps", "150%"], 2,
            "percentage \"150%\" in --steps must be between 1% and 100%", steps_hint),
        c(f, &["--image", "nginx=x:1", "--steps", "0%,100%"], 2,
            "percentage \"0%\" in --steps must be between 1% and 100%", steps_hint),
        c(f, &["--image", "nginx=x:1", "--steps", "2,1,100%"], 2, "--steps must increase: 1 after 2", steps_hint),
        c(f, &["--image", "nginx=x:1", "--steps", "1,50%"], 2, "--steps \"1,50%\" must end at 100%", steps_hint),
        c(f, &["--image", "nginx=x:1", "--steps", "10,100%"], 2,
            "the steps resolve to a single step that updates all 3 pod(s) above the floor at once: that is not a canary",
            "use a smaller first step (e.g. --steps 1,50%,100%), or to roll out anyway re-run with --allow-big-steps: kubectl sts canary web -n {ns} --image nginx=x:1 --steps 10,100% --allow-big-steps"),
        c(f, &["--image", "nginx=x:1", "--steps", "2,100%"], 2,
            "the first step updates 2 of the 3 pods above the floor, more than half",
            "use a smaller first step (e.g. --steps 1,50%,100%), or to roll out anyway re-run with --allow-big-steps: kubectl sts canary web -n {ns} --image nginx=x:1 --steps 2,100% --allow-big-steps"),
        c(f, &["--image", "nginx"], 2, "--image \"nginx\" must be CONTAINER=IMAGE", image_hint),
        c(f, &["--image", "=x:1"], 2, "--image \"=x:1\" must be CONTAINER=IMAGE", image_hint),
        c(f, &["--image", "nginx=nginx:1.26 "], 2,
            "--image \"nginx=nginx:1.26 \" has leading or trailing whitespace; pods with it are rejected", image_hint),
        c(f, &["--image", "nginx=x:1", "--image", "nginx=y:1"], 2,
            "--image names container \"nginx\" twice", image_hint),
        c(f, &["--image", "db=x:1", "--yes"], 2,
            "container \"db\" not found in the pod template (containers: nginx)",
            "name one of those containers: --image CONTAINER=IMAGE"),
        c(f, &["--patch-file", "{dir}/missing.yaml"], 2,
            "cannot read --patch-file {dir}/missing.yaml: …",
            "check the path and that the file is readable"),
        c(f, &["--patch-file", "{dir}/a-directory"], 2,
            "cannot read --patch-file {dir}/a-directory: …",
            "check the path and that the file is readable"),
        c(f, &["--patch-file", "{dir}/bad.yaml"], 2,
            "invalid --patch-file {dir}/bad.yaml: not valid YAML/JSON: …", patch_hint),
        c(f, &["--patch-file", "{dir}/list.yaml"], 2,
            "invalid --patch-file {dir}/list.yaml: must be a mapping (a strategic-merge patch of the pod template)",
            patch_hint),
        c(f, &["--image", "nginx=x:1", "--soak", "soon"], 2, "invalid --soak \"soon\"",
            "use a duration such as 30s, 5m or 1h (0: no soak)"),
        c(f, &["--image", "nginx=x:1", "--timeout", "1x"], 2, "invalid --timeout \"1x\"",
            "use a duration such as 30s, 5m or 1h"),
        c(f, &["--image", "nginx=x:1", "--timeout", "0"], 2, "--timeout must be longer than 0",
            "it is how long an updated pod may take to become Ready, e.g. --timeout 5m"),
        c(f, &["--abort", "--promote"], 2, "the argument '--abort' cannot be used with '--promote'", help),
        c(f, &["--image", "nginx=x:1", "--yes", "--dry-run"], 2,
            "the argument '--yes' cannot be used with '--dry-run[=<MODE>]'", help),
        c(f, &["--adopt", "--image", "nginx=x:1"], 2,
            "the argument '--adopt' cannot be used with '--image <CONTAINER=IMAGE>'", help),
        c(f, &["--image", "nginx=x:1", "--floor", "2"], 2, "--floor applies to --adopt only",
            "a new canary's floor is the partition the StatefulSet already has"),
        c(f, &["--adopt", "--floor=-1"], 2,
            "invalid value '-1' for '--floor <N>': -1 is not in 0..=2147483647", help),
        c(f, &["--image", "nginx=x:1", "-o", "yaml"], 2, "invalid value 'yaml' for '--output <FORMAT>'",
            "possible values: text, json"),
        c(f, &["--yes"], 2, "no change given and no canary in progress",
            "start one with: kubectl sts canary web -n {ns} --image CONTAINER=IMAGE (or --patch-file FILE), or adopt a held change with: kubectl sts canary web -n {ns} --adopt"),
        c(f, &["--image", "nginx=nginx:1.25", "--yes"], 2,
            "the change leaves the pod template of statefulset web as it is",
            "there is nothing to roll out; check the image tag or the patch file"),
        c(f, &["--patch-file", "{dir}/same.json", "--yes"], 2,
            "the change leaves the pod template of statefulset web as it is",
            "there is nothing to roll out; check the image tag or the patch file"),
        case(f, &["prune-pvcs", "-n", "{ns}", "-o", "wide"], 2,
            "invalid value 'wide' for '--output <FORMAT>'", "possible values: table, json, yaml"),
        case(f, &["prune-pvcs", "-n", "{ns}", "--older-than", "forever"], 2,
            "invalid --older-than \"forever\"", "use a duration such as 30m, 12h or 7d"),
        case(f, &["prune-pvcs", "-n", "{ns}", "-l", "app in web"], 2,
            "invalid --selector \"app in web\": unable to parse requirement: …",
            "e.g. -l app=web, -l 'app=web,tier!=cache' or -l 'tier in (db,cache)'"),
        // kubeconfig / auth
        case(k, &["status", "--kubeconfig", "/nonexistent/kubeconfig"], 3,
            "kubeconfig /nonexistent/kubeconfig does not exist", "check the --kubeconfig path"),
        case(k, &["status", "--kubeconfig", "{dir}/corrupt.yaml"], 3,
            "cannot read kubeconfig {dir}/corrupt.yaml: failed to parse kubeconfig YAML: …",
            "check that the file is a valid kubeconfig: kubectl config view --kubeconfig FILE"),
        case(k, &["status", "--kubeconfig", &dead], 3,
            "cannot reach the API server at https://127.0.0.1:1/: …",
            unreachable_hint),
        case(k, &["status", "--kubeconfig", &wrong_ca], 3, "cannot reach the API server at https://127.0.0.1:…",
            "the server's certificate is not trusted by the kubeconfig's certificate-authority; check the kubeconfig's cluster entry"),
        case(k, &["status", "--kubeconfig", &bad_token], 3,
            "the API server rejected the credentials (401 Unauthorized)",
            "the token or client certificate in the kubeconfig is invalid or expired; log in again"),
        case(k, &["status", "--context", "nope"], 3, "context \"nope\" not found in the kubeconfig",
            "list contexts with: kubectl config get-contexts"),
        case(k, &["status", "--cluster", "nope"], 3, "cluster \"nope\" not found in the kubeconfig",
            "list clusters with: kubectl config get-clusters"),
        case(k, &["status", "--user", "nope"], 3, "user \"nope\" not found in the kubeconfig",
            "list users with: kubectl config get-users"),
        case(k, &["status", "--kubeconfig", &silent, "--request-timeout", "1s"], 3, "cannot reach the API server at https://127.0.0.1:…",
            "the server did not answer in time; check the network or raise --request-timeout"),
        case(k, &["status"], 3, "no kubeconfig found and not running in a cluster: …",
            "set KUBECONFIG or pass --kubeconfig")
            .env("KUBECONFIG", "")
            .env("HOME", "{dir}/empty-home"),
        c(k, &["--image", "nginx=x:1", "--yes", "--kubeconfig", &dead], 3,
            "cannot reach the API server at https://127.0.0.1:1/: …",
            unreachable_hint),
        case(k, &["prune-pvcs", "-n", "{ns}", "--yes", "--kubeconfig", &bad_token], 3,
            "the API server rejected the credentials (401 Unauthorized)",
            "the token or client certificate in the kubeconfig is invalid or expired; log in again"),
        // missing objects
        case(m, &["status", "nope", "-n", "{ns}"], 3,
            "statefulset \"nope\" not found in namespace \"{ns}\"", list_sts),
        case(m, &["status", "sts/nope", "-n", "{ns}"], 3,
            "statefulset \"nope\" not found in namespace \"{ns}\"", list_sts),
        case(m, &["status", "ds/nope", "-n", "{ns}"], 3,
            "daemonset \"nope\" not found in namespace \"{ns}\"",
            "list them with: kubectl get daemonsets -n {ns}"),
        case(m, &["status", "ds/agent", "-n", "{ns}", "--node", "nope"], 3,
            "nodes \"nope\" not found", "list them with: kubectl get nodes"),
        case(m, &["status", "web", "-n", "no-such-namespace-xyz"], 3, no_ns, list_ns),
        case(m, &["status", "-n", "no-such-namespace-xyz"], 3, no_ns, list_ns),
        case(m, &["canary", "nope", "-n", "{ns}", "--image", "nginx=x:1", "--yes"], 3,
            "statefulset \"nope\" not found in namespace \"{ns}\"", list_sts),
        case(m, &["canary", "web", "-n", "no-such-namespace-xyz", "--image", "nginx=x:1", "--yes"], 3,
            no_ns, list_ns),
        case(m, &["prune-pvcs", "nope", "-n", "{ns}"], 3,
            "statefulset \"nope\" not found in namespace \"{ns}\"", list_sts),
        case(m, &["prune-pvcs", "-n", "no-such-namespace-xyz"], 3, no_ns, list_ns),
        // unsafe states
        case(u, &["canary", "ondel", "-n", "{ns}", "--image", "nginx=x:1", "--yes"], 4,
            "statefulset ondel uses the OnDelete update strategy: a partition does nothing, the controller never replaces pods",
            r#"switch to RollingUpdate first: kubectl patch sts ondel -n {ns} -p '{"spec":{"updateStrategy":{"type":"RollingUpdate"}}}'"#),
        case(u, &["canary", "zero", "-n", "{ns}", "--image", "nginx=x:1", "--yes"], 4,
            "statefulset zero has 0 replicas: there is nothing to canary",
            "scale it up first: kubectl scale sts zero -n {ns} --replicas=N"),
        case(u, &["canary", "held", "-n", "{ns}", "--image", "nginx=x:1", "--yes"], 4,
            "statefulset held has partition 1 ≥ replicas 1: a change is held, or nothing is above the floor",
            "to adopt a held change, lower the partition below 1 first; to start fresh, set the partition you want as the floor"),
        case(u, &["canary", "auto", "-n", "{ns}", "--image", "nginx=x:1", "--yes"], 4,
            "HorizontalPodAutoscaler auto targets statefulset auto: it may change the replicas mid-canary",
            "pause the autoscaler, or pass --allow-autoscaler to accept re-planning when replicas change"),
        case(u, &["canary", "corrupt", "-n", "{ns}", "--abort", "--yes"], 4,
            "the kubectl-sts.io/canary annotation is not readable: expected value at line 1 column 1",
            "remove it with: kubectl annotate sts corrupt -n {ns} kubectl-sts.io/canary-"),
        case(u, &["canary", "sick", "-n", "{ns}", "--image", "nginx=x:1", "--yes"], 4,
            "pod sick-0 is not Ready (Running)",
            "fix it first (kubectl sts status sick -n {ns}); a canary needs every pod Ready to judge the new revision"),
        c(u, &["--abort", "--yes"], 4, "no canary in progress on statefulset web",
            "there is nothing to abort; to roll back a plain rollout use: kubectl rollout undo sts web -n {ns}"),
        c(u, &["--adopt", "--yes"], 4,
            "nothing to adopt: the partition is 0 and the floor 0; a held change needs floor < partition",
            "apply the change with a partition holding it (e.g. partition = replicas), or start one with --image/--patch-file"),
        // non-TTY
        c(n, &["--image", "nginx=x:1"], 4,
            "confirmation needed (start the canary of statefulset web?) but there is no terminal to ask on",
            confirm_hint),
        c(n, &["--patch-file", "{dir}/new.json", "--steps", "1,100%"], 4,
            "confirmation needed (start the canary of statefulset web?) but there is no terminal to ask on",
            confirm_hint),
        case(n, &["canary", "held", "-n", "{ns}", "--adopt", "--allow-big-steps"], 4,
            "confirmation needed (adopt and continue the canary of statefulset held?) but there is no terminal to ask on",
            confirm_hint),
        case(n, &["prune-pvcs", "-n", "{ns}"], 4,
            "confirmation needed (delete 1 PersistentVolumeClaim) but there is no terminal to ask on",
            confirm_hint),
        case(n, &["prune-pvcs", "shrunk", "-n", "{ns}"], 4,
            "confirmation needed (delete 1 PersistentVolumeClaim) but there is no terminal to ask on",
            confirm_hint),
    ]
}

/// Runs the binary as `common::sts_with` does, and never as if inside a
/// pod (the in-cluster fallback would answer the no-kubeconfig case).
fn run(args: &[&str], envs: &[(&str, &str)]) -> common::Run {
    let out = std::process::Command::new(common::bin())
        .env("KUBECONFIG", &common::env().kubeconfig)
        .env_remove("NO_COLOR")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env("RUST_BACKTRACE", "1")
        .envs(envs.iter().copied())
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn line_matches(got: Option<&str>, want: &str) -> bool {
    match want.strip_suffix('…') {
        Some(prefix) => got.is_some_and(|g| g.starts_with(prefix)),
        None => got == Some(want),
    }
}

#[test]
fn bad_input_catalogue() {
    let dir = scratch();
    let d = dir.display().to_string();
    let ns = setup();
    // Connections complete in the kernel's backlog; nothing ever answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = listener.local_addr().unwrap().port();
    let subst = |s: &str| s.replace("{ns}", &ns.name).replace("{dir}", &d);
    let cases = cases(&dir, silent);
    let mut failures = Vec::new();
    let mut per_category = BTreeMap::<&str, usize>::new();
    let before = fingerprint(&ns);
    for c in &cases {
        *per_category.entry(c.category).or_default() += 1;
        let args: Vec<String> = c.args.iter().map(|a| subst(a)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, String)> = c.env.iter().map(|(k, v)| (*k, subst(v))).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = run(&args, &envs);
        let lines: Vec<&str> = r.stderr.lines().collect();
        let mut wrong = Vec::new();
        if r.code != c.code {
            wrong.push(format!("exit {} (want {})", r.code, c.code));
        }
        if !line_matches(lines.first().copied(), &subst(&c.error)) {
            wrong.push(format!("error line, want {:?}", subst(&c.error)));
        }
        if !line_matches(lines.get(1).copied(), &subst(&c.hint)) {
            wrong.push(format!("hint line, want {:?}", subst(&c.hint)));
        }
        if lines.len() != 2 || r.stderr.contains("panicked") || r.stderr.contains("backtrace") {
            wrong.push("stderr is not exactly two lines".into());
        }
        if c.writes() {
            let after = fingerprint(&ns);
            if after != before {
                wrong.push(format!(
                    "the server changed: before {before:?}, after {after:?}"
                ));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "[{}] {:?}: {}\nstderr:\n{}",
                c.category,
                args,
                wrong.join("; "),
                r.stderr
            ));
        }
    }
    // The audit log agrees: no write from kubectl-sts reached the namespace
    // (the dryRun probe of a no-op change aside).
    let writes: Vec<String> = common::audit_events(&ns.name)
        .iter()
        .filter(|e| {
            ["create", "update", "patch", "delete", "deletecollection"]
                .contains(&e["verb"].as_str().unwrap_or(""))
                && !e["requestURI"]
                    .as_str()
                    .unwrap_or("")
                    .contains("dryRun=All")
        })
        .map(|e| e.to_string())
        .collect();
    assert!(writes.is_empty(), "writes reached the server: {writes:#?}");
    println!(
        "bad-input catalogue: {} cases {:?}",
        cases.len(),
        per_category
    );
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for cat in CATEGORIES {
        assert!(
            per_category.get(cat).copied().unwrap_or(0) >= 3,
            "fewer than 3 cases in {cat}"
        );
    }
    drop(listener);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const BEGIN: &str = "<!-- catalogue:begin (generated by tests/errors.rs) -->";
const END: &str = "<!-- catalogue:end -->";

/// The catalogue as Markdown tables, one per category.
fn catalogue_markdown(cases: &[Case]) -> String {
    let show = |s: &str| {
        s.replace("{ns}", "NS")
            .replace("{dir}", "DIR")
            .replace('|', "\\|")
    };
    let quote = |a: &str| {
        if a.is_empty() || a.contains([' ', '{', '(', '\'', '"']) {
            format!("'{a}'")
        } else {
            a.to_string()
        }
    };
    let mut out = String::new();
    for cat in CATEGORIES {
        out.push_str(&format!(
            "\n### {cat}\n\n| exit | command | message | hint |\n|---|---|---|---|\n"
        ));
        for c in cases.iter().filter(|c| c.category == *cat) {
            let env: String = c
                .env
                .iter()
                .map(|(k, v)| format!("{k}={} ", quote(v)))
                .collect();
            let args: Vec<String> = c.args.iter().map(|a| quote(a)).collect();
            out.push_str(&format!(
                "| {} | `{}kubectl sts {}` | `{}` | {} |\n",
                c.code,
                show(&env),
                show(&args.join(" ")),
                show(c.error.trim_start_matches("error: ")),
                show(c.hint.trim_start_matches("hint: ")),
            ));
        }
    }
    out
}

/// docs/errors.md holds the catalogue as generated from the cases above.
#[test]
fn errors_doc_holds_the_catalogue() {
    let dir = std::env::temp_dir().join(format!("kubectl-sts-errors-doc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let want = catalogue_markdown(&cases(&dir, 1));
    let _ = std::fs::remove_dir_all(&dir);
    let path = root().join("docs/errors.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = doc
        .split_once(BEGIN)
        .expect("docs/errors.md has the begin marker");
    let (current, tail) = rest
        .split_once(END)
        .expect("docs/errors.md has the end marker");
    if current == want {
        return;
    }
    if std::env::var_os("UPDATE_ERRORS_DOC").is_some() {
        std::fs::write(&path, format!("{head}{BEGIN}{want}{END}{tail}")).unwrap();
        return;
    }
    panic!(
        "docs/errors.md is out of date with the catalogue; regenerate with UPDATE_ERRORS_DOC=1 cargo test --test errors errors_doc"
    );
}

/// Every message the source builds with a literal appears in docs/errors.md:
/// the longest fixed run of text between `{…}` placeholders of each
/// `Failure::usage/cluster/refused/new(…)`, of each refusal reason and of
/// each `Err("…")` a parser returns.
#[test]
fn every_message_in_the_source_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/errors.md")).unwrap();
    let mut missing = Vec::new();
    let mut seen = 0;
    for file in rust_files(&root().join("src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for lit in message_literals(&text) {
            let run = longest_fixed_run(&lit);
            if run.trim().len() < 8 {
                continue;
            }
            seen += 1;
            if !doc.contains(run.as_str()) {
                missing.push(format!("{}: {lit:?} (looked for {run:?})", file.display()));
            }
        }
    }
    assert!(
        seen > 60,
        "only {seen} messages found in src/: the scan is broken"
    );
    assert!(
        missing.is_empty(),
        "messages missing from docs/errors.md:\n{}",
        missing.join("\n")
    );
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") && !p.to_string_lossy().contains("tests")
        {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The first string literal after each message constructor: `Failure::usage(`,
/// `Failure::cluster(`, `Failure::refused(`, `Failure::new(` (optionally
/// through `format!(`), `refuse(` reasons in the planners, and the `Err(…)`
/// strings the parsers return.
fn message_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in [
        "Failure::usage(",
        "Failure::cluster(",
        "Failure::refused(",
        "Failure::new(",
        "refuse(",
        "Err(",
    ] {
        let mut rest = text;
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            let mut t = rest.trim_start();
            if marker == "Failure::new(" {
                // Failure::new(Exit::X, message)
                t = t.split_once(',').map_or("", |(_, m)| m).trim_start();
            }
            let t = t.strip_prefix("format!(").unwrap_or(t).trim_start();
            if let Some(body) = t.strip_prefix('"') {
                out.push(read_literal(body));
            }
        }
    }
    out
}

fn read_literal(body: &str) -> String {
    let mut s = String::new();
    let mut chars = body.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => s.push('\n'),
                Some(c) => s.push(c),
                None => break,
            },
            c => s.push(c),
        }
    }
    s
}

fn longest_fixed_run(lit: &str) -> String {
    let mut runs = vec![String::new()];
    let mut depth = 0;
    let mut chars = lit.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                runs.last_mut().unwrap().push('{');
            }
            '}' if depth == 0 && chars.peek() == Some(&'}') => {
                chars.next();
                runs.last_mut().unwrap().push('}');
            }
            '{' => {
                depth += 1;
                runs.push(String::new());
            }
            '}' => depth -= 1,
            c if depth == 0 => runs.last_mut().unwrap().push(c),
            _ => {}
        }
    }
    runs.into_iter().max_by_key(|r| r.len()).unwrap_or_default()
}

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                T[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}
