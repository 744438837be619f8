//! A real Kubernetes control plane on 127.0.0.1 for tests and demos.
//!
//! etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
//! (simulated nodes and pod status) run as child processes on free loopback
//! ports with a freshly generated PKI. [`Sandbox::start`] returns once every
//! component passed a real readiness check: a probe pod was scheduled and
//! turned Ready, and a probe claim was provisioned and Bound.

pub mod kubeconfig;
pub mod nodes;
mod pki;
pub mod procs;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, Node, PersistentVolumeClaim, Pod, ServiceAccount,
};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};

pub use pki::VIEWER_USER;
use procs::{Proc, Spawner};

/// The components that are restarted when they exit once the sandbox is
/// ready, as a kubelet restarts static pods (or systemd its units) on a real
/// control plane. kube-scheduler in particular exits by design when its
/// cache disagrees with what its informer delivers (pkg/scheduler/backend/
/// cache/cache.go: "Scheduler cache is corrupted", klog.FlushAndExit): after
/// a kube-apiserver restart its pod informer may re-list, and a pod deleted
/// and re-created under the same name meanwhile arrives as an update from the
/// old, bound pod to the new, unbound one. Left dead, no pod was ever
/// scheduled again. etcd and kube-apiserver are not restarted: their exit is
/// a sandbox failure that [`Sandbox::check_alive`] reports.
pub const SUPERVISED: &[&str] = &["kube-controller-manager", "kube-scheduler", "kwok"];

/// The Kubernetes feature gates the sandbox turns on (off by default in 1.36).
pub const FEATURE_GATES: &str = "MaxUnavailableStatefulSet=true";

/// The marker images the sandbox's kwok stages keep from ever becoming Ready.
pub mod images {
    /// Pending, container waiting in ImagePullBackOff.
    pub const IMAGE_PULL_BACKOFF: &str = "example.invalid/image-pull-backoff:1";
    /// Running, container waiting in CrashLoopBackOff with restarts.
    pub const CRASH_LOOP: &str = "example.invalid/crash-loop:1";
    /// Running, container running, readiness never passes.
    pub const NOT_READY: &str = "example.invalid/not-ready:1";
}

const STAGES: &[(&str, &str)] = &[
    (
        "node-initialize.yaml",
        include_str!("../stages/node-initialize.yaml"),
    ),
    (
        "node-heartbeat-with-lease.yaml",
        include_str!("../stages/node-heartbeat-with-lease.yaml"),
    ),
    (
        "node-not-ready.yaml",
        include_str!("../stages/node-not-ready.yaml"),
    ),
    ("pod-ready.yaml", include_str!("../stages/pod-ready.yaml")),
    (
        "pod-complete.yaml",
        include_str!("../stages/pod-complete.yaml"),
    ),
    ("pod-delete.yaml", include_str!("../stages/pod-delete.yaml")),
    (
        "pod-image-pull-backoff.yaml",
        include_str!("../stages/pod-image-pull-backoff.yaml"),
    ),
    (
        "pod-crash-loop.yaml",
        include_str!("../stages/pod-crash-loop.yaml"),
    ),
    (
        "pod-not-ready.yaml",
        include_str!("../stages/pod-not-ready.yaml"),
    ),
];

const AUDIT_POLICY: &str = r#"apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  users: ["system:kube-controller-manager", "system:kube-scheduler", "system:apiserver"]
- level: None
  userGroups: ["system:serviceaccounts", "system:nodes"]
- level: None
  resources: [{group: "coordination.k8s.io", resources: ["leases"]}]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/openapi*"]
- level: Metadata
"#;

/// How to start a sandbox.
#[derive(Clone, Debug)]
pub struct Options {
    /// Working directory (certificates, kubeconfigs, data, logs). Recreated.
    pub dir: PathBuf,
    /// Directory holding etcd, kube-apiserver, kube-controller-manager,
    /// kube-scheduler and kwok.
    pub bins: PathBuf,
    /// Worker nodes besides the tainted control-plane node.
    pub workers: usize,
    /// Print progress lines to stderr.
    pub verbose: bool,
}

impl Options {
    /// Options from the environment: `STS_SANDBOX_BINS` names the binaries.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Options> {
        let bins = std::env::var_os("STS_SANDBOX_BINS").map(PathBuf::from).ok_or_else(|| {
            anyhow!("STS_SANDBOX_BINS is not set: run scripts/build-sandbox-bins and export its last line")
        })?;
        Ok(Options {
            dir: dir.into(),
            bins,
            workers: 3,
            verbose: false,
        })
    }
}

/// Loopback ports of the components.
#[derive(Clone, Copy, Debug)]
pub struct Ports {
    pub etcd: u16,
    pub etcd_peer: u16,
    pub apiserver: u16,
    pub controller_manager: u16,
    pub scheduler: u16,
    pub kwok: u16,
}

/// A running control plane. Dropping it stops every component.
pub struct Sandbox {
    pub dir: PathBuf,
    pub ports: Ports,
    procs: Arc<Mutex<Vec<Proc>>>,
    spawner: Arc<Spawner>,
    supervisor: Option<Supervisor>,
    restarts: Arc<Mutex<Vec<String>>>,
    opts: Options,
    /// Seconds from start to ready.
    pub start_secs: f64,
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn s(v: impl std::fmt::Display) -> String {
    v.to_string()
}

impl Sandbox {
    /// Starts every component and waits until the cluster really works.
    pub async fn start(opts: Options) -> Result<Sandbox> {
        let t0 = Instant::now();
        let dir = opts.dir.clone();
        // Start clean, but keep the supervisor's pid file (written before
        // start so that `down` can stop a sandbox that is still starting).
        if dir.exists() {
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                if path.file_name().is_some_and(|n| n == "supervisor.pid") {
                    continue;
                }
                let res = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                res.with_context(|| format!("removing old sandbox file {}", path.display()))?;
            }
        }
        for sub in ["pki", "logs", "stages", "etcd"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        for b in [
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok",
        ] {
            if !opts.bins.join(b).is_file() {
                bail!(
                    "{} is missing: run scripts/build-sandbox-bins first",
                    opts.bins.join(b).display()
                );
            }
        }
        let pki = pki::Pki::generate()?;
        pki.write(&dir.join("pki"))?;
        for (name, body) in STAGES {
            std::fs::write(dir.join("stages").join(name), body)?;
        }
        std::fs::write(dir.join("audit-policy.yaml"), AUDIT_POLICY)?;
        std::fs::write(
            dir.join("tokens.csv"),
            format!("sts-viewer-token,{VIEWER_USER}-token,1001,\"\"\n"),
        )?;

        let ports = Ports {
            etcd: free_port()?,
            etcd_peer: free_port()?,
            apiserver: free_port()?,
            controller_manager: free_port()?,
            scheduler: free_port()?,
            kwok: free_port()?,
        };
        let server = format!("https://127.0.0.1:{}", ports.apiserver);
        let kc = |user: &str, pem: &pki::Pem, file: &str| -> Result<PathBuf> {
            let path = dir.join(file);
            kubeconfig::write(&path, &server, &pki.ca.cert, user, &pem.cert, &pem.key)?;
            Ok(path)
        };
        kc("admin", &pki.admin, "admin.kubeconfig")?;
        kc(
            "kube-controller-manager",
            &pki.controller_manager,
            "kcm.kubeconfig",
        )?;
        kc("kube-scheduler", &pki.scheduler, "scheduler.kubeconfig")?;
        kc(VIEWER_USER, &pki.viewer, "viewer.kubeconfig")?;

        let mut sb = Sandbox {
            dir: dir.clone(),
            ports,
            procs: Arc::new(Mutex::new(Vec::new())),
            spawner: Arc::new(Spawner::new()),
            supervisor: None,
            restarts: Arc::new(Mutex::new(Vec::new())),
            opts: opts.clone(),
            start_secs: 0.0,
        };
        sb.say("starting etcd");
        sb.spawn("etcd", sb.etcd_args())?;
        sb.wait_etcd().await?;
        sb.say("starting kube-apiserver");
        sb.spawn("kube-apiserver", sb.apiserver_args())?;
        let client = sb.wait_apiserver(Duration::from_secs(90)).await?;

        sb.say("starting kube-controller-manager, kube-scheduler and kwok");
        sb.spawn("kube-controller-manager", sb.controller_manager_args())?;
        sb.spawn("kube-scheduler", sb.scheduler_args())?;
        sb.spawn("kwok", sb.kwok_args())?;

        sb.say("creating the default StorageClass and nodes");
        bootstrap(&client, opts.workers).await?;
        sb.say("waiting for nodes, service accounts, scheduling and volume binding");
        sb.wait_ready(&client).await?;
        sb.supervisor = Some(Supervisor::start(
            sb.procs.clone(),
            sb.spawner.clone(),
            sb.restarts.clone(),
            dir.clone(),
        ));
        sb.start_secs = t0.elapsed().as_secs_f64();
        sb.say(&format!("ready in {:.1}s", sb.start_secs));
        Ok(sb)
    }

    fn say(&self, msg: &str) {
        if self.opts.verbose {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("sandbox: {msg}");
            }
        }
    }

    fn pki(&self, f: &str) -> String {
        self.dir.join("pki").join(f).display().to_string()
    }

    fn etcd_args(&self) -> Vec<String> {
        let p = self.ports;
        vec![
            s("--name=sandbox"),
            format!("--data-dir={}", self.dir.join("etcd").display()),
            format!("--listen-client-urls=http://127.0.0.1:{}", p.etcd),
            format!("--advertise-client-urls=http://127.0.0.1:{}", p.etcd),
            format!("--listen-peer-urls=http://127.0.0.1:{}", p.etcd_peer),
            format!(
                "--initial-advertise-peer-urls=http://127.0.0.1:{}",
                p.etcd_peer
            ),
            format!("--initial-cluster=sandbox=http://127.0.0.1:{}", p.etcd_peer),
            s("--unsafe-no-fsync=true"),
            // Like Kubernetes' own cluster scripts: frequent progress
            // notifications keep the API server's watch caches (and so the
            // bookmarks controllers' informers see) current on quiet
            // resources. 1.36 controllers refuse to sync while their informer
            // is older than their last write (StaleControllerConsistency*),
            // which with etcd's default of 10m stalls them for minutes.
            s("--watch-progress-notify-interval=5s"),
            s("--auto-compaction-retention=1"),
            s("--quota-backend-bytes=8589934592"),
            s("--log-level=warn"),
        ]
    }

    fn apiserver_args(&self) -> Vec<String> {
        let p = self.ports;
        vec![
            format!("--etcd-servers=http://127.0.0.1:{}", p.etcd),
            s("--bind-address=127.0.0.1"),
            format!("--secure-port={}", p.apiserver),
            s("--advertise-address=127.0.0.1"),
            s("--endpoint-reconciler-type=none"),
            format!("--tls-cert-file={}", self.pki("apiserver.crt")),
            format!("--tls-private-key-file={}", self.pki("apiserver.key")),
            format!("--client-ca-file={}", self.pki("ca.crt")),
            format!(
                "--token-auth-file={}",
                self.dir.join("tokens.csv").display()
            ),
            s("--authorization-mode=RBAC"),
            s("--service-account-issuer=https://kubernetes.default.svc.cluster.local"),
            format!("--service-account-key-file={}", self.pki("sa.pub")),
            format!("--service-account-signing-key-file={}", self.pki("sa.key")),
            s("--service-cluster-ip-range=10.96.0.0/16"),
            s("--allow-privileged=true"),
            s("--enable-priority-and-fairness=false"),
            s("--max-requests-inflight=0"),
            s("--max-mutating-requests-inflight=0"),
            format!("--feature-gates={FEATURE_GATES}"),
            format!(
                "--audit-policy-file={}",
                self.dir.join("audit-policy.yaml").display()
            ),
            format!("--audit-log-path={}", self.audit_log().display()),
            s("--audit-log-maxsize=1024"),
            s("--v=1"),
        ]
    }

    fn controller_manager_args(&self) -> Vec<String> {
        vec![
            format!("--kubeconfig={}", self.dir.join("kcm.kubeconfig").display()),
            s("--bind-address=127.0.0.1"),
            format!("--secure-port={}", self.ports.controller_manager),
            s("--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics"),
            s("--leader-elect=false"),
            s("--use-service-account-credentials=true"),
            format!("--service-account-private-key-file={}", self.pki("sa.key")),
            format!("--root-ca-file={}", self.pki("ca.crt")),
            s("--controllers=*"),
            s("--enable-hostpath-provisioner=true"),
            s("--kube-api-qps=500"),
            s("--kube-api-burst=1000"),
            s("--node-monitor-period=2s"),
            // Kubernetes' default grace, 50s (nodelifecycle/config/v1alpha1/
            // defaults.go), and longer with thousands of nodes (kwok renews
            // leases at a bounded rate and lags behind under load). Never
            // shorter: kwok renews a lease every 10s and does not retry a
            // failed renewal sooner, so with a 20s grace a kube-apiserver
            // restart (down ~15s) made the node lifecycle controller mark live
            // nodes NotReady and their pods not Ready. A kubelet would set its
            // pods Ready again; kwok's stages never do (pod-ready only matches
            // Pending pods), so the pods stayed not Ready and every
            // OrderedReady StatefulSet on those nodes stopped for good.
            format!(
                "--node-monitor-grace-period={}s",
                (self.opts.workers as u64 / 10).max(50)
            ),
            s("--pvclaimbinder-sync-period=2s"),
            format!("--feature-gates={FEATURE_GATES}"),
            s("--v=1"),
        ]
    }

    fn scheduler_args(&self) -> Vec<String> {
        vec![
            format!(
                "--kubeconfig={}",
                self.dir.join("scheduler.kubeconfig").display()
            ),
            s("--bind-address=127.0.0.1"),
            format!("--secure-port={}", self.ports.scheduler),
            s("--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics"),
            s("--leader-elect=false"),
            s("--kube-api-qps=500"),
            s("--kube-api-burst=1000"),
            s("--v=1"),
        ]
    }

    fn kwok_args(&self) -> Vec<String> {
        let mut a = vec![
            format!("--kubeconfig={}", self.kubeconfig().display()),
            s("--manage-all-nodes=true"),
            s("--node-lease-duration-seconds=40"),
            s("--cidr=10.244.0.1/16"),
            s("--node-ip=10.244.0.1"),
            format!("--server-address=127.0.0.1:{}", self.ports.kwok),
        ];
        for (name, _) in STAGES {
            a.push(format!(
                "--config={}",
                self.dir.join("stages").join(name).display()
            ));
        }
        a
    }

    fn spawn(&mut self, name: &str, args: Vec<String>) -> Result<()> {
        let program = self.opts.bins.join(name);
        let log = self.dir.join("logs").join(format!("{name}.log"));
        let p = self.spawner.spawn(name, &program, args, &log)?;
        std::fs::write(self.dir.join(format!("{name}.pid")), p.pid().to_string())?;
        self.procs().push(p);
        Ok(())
    }

    fn procs(&self) -> MutexGuard<'_, Vec<Proc>> {
        lock(&self.procs)
    }

    /// Errors with the log tail of any component that has exited (once the
    /// sandbox is ready, only etcd and kube-apiserver: the others are
    /// restarted, see [`SUPERVISED`] and [`Sandbox::restarts`]).
    pub fn check_alive(&mut self) -> Result<()> {
        let supervised = self.supervisor.is_some();
        for p in self.procs().iter_mut() {
            if supervised && SUPERVISED.contains(&p.name.as_str()) {
                continue;
            }
            if let Some(status) = p.exited() {
                bail!(
                    "{} exited ({status}); last lines of {}:\n{}",
                    p.name,
                    p.log.display(),
                    p.log_tail(30)
                );
            }
        }
        Ok(())
    }

    async fn wait_until<F, Fut>(&mut self, what: &str, timeout: Duration, mut f: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool>>,
    {
        let deadline = Instant::now() + timeout;
        let mut last_err = String::new();
        loop {
            self.check_alive()?;
            match f().await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => last_err = format!("{e:#}"),
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = self
                    .procs()
                    .iter()
                    .map(|p| format!("--- {} ({}):\n{}", p.name, p.log.display(), p.log_tail(15)))
                    .collect();
                bail!(
                    "sandbox: timed out after {}s waiting for {what}{}\n{}",
                    timeout.as_secs(),
                    if last_err.is_empty() {
                        String::new()
                    } else {
                        format!(" (last error: {last_err})")
                    },
                    logs.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_etcd(&mut self) -> Result<()> {
        let port = self.ports.etcd;
        self.wait_until("etcd /health", Duration::from_secs(30), || async move {
            let body = http_get(port, "/health").await?;
            Ok(body.contains("\"health\":\"true\""))
        })
        .await
    }

    async fn wait_apiserver(&mut self, timeout: Duration) -> Result<Client> {
        let path = self.kubeconfig();
        self.wait_until("kube-apiserver /readyz", timeout, || {
            let path = path.clone();
            async move {
                let client = admin_client(&path).await?;
                let req = http::Request::get("/readyz").body(Vec::new())?;
                let text = client.request_text(req).await?;
                Ok(text.trim() == "ok")
            }
        })
        .await?;
        let client = admin_client(&path).await?;
        let c2 = client.clone();
        self.wait_until(
            "namespaces default, kube-system, kube-node-lease",
            timeout,
            || {
                let c = c2.clone();
                async move {
                    let ns: Api<Namespace> = Api::all(c);
                    for n in ["default", "kube-system", "kube-node-lease"] {
                        if ns.get_opt(n).await?.is_none() {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                }
            },
        )
        .await?;
        Ok(client)
    }

    async fn wait_ready(&mut self, client: &Client) -> Result<()> {
        let c = client.clone();
        // kwok initialises nodes at a bounded rate: allow more time for thousands.
        let nodes_timeout = Duration::from_secs(90 + self.opts.workers as u64 / 10);
        self.wait_until(
            "nodes Ready without the not-ready taint",
            nodes_timeout,
            || {
                let c = c.clone();
                async move {
                    let nodes: Api<Node> = Api::all(c);
                    let list = nodes.list(&Default::default()).await?;
                    Ok(!list.items.is_empty() && list.items.iter().all(nodes::is_ready_untainted))
                }
            },
        )
        .await?;
        let c = client.clone();
        self.wait_until(
            "ServiceAccount default and ConfigMap kube-root-ca.crt in namespace default",
            Duration::from_secs(60),
            || {
                let c = c.clone();
                async move {
                    let sa: Api<ServiceAccount> = Api::namespaced(c.clone(), "default");
                    let cm: Api<ConfigMap> = Api::namespaced(c, "default");
                    Ok(sa.get_opt("default").await?.is_some()
                        && cm.get_opt("kube-root-ca.crt").await?.is_some())
                }
            },
        )
        .await?;
        // End-to-end probe: a claim gets provisioned and bound, and a pod
        // mounting it is scheduled by kube-scheduler and made Ready by kwok.
        let ns = "sandbox-probe";
        let nsapi: Api<Namespace> = Api::all(client.clone());
        nsapi
            .create(
                &PostParams::default(),
                &serde_json::from_value(serde_json::json!({
                    "metadata": {"name": ns}
                }))?,
            )
            .await?;
        let c = client.clone();
        self.wait_until(
            "ServiceAccount default in the probe namespace",
            Duration::from_secs(60),
            || {
                let c = c.clone();
                async move {
                    let sa: Api<ServiceAccount> = Api::namespaced(c, ns);
                    Ok(sa.get_opt("default").await?.is_some())
                }
            },
        )
        .await?;
        let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
        pvcs.create(&PostParams::default(), &serde_json::from_value(serde_json::json!({
            "metadata": {"name": "probe"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}}
        }))?)
        .await?;
        let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
        pods.create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({
                "metadata": {"name": "probe"},
                "spec": {
                    "containers": [{"name": "probe", "image": "probe"}],
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "probe"}}]
                }
            }))?,
        )
        .await?;
        let c = client.clone();
        self.wait_until(
            "the probe claim to bind and the probe pod to be scheduled and Ready",
            Duration::from_secs(90),
            || {
                let c = c.clone();
                async move {
                    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), ns);
                    let pods: Api<Pod> = Api::namespaced(c, ns);
                    let bound = pvcs
                        .get("probe")
                        .await?
                        .status
                        .and_then(|s| s.phase)
                        .is_some_and(|p| p == "Bound");
                    let pod = pods.get("probe").await?;
                    let ready = pod
                        .spec
                        .as_ref()
                        .and_then(|s| s.node_name.clone())
                        .is_some()
                        && nodes::pod_ready(&pod);
                    Ok(bound && ready)
                }
            },
        )
        .await?;
        nsapi.delete(ns, &DeleteParams::default()).await?;
        Ok(())
    }

    /// The admin kubeconfig (system:masters).
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }

    /// The kubeconfig of the restricted user [`VIEWER_USER`], who has no
    /// rights until a test binds a role to it.
    pub fn viewer_kubeconfig(&self) -> PathBuf {
        self.dir.join("viewer.kubeconfig")
    }

    /// The API server's audit log (one JSON event per line).
    pub fn audit_log(&self) -> PathBuf {
        self.dir.join("logs").join("audit.log")
    }

    /// An admin client.
    pub async fn client(&self) -> Result<Client> {
        admin_client(&self.kubeconfig()).await
    }

    /// Process ids by component name.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.procs()
            .iter()
            .map(|p| (p.name.clone(), p.pid()))
            .collect()
    }

    /// Stops kube-apiserver, waits `down`, and starts it again on the same
    /// port; returns once it is ready again.
    pub async fn restart_apiserver(&mut self, down: Duration) -> Result<()> {
        let old = {
            let mut procs = self.procs();
            let i = procs.iter().position(|p| p.name == "kube-apiserver");
            i.map(|i| procs.remove(i))
        };
        if let Some(mut p) = old {
            p.stop(Duration::from_secs(10));
        }
        tokio::time::sleep(down).await;
        self.spawn("kube-apiserver", self.apiserver_args())?;
        self.wait_apiserver(Duration::from_secs(90)).await?;
        Ok(())
    }

    /// What the supervisor restarted so far, one line per restart.
    pub fn restarts(&self) -> Vec<String> {
        lock(&self.restarts).clone()
    }

    /// Stops every component (kwok first, etcd last).
    pub fn stop(&mut self) {
        if let Some(s) = self.supervisor.take() {
            s.stop();
        }
        let mut procs = lock(&self.procs);
        let order = [
            "kwok",
            "kube-scheduler",
            "kube-controller-manager",
            "kube-apiserver",
            "etcd",
        ];
        for name in order {
            while let Some(i) = procs.iter().position(|p| p.name == name) {
                let mut p = procs.remove(i);
                p.stop(Duration::from_secs(10));
                let _ = std::fs::remove_file(self.dir.join(format!("{name}.pid")));
            }
        }
        for mut p in procs.drain(..) {
            p.stop(Duration::from_secs(5));
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Restarts the [`SUPERVISED`] components when they exit, after a delay that
/// doubles (1s up to 30s) while they keep exiting within a minute of their
/// start, like a kubelet's crash-loop back-off.
struct Supervisor {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Supervisor {
    fn start(
        procs: Arc<Mutex<Vec<Proc>>>,
        spawner: Arc<Spawner>,
        restarts: Arc<Mutex<Vec<String>>>,
        dir: PathBuf,
    ) -> Supervisor {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sandbox-supervisor".into())
            .spawn(move || supervise(&procs, &spawner, &restarts, &dir, &flag))
            .ok();
        Supervisor { stop, thread }
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn supervise(
    procs: &Mutex<Vec<Proc>>,
    spawner: &Spawner,
    restarts: &Mutex<Vec<String>>,
    dir: &Path,
    stop: &AtomicBool,
) {
    use std::collections::HashMap;
    use std::io::Write;
    // By component: when it was last started, when the supervisor first saw
    // it exited, and how long to wait before its next restart.
    let mut started: HashMap<String, Instant> = HashMap::new();
    let mut exited: HashMap<String, Instant> = HashMap::new();
    let mut backoff: HashMap<String, Duration> = HashMap::new();
    let t0 = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
        let mut procs = lock(procs);
        for p in procs.iter_mut() {
            if !SUPERVISED.contains(&p.name.as_str()) {
                continue;
            }
            let Some(status) = p.exited() else { continue };
            let now = Instant::now();
            let at = *exited.entry(p.name.clone()).or_insert(now);
            let ran = started
                .get(&p.name)
                .map_or(Duration::MAX, |s| at.saturating_duration_since(*s));
            if ran >= Duration::from_secs(60) {
                backoff.remove(&p.name);
            }
            let delay = backoff
                .get(&p.name)
                .copied()
                .unwrap_or(Duration::from_secs(1));
            if now.duration_since(at) < delay {
                continue;
            }
            let last: String = p.log_tail(1).chars().take(300).collect();
            let msg = format!(
                "sandbox: {} exited ({status}) {:.1}s after the sandbox was ready; restarting it as a kubelet would; its last log line: {last}",
                p.name,
                at.duration_since(t0).as_secs_f64()
            );
            if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&p.log) {
                let _ = writeln!(f, "{msg}");
            }
            match spawner.spawn(&p.name, &p.program, p.args.clone(), &p.log) {
                Ok(new) => {
                    let _ =
                        std::fs::write(dir.join(format!("{}.pid", p.name)), new.pid().to_string());
                    *p = new;
                    lock(restarts).push(msg);
                }
                Err(e) => lock(restarts).push(format!("{msg}: failed: {e:#}")),
            }
            exited.remove(&p.name);
            started.insert(p.name.clone(), Instant::now());
            backoff.insert(p.name.clone(), (delay * 2).min(Duration::from_secs(30)));
        }
    }
}

/// Peak resident memory (VmHWM) of a process in KiB, from /proc.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// An admin client from a kubeconfig file.
pub async fn admin_client(path: &Path) -> Result<Client> {
    let kc = kube::config::Kubeconfig::read_from(path)?;
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    cfg.connect_timeout = Some(Duration::from_secs(5));
    cfg.read_timeout = Some(Duration::from_secs(30));
    Ok(Client::try_from(cfg)?)
}

async fn http_get(port: u16, path: &str) -> Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    conn.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await?;
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_string(&mut out)).await??;
    Ok(out)
}

async fn bootstrap(client: &Client, workers: usize) -> Result<()> {
    let sc: Api<StorageClass> = Api::all(client.clone());
    sc.create(
        &PostParams::default(),
        &serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}
            },
            "provisioner": "kubernetes.io/host-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
            "allowVolumeExpansion": true
        }))?,
    )
    .await
    .context("creating StorageClass standard")?;
    let mut specs = vec![nodes::NodeSpec::control_plane("sandbox-control-plane")];
    for i in 1..=workers {
        specs.push(nodes::NodeSpec::worker(&format!("sandbox-worker-{i}")));
    }
    if let Some(w) = specs.get_mut(1) {
        w.labels.insert("disk".into(), "ssd".into());
    }
    nodes::create_all(client, &specs).await
}
