//! Runs the `runner-controller` binary as an operator would, against moto and the fake GitHub.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rc_testkit::moto::{Moto, REGION};

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_runner-controller");

/// A file of the repository, by path from its root.
pub fn repo_file(path: &str) -> String {
    format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))
}

/// A command for the binary with the AWS SDK pointed at `moto`.
pub fn command(moto: &Moto) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_PROFILE");
    cmd
}

/// A running `serve`, killed on drop.
pub struct Serve {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    logs: mpsc::Receiver<String>,
}

impl Serve {
    /// Starts `cmd` (a `serve --listen 127.0.0.1:0 ...` command) and waits for its listen line.
    pub fn start(mut cmd: Command) -> Serve {
        let mut child = cmd
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, logs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let url = loop {
            let line = logs
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("serve did not start; its log:\n{}", seen.join("\n")));
            if let Some(addr) = serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|v| v["fields"]["listen"].as_str().map(str::to_string))
            {
                break format!("http://{addr}");
            }
            seen.push(line);
        };
        Serve { child, url, logs }
    }

    /// Log lines written so far.
    pub fn drain_logs(&self) -> Vec<String> {
        self.logs.try_iter().collect()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("serve log:\n{}", self.drain_logs().join("\n"));
        }
    }
}
