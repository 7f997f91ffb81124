//! The moto AWS emulator as a child process on a free loopback port.
//!
//! moto runs through `scripts/moto_server.py`, which patches the ECS answers aws-sdk-ecs would
//! otherwise reject. Two ways to get one:
//!
//! - [`Moto::start`] gives the test its own emulator (about 1 s to start), killed when the
//!   [`Moto`] is dropped. Nothing is shared, so [`Moto::reset`] is safe to call.
//! - [`Moto::shared`] gives every test in the same test binary one emulator. Tests then isolate
//!   themselves by unique resource names and must not call [`Moto::reset`]. Under nextest each test
//!   is its own process, so "shared" degrades to one emulator per test, which is still correct.
//!
//! Either way moto exits by itself when the test process does (even on SIGKILL or a panic with
//! `panic = "abort"`): the launcher watches its stdin pipe and quits when it closes.
//!
//! moto's log goes to an unnamed temporary file. A failing test prints its tail, because moto
//! answers an unsupported call with a bare HTTP 500 that the SDK reports only as an unparsable
//! error body; the Python traceback in the log is the real message.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::Credentials;

/// The region every test uses; moto keeps separate state per region.
pub const REGION: &str = "us-east-1";

/// Lines of moto's log printed when a test panics.
const LOG_TAIL_LINES: usize = 60;

/// moto imports its whole service catalogue on start: about 1 s idle, far more on a loaded
/// two-core machine running several test binaries at once.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A fresh free port can still be taken by someone else before moto binds it.
const START_ATTEMPTS: usize = 3;

/// A running moto server; see the [module docs](self).
pub struct Moto {
    child: Child,
    addr: SocketAddr,
    /// Read side of the log, a separate open file description from the child's append-mode
    /// handle, so reading never moves where moto writes.
    log: File,
}

impl Moto {
    /// Starts a moto server owned by the caller and waits until it accepts connections.
    ///
    /// Blocking (about 1 s); fine to call from an async test.
    ///
    /// # Panics
    ///
    /// If `python3` or moto is missing, or moto does not come up within a minute; the message
    /// includes moto's log.
    pub fn start() -> Moto {
        let mut last_log = String::new();
        for _ in 0..START_ATTEMPTS {
            match Moto::try_start() {
                Ok(moto) => return moto,
                Err(log) => last_log = log,
            }
        }
        panic!(
            "moto did not start after {START_ATTEMPTS} attempts (is `moto[server]==5.2.1` \
             installed for python3?); its log:\n{last_log}"
        );
    }

    /// The moto server shared by every test in this test binary, started on first use.
    ///
    /// Never reset it: other tests use it at the same time. It is never dropped, so its log is
    /// not printed on failure; call [`Moto::log`] when a test needs it.
    ///
    /// # Panics
    ///
    /// As [`Moto::start`].
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(Moto::start)
    }

    /// One start attempt; on failure returns moto's log.
    fn try_start() -> Result<Moto, String> {
        let addr = free_loopback_addr();
        let named = tempfile::NamedTempFile::new().expect("create a temp file for moto's log");
        let writer = OpenOptions::new()
            .append(true)
            .open(named.path())
            .expect("open moto's log for appending");
        let log = named.into_file();
        let child = Command::new("python3")
            .arg(script_path())
            .args(["-H", &addr.ip().to_string(), "-p", &addr.port().to_string()])
            .env("RC_MOTO_EXIT_ON_STDIN_EOF", "1")
            .stdin(Stdio::piped())
            .stdout(writer.try_clone().expect("duplicate moto's log handle"))
            .stderr(writer)
            .spawn()
            .expect("spawn python3 (is it on PATH?)");
        let mut moto = Moto { child, addr, log };
        match moto.wait_ready() {
            Ok(()) => Ok(moto),
            // Dropping `moto` kills the child.
            Err(()) => Err(moto.log()),
        }
    }

    fn wait_ready(&mut self) -> Result<(), ()> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if self
                .child
                .try_wait()
                .expect("poll moto's process")
                .is_some()
            {
                return Err(());
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(())
    }

    /// Base URL for SDK clients and raw calls, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything moto has logged so far (one line per request, tracebacks of 500s).
    pub fn log(&self) -> String {
        let mut reader = &self.log;
        reader.seek(SeekFrom::Start(0)).expect("rewind moto's log");
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).expect("read moto's log");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Clears every service's state (`POST /moto-api/reset`). Only for a [`Moto::start`]
    /// instance. State-transition settings such as [`Moto::freeze_ecs_tasks`] survive a reset.
    ///
    /// # Panics
    ///
    /// If moto does not answer 200.
    pub async fn reset(&self) {
        self.post_moto_api("reset", "").await;
    }

    /// Stops ECS tasks from advancing on their own.
    ///
    /// By default moto moves a task one step towards STOPPED on every DescribeTasks call, so a
    /// task read twice is no longer RUNNING. After this call a task stays RUNNING until StopTask.
    ///
    /// # Panics
    ///
    /// If moto does not answer 201.
    pub async fn freeze_ecs_tasks(&self) {
        self.post_moto_api(
            "state-manager/set-transition",
            r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#,
        )
        .await;
    }

    /// Sets an ECS task's `lastStatus` (say `PENDING`, a task still pulling its image), which
    /// moto never shows on its own: its tasks start in RUNNING. The status stays until StopTask
    /// when it is not one moto moves tasks on from (see [`Moto::freeze_ecs_tasks`]).
    ///
    /// # Panics
    ///
    /// If moto has no such task.
    pub async fn set_ecs_task_status(&self, task_arn: &str, status: &str) {
        let body = serde_json::json!({ "task": task_arn, "status": status }).to_string();
        self.post_moto_api("rc/ecs-task-status", body).await;
    }

    /// Builds an `SdkConfig` that points every AWS client at this moto server.
    ///
    /// Region [`REGION`], static dummy credentials, latest behavior version, and no retries:
    /// moto never throttles, and its 500s (unsupported calls) are deterministic, so a retry only
    /// delays the failure.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "rc-testkit",
            ))
            .retry_config(RetryConfig::disabled())
            .load()
            .await
    }

    async fn post_moto_api(&self, path: &str, body: impl Into<reqwest::Body>) {
        // A client per call: a pooled connection belongs to the runtime that opened it, and a
        // shared Moto outlives each test's runtime.
        let response = reqwest::Client::new()
            .post(format!("{}/moto-api/{path}", self.endpoint()))
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /moto-api/{path}: {e}"));
        let status = response.status();
        assert!(
            status.is_success(),
            "POST /moto-api/{path} answered {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Already exited is fine; there is nothing else to do about a failed kill.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
            eprintln!(
                "---- moto log, last {} lines ----\n{}\n---- end of moto log ----",
                tail.len(),
                tail.join("\n")
            );
        }
    }
}

/// The launcher lives in the workspace's `scripts/`, next to this crate.
fn script_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/moto_server.py")
}

/// A port the kernel just handed out and released; moto binds it a moment later.
fn free_loopback_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind an ephemeral loopback port")
}
