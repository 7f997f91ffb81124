//! Real GitHub webhook payloads and the signature GitHub puts on them.
//!
//! The files live in this crate's `fixtures/` directory (their origin and license are in its
//! README). Tests start from a real payload and change only what the test is about, with
//! [`WorkflowJobEvent`]:
//!
//! ```no_run
//! use rc_testkit::fixtures::{signed, WorkflowJobEvent};
//!
//! let body = WorkflowJobEvent::queued()
//!     .labels(&["self-hosted", "large"])
//!     .job_id(42)
//!     .to_bytes();
//! let signature = signed(&body, "webhook-secret"); // the X-Hub-Signature-256 header value
//! ```

use std::path::PathBuf;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The bytes of `fixtures/<name>`, e.g. `load("workflow_job.queued.json")`.
///
/// Available: `workflow_job.{queued,in_progress,completed,waiting}.json`, `ping.json` and
/// `workflow_job.queued.large.json` (about 12 KB, minified, for benchmarks).
///
/// # Panics
///
/// If there is no such fixture.
pub fn load(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The `X-Hub-Signature-256` header value GitHub sends with `body`: `sha256=` and the lowercase
/// hex HMAC-SHA256 of the raw body under the webhook secret.
pub fn signed(body: &[u8], secret: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A `workflow_job` payload being rewritten for one test; build it by chaining.
#[derive(Debug, Clone)]
pub struct WorkflowJobEvent {
    payload: Value,
}

impl WorkflowJobEvent {
    /// The real `queued` example (labels `[ubuntu-latest]`).
    pub fn queued() -> Self {
        Self::from_fixture("workflow_job.queued.json")
    }

    /// The real `in_progress` example, with a runner assigned.
    pub fn in_progress() -> Self {
        Self::from_fixture("workflow_job.in_progress.json")
    }

    /// The real `completed` example (conclusion `success`).
    pub fn completed() -> Self {
        Self::from_fixture("workflow_job.completed.json")
    }

    /// Any `workflow_job` fixture, e.g. `workflow_job.queued.large.json`.
    ///
    /// # Panics
    ///
    /// If the fixture is missing or not JSON.
    pub fn from_fixture(name: &str) -> Self {
        let payload = serde_json::from_slice(&load(name))
            .unwrap_or_else(|e| panic!("fixture {name} is not JSON: {e}"));
        WorkflowJobEvent { payload }
    }

    /// Sets `action` and keeps `workflow_job.status` (and `conclusion`) consistent with it, as
    /// GitHub does: the action names the status the job just reached.
    pub fn action(self, action: &str) -> Self {
        let conclusion = if action == "completed" {
            Value::from("success")
        } else {
            Value::Null
        };
        self.set("/action", action)
            .set("/workflow_job/status", action)
            .set("/workflow_job/conclusion", conclusion)
    }

    /// Sets `workflow_job.labels` (the job's `runs-on`).
    pub fn labels(self, labels: &[&str]) -> Self {
        self.set("/workflow_job/labels", labels)
    }

    /// Sets `workflow_job.id`.
    pub fn job_id(self, id: u64) -> Self {
        self.set("/workflow_job/id", id)
    }

    /// Sets `workflow_job.run_id`.
    pub fn run_id(self, id: u64) -> Self {
        self.set("/workflow_job/run_id", id)
    }

    /// Moves the job to repository `owner/name` (`repository.full_name`, `.name`,
    /// `.owner.login`).
    ///
    /// # Panics
    ///
    /// If `full_name` has no `/`.
    pub fn repository(self, full_name: &str) -> Self {
        let (owner, name) = full_name
            .split_once('/')
            .unwrap_or_else(|| panic!("repository {full_name:?} is not owner/name"));
        self.set("/repository/full_name", full_name)
            .set("/repository/name", name)
            .set("/repository/owner/login", owner)
    }

    /// Sets the value at a JSON pointer (RFC 6901), e.g. `("/installation/id", 7)`; for fields the
    /// other methods do not cover.
    ///
    /// # Panics
    ///
    /// If the pointer's parent does not exist in the payload.
    pub fn set(mut self, pointer: &str, value: impl Into<Value>) -> Self {
        let (parent, key) = pointer
            .rsplit_once('/')
            .unwrap_or_else(|| panic!("{pointer:?} is not a JSON pointer"));
        let target = self
            .payload
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("no object at {parent:?} in the payload"));
        target.insert(key.to_owned(), value.into());
        self
    }

    /// The payload as JSON.
    pub fn json(&self) -> &Value {
        &self.payload
    }

    /// The payload as GitHub sends it: minified JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.payload).expect("a JSON value always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_githubs_documented_example() {
        // The test vector from GitHub's "Validating webhook deliveries" page.
        assert_eq!(
            signed(b"Hello, World!", "It's a Secret to Everybody"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn rewrites_only_what_is_asked() {
        let original = WorkflowJobEvent::queued();
        let event = original
            .clone()
            .action("completed")
            .labels(&["self-hosted", "large"])
            .job_id(7)
            .repository("acme/widgets");
        let job = &event.json()["workflow_job"];
        assert_eq!(event.json()["action"], "completed");
        assert_eq!(job["status"], "completed");
        assert_eq!(job["conclusion"], "success");
        assert_eq!(job["labels"], serde_json::json!(["self-hosted", "large"]));
        assert_eq!(job["id"], 7);
        assert_eq!(event.json()["repository"]["owner"]["login"], "acme");
        assert_eq!(job["run_id"], original.json()["workflow_job"]["run_id"]);
        assert_eq!(event.json()["sender"], original.json()["sender"]);
    }

    #[test]
    fn every_fixture_is_json_and_the_large_one_is_about_12_kb() {
        for name in [
            "workflow_job.queued.json",
            "workflow_job.in_progress.json",
            "workflow_job.completed.json",
            "workflow_job.waiting.json",
            "workflow_job.queued.large.json",
            "ping.json",
        ] {
            serde_json::from_slice::<Value>(&load(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let large = load("workflow_job.queued.large.json").len();
        assert!((11_000..13_000).contains(&large), "{large} bytes");
    }
}
