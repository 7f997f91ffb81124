//! The benchmarker as a child process group under a hard deadline (feature `process`).
//!
//! The benchmarker runs in its own process group, so the deadline reaches every process it
//! started: SIGTERM to the group at the deadline, SIGKILL to the group `kill_grace` later. When
//! the benchmarker exits on its own, whatever it left behind in its group is killed too: nothing
//! of a run outlives it. Each stream keeps only its last [`TAIL_BYTES`], so a benchmarker that
//! prints gigabytes costs 8 KB. Secrets the agent holds are removed from the child's
//! environment.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use rc_core::bench::outcome::{Exit, RunReport};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::ports::{Benchmarker, RunSpec};

/// Bytes kept of each stream (the contract's "last 4 KB").
pub const TAIL_BYTES: usize = 4096;

/// How long the streams may stay open after the benchmarker ended (a grandchild holding them
/// is killed with the group first, so this only covers the pipes draining).
const DRAIN: Duration = Duration::from_secs(2);

/// Variables the agent may hold that a benchmarker must not see.
const SECRET_VARS: &[&str] = &[
    "RC_PORTAL_SECRET",
    "RC_BENCH_OPS_TOKEN",
    "RC_WEBHOOK_SECRET",
];

/// Runs benchmarkers as local child processes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildBenchmarker;

impl Benchmarker for ChildBenchmarker {
    async fn run(&self, spec: &RunSpec) -> RunReport {
        run(spec).await
    }
}

/// Runs `spec` to its end; see the [module docs](self).
pub async fn run(spec: &RunSpec) -> RunReport {
    let Some((program, args)) = spec.argv.split_first() else {
        return spawn_failed("the command is empty".into());
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for var in SECRET_VARS {
        command.env_remove(var);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return spawn_failed(format!("{program}: {e}")),
    };
    let group = child.id().and_then(|pid| i32::try_from(pid).ok());
    let stdout = tokio::spawn(tail(child.stdout.take()));
    let stderr = tokio::spawn(tail(child.stderr.take()));
    let status = match tokio::time::timeout(spec.deadline, child.wait()).await {
        Ok(status) => {
            // Anything the benchmarker left running in its group ends with it.
            signal_group(group, libc::SIGKILL);
            status.map_err(|e| e.to_string()).map(Some)
        }
        Err(_) => {
            signal_group(group, libc::SIGTERM);
            if tokio::time::timeout(spec.kill_grace, child.wait())
                .await
                .is_err()
            {
                tracing::warn!("the benchmarker ignored SIGTERM; killing its process group");
            }
            signal_group(group, libc::SIGKILL);
            let _ = child.wait().await;
            Ok(None)
        }
    };
    let stdout_tail = collect(stdout).await;
    let stderr_tail = collect(stderr).await;
    let exit = match status {
        Ok(None) => Exit::TimedOut,
        Ok(Some(status)) => match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            (None, None) => Exit::Code(-1),
        },
        Err(e) => Exit::SpawnFailed(format!("waiting for the benchmarker: {e}")),
    };
    RunReport {
        exit,
        stdout_tail,
        stderr_tail,
    }
}

fn spawn_failed(reason: String) -> RunReport {
    RunReport {
        exit: Exit::SpawnFailed(reason),
        stdout_tail: String::new(),
        stderr_tail: String::new(),
    }
}

/// Signals every process of the group led by `group`; a group already gone is fine.
fn signal_group(group: Option<i32>, signal: i32) {
    if let Some(group) = group.filter(|g| *g > 1) {
        // SAFETY: killpg has no memory-safety preconditions; ESRCH (no such group) is expected
        // once the group has exited and is ignored.
        unsafe {
            libc::killpg(group, signal);
        }
    }
}

async fn collect(mut reader: tokio::task::JoinHandle<Vec<u8>>) -> String {
    let bytes = match tokio::time::timeout(DRAIN, &mut reader).await {
        Ok(Ok(bytes)) => bytes,
        _ => {
            // A process that left the group still holds the pipe: stop reading it.
            reader.abort();
            Vec::new()
        }
    };
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads a stream to its end, keeping the last [`TAIL_BYTES`]. The cut is moved forward to a
/// line start when one is near, so the first kept line is whole.
async fn tail<R: AsyncRead + Unpin>(reader: Option<R>) -> Vec<u8> {
    let Some(mut reader) = reader else {
        return Vec::new();
    };
    let mut kept: Vec<u8> = Vec::with_capacity(2 * TAIL_BYTES);
    let mut chunk = vec![0u8; 8192];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(&chunk[..n]);
                if kept.len() > 2 * TAIL_BYTES {
                    kept.drain(..kept.len() - TAIL_BYTES);
                }
            }
        }
    }
    if kept.len() > TAIL_BYTES {
        kept.drain(..kept.len() - TAIL_BYTES);
        if let Some(newline) = kept.iter().take(1024).position(|b| *b == b'\n') {
            kept.drain(..=newline);
        }
    }
    kept
}
