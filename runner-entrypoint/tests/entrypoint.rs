//! Runs the built `rc-runner-entrypoint` against the moto emulator, with a shell script as the
//! runner that records its process id, arguments and environment.
//!
//! A fault-injecting proxy in front of moto answers DeleteParameter with throttling or a 500, to
//! show through the real SDK that such a delete is retried, and that one that keeps failing
//! stops the runner from starting.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_ssm_lean::types::{ParameterTier, ParameterType};
use aws_sdk_ssm_lean::Client;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::response::Response;
use rc_testkit::moto::{Moto, REGION};

/// A JIT config of the size GitHub issues today (about 5.7 KB, beyond the Standard tier's
/// 4,096 characters), distinctive enough that any leak of a slice of it is found.
fn jit_config() -> String {
    let mut config = String::from("eyJ");
    let mut state: u32 = 0x5eed;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while config.len() < 5_700 {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        config.push(ALPHABET[(state >> 16) as usize % ALPHABET.len()] as char);
    }
    config
}

async fn put_config(moto: &Moto, name: &str, value: &str) -> Client {
    let client = Client::new(&moto.sdk_config().await);
    client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .tier(ParameterTier::Advanced)
        .send()
        .await
        .expect("put the JIT config parameter");
    client
}

/// Where the fake runner leaves its records.
struct Records {
    _dir: tempfile::TempDir,
    base: PathBuf,
}

impl Records {
    fn new() -> Records {
        let dir = tempfile::tempdir().expect("create a temp dir");
        let base = dir.path().join("runner");
        Records { _dir: dir, base }
    }

    fn read(&self, ext: &str) -> Option<String> {
        std::fs::read_to_string(self.base.with_extension(ext)).ok()
    }

    fn runner_started(&self) -> bool {
        self.base.with_extension("env").exists()
    }
}

/// Runs the entrypoint with a clean environment plus `vars`, pointing at `endpoint`, with the
/// fake runner as the runner command.
async fn run_entrypoint(endpoint: &str, vars: &[(&str, &str)], records: &Records) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rc-runner-entrypoint"));
    command
        .args(["/bin/sh", "-c"])
        .arg(r#"echo $$ > "$0.pid"; printf '%s\n' "$@" > "$0.args"; env > "$0.env""#)
        .arg(&records.base)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .envs(vars.iter().copied());
    tokio::task::spawn_blocking(move || {
        let child = command.spawn().expect("spawn rc-runner-entrypoint");
        let pid = child.id();
        let output = child
            .wait_with_output()
            .expect("wait for rc-runner-entrypoint");
        (pid, output)
    })
    .await
    .map(|(pid, output)| {
        if let Some(runner_pid) = records.read("pid") {
            assert_eq!(
                runner_pid.trim(),
                pid.to_string(),
                "the runner replaces the entrypoint's process (exec), it is not a child"
            );
        }
        output
    })
    .expect("the entrypoint's waiter does not panic")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// No 16-character slice of the config appears in `printed`.
fn assert_no_secret(printed: &str, config: &str) {
    let chars: Vec<char> = config.chars().collect();
    for window in chars.windows(16).step_by(8) {
        let slice: String = window.iter().collect();
        assert!(
            !printed.contains(&slice),
            "output leaks the config: {printed}"
        );
    }
}

async fn assert_deleted(client: &Client, name: &str) {
    let error = client
        .get_parameter()
        .name(name)
        .send()
        .await
        .expect_err("the parameter is gone");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_parameter_not_found()),
        "expected ParameterNotFound, got {error:?}"
    );
}

#[tokio::test]
async fn takes_the_config_deletes_it_and_execs_the_runner_without_credentials() {
    let moto = Moto::shared();
    let name = "/rc-test/jit/takes-deletes-execs";
    let config = jit_config();
    let client = put_config(moto, name, &config).await;
    let records = Records::new();

    let output = run_entrypoint(
        &moto.endpoint(),
        &[
            ("RC_JIT_CONFIG_PARAM", name),
            (
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/3f1c",
            ),
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://169.254.170.23/v1/credentials",
            ),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "token"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/token"),
            ("AWS_SESSION_TOKEN", "session"),
            ("RUNNER_MANUALLY_TRAP_SIG", "1"),
        ],
        &records,
    )
    .await;

    assert!(output.status.success(), "{}", text(&output));
    let env = records.read("env").expect("the runner started");
    assert!(
        env.lines()
            .any(|line| line == format!("ACTIONS_RUNNER_INPUT_JITCONFIG={config}")),
        "the runner gets the whole config in its input variable"
    );
    for scrubbed in [
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN=",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=",
        "AWS_ACCESS_KEY_ID=",
        "AWS_SECRET_ACCESS_KEY=",
        "AWS_SESSION_TOKEN=",
        "RC_JIT_CONFIG_PARAM=",
    ] {
        assert!(
            !env.lines().any(|line| line.starts_with(scrubbed)),
            "{scrubbed} reached the runner"
        );
    }
    assert!(env.lines().any(|line| line == "RUNNER_MANUALLY_TRAP_SIG=1"));
    assert_eq!(
        records.read("args").as_deref(),
        Some("\n"),
        "no arguments added: the config is not on the command line"
    );
    assert_deleted(&client, name).await;
    let printed = text(&output);
    assert!(
        printed.contains(name),
        "the log names the parameter: {printed}"
    );
    assert_no_secret(&printed, &config);
}

#[tokio::test]
async fn a_missing_parameter_exits_non_zero_without_starting_the_runner() {
    let moto = Moto::shared();
    let name = "/rc-test/jit/never-written";
    let records = Records::new();

    let output = run_entrypoint(&moto.endpoint(), &[("RC_JIT_CONFIG_PARAM", name)], &records).await;

    assert!(!output.status.success());
    assert!(!records.runner_started());
    let printed = text(&output);
    assert!(
        printed.contains(name) && printed.contains("does not exist"),
        "{printed}"
    );
}

#[tokio::test]
async fn an_unset_parameter_name_exits_non_zero_with_a_clear_message() {
    let records = Records::new();
    // Nothing listens here: the entrypoint must fail before any call.
    let output = run_entrypoint("http://127.0.0.1:9", &[], &records).await;

    assert!(!output.status.success());
    assert!(!records.runner_started());
    let printed = text(&output);
    assert!(
        printed.contains("RC_JIT_CONFIG_PARAM is not set"),
        "{printed}"
    );
}

/// A fault the proxy answers DeleteParameter with: status and error code.
type Fault = (u16, &'static str);

/// What the proxy does: where moto is, which fault to answer the first `failing` deletes with,
/// and how many deletes it has seen.
#[derive(Clone)]
struct Faults {
    moto: String,
    fault: Fault,
    failing: usize,
    deletes: Arc<AtomicUsize>,
}

/// Forwards to moto, except that the first `failing` DeleteParameter calls get the fault.
async fn proxy(State(faults): State<Faults>, request: Request) -> Response {
    let is_delete = request
        .headers()
        .get("x-amz-target")
        .is_some_and(|v| v == "AmazonSSM.DeleteParameter");
    if is_delete && faults.deletes.fetch_add(1, Ordering::SeqCst) < faults.failing {
        let (status, code) = faults.fault;
        return Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.1")
            .body(Body::from(format!(
                r#"{{"__type":"{code}","message":"injected"}}"#
            )))
            .expect("a valid response");
    }
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX).await.expect("read the request");
    let answer = reqwest::Client::new()
        .request(parts.method, format!("{}{}", faults.moto, parts.uri))
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .expect("moto answers");
    let mut response = Response::builder().status(answer.status());
    for (key, value) in answer.headers() {
        response = response.header(key, value);
    }
    response
        .body(Body::from(
            answer.bytes().await.expect("read moto's answer"),
        ))
        .expect("a valid response")
}

/// Starts the proxy; returns its endpoint and its count of DeleteParameter calls.
async fn start_proxy(moto: &Moto, fault: Fault, failing: usize) -> (String, Arc<AtomicUsize>) {
    let deletes = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the proxy");
    let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
    let app = axum::Router::new().fallback(proxy).with_state(Faults {
        moto: moto.endpoint(),
        fault,
        failing,
        deletes: deletes.clone(),
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, deletes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_delete_is_retried_and_the_runner_starts() {
    let moto = Moto::shared();
    let name = "/rc-test/jit/throttled";
    let client = put_config(moto, name, &jit_config()).await;
    let (endpoint, deletes) = start_proxy(moto, (400, "ThrottlingException"), 2).await;
    let records = Records::new();

    let output = run_entrypoint(&endpoint, &[("RC_JIT_CONFIG_PARAM", name)], &records).await;

    assert!(output.status.success(), "{}", text(&output));
    assert!(records.runner_started());
    assert_eq!(
        deletes.load(Ordering::SeqCst),
        3,
        "two throttled, the third deletes"
    );
    assert_deleted(&client, name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_that_keeps_failing_is_retried_then_stops_the_runner() {
    let moto = Moto::shared();
    let name = "/rc-test/jit/undeletable";
    let config = jit_config();
    let client = put_config(moto, name, &config).await;
    let (endpoint, deletes) = start_proxy(moto, (500, "InternalServerError"), usize::MAX).await;
    let records = Records::new();

    let output = run_entrypoint(&endpoint, &[("RC_JIT_CONFIG_PARAM", name)], &records).await;

    assert!(!output.status.success());
    assert!(
        !records.runner_started(),
        "a config left readable must not be used"
    );
    // Backoff::SSM's six attempts, all of them made.
    assert_eq!(deletes.load(Ordering::SeqCst), 6);
    let printed = text(&output);
    assert!(
        printed.contains(&format!("could not delete SSM parameter {name}")),
        "{printed}"
    );
    assert_no_secret(&printed, &config);
    client
        .get_parameter()
        .name(name)
        .send()
        .await
        .expect("the delete really failed: the parameter is still there");
}
