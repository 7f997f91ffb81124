//! The portal callback: the result's JSON body and its `X-RC-Signature-256` signature.
//!
//! The body is built once per result and the same bytes are signed and sent on every retry,
//! so the portal can deduplicate by `id` and verify each attempt alike. The signature is
//! `sha256=<hex HMAC-SHA256(body, RC_PORTAL_SECRET)>`, the scheme GitHub uses for webhooks, so
//! portals can reuse their verification code.

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::bench::{BenchJob, BenchJobId, JobStatus};

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "X-RC-Signature-256";

type HmacSha256 = Hmac<Sha256>;

/// The callback's body, field for field the contract's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortalResult<'a> {
    /// Job id.
    pub id: &'a BenchJobId,
    /// Team id.
    pub team: &'a str,
    /// Final status.
    pub status: JobStatus,
    /// Score, if any.
    pub score: Option<f64>,
    /// Whether it passed.
    pub passed: bool,
    /// Why it ended so.
    pub reason: Option<&'a str>,
    /// When it ended (RFC 3339).
    pub finished_at: String,
}

/// The body for a finished job; `None` while the job is not over.
pub fn body(job: &BenchJob) -> Option<Vec<u8>> {
    if !job.status.is_terminal() {
        return None;
    }
    let result = PortalResult {
        id: &job.id,
        team: &job.team,
        status: job.status,
        score: job.score,
        passed: job.passed.unwrap_or(false),
        reason: job.reason.as_deref(),
        finished_at: job.finished_at.unwrap_or(job.queued_at).to_string(),
    };
    Some(serde_json::to_vec(&result).expect("a result always serializes"))
}

/// The header value for `body` under `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!(
        "sha256={}",
        crate::bench::to_hex(&mac.finalize().into_bytes())
    )
}

/// Whether `header` is `body`'s signature under `secret` (constant-time); what a portal runs.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Some(bytes) = from_hex(hex) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&bytes).is_ok()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() & 1 == 1 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::outcome::Outcome;
    use crate::Timestamp;
    use proptest::prelude::*;

    fn finished() -> BenchJob {
        let job = BenchJob::pending(
            BenchJobId::new(Timestamp(1_000), 3),
            "team-01",
            "192.0.2.10",
            Timestamp(1_000),
        );
        job.start(Timestamp(2_000))
            .expect("starts")
            .finish(
                &Outcome {
                    status: JobStatus::Passed,
                    score: Some(4321.0),
                    passed: true,
                    reason: None,
                },
                Timestamp(3_000),
            )
            .expect("ends")
    }

    #[test]
    fn the_body_has_the_contracts_fields() {
        let body = body(&finished()).expect("finished");
        let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let keys: Vec<&str> = value
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 7);
        for key in [
            "id",
            "team",
            "status",
            "score",
            "passed",
            "reason",
            "finished_at",
        ] {
            assert!(keys.contains(&key), "{key}");
        }
        assert_eq!(value["status"], "passed");
        assert_eq!(value["finished_at"], "1970-01-01T00:00:03.000Z");
    }

    #[test]
    fn unfinished_jobs_have_no_body() {
        let job = BenchJob::pending(BenchJobId::new(Timestamp(1), 1), "t", "h", Timestamp(1));
        assert_eq!(body(&job), None);
    }

    #[test]
    fn a_known_signature() {
        // printf %s 'hello' | openssl dgst -sha256 -hmac key
        assert_eq!(
            sign(b"key", b"hello"),
            "sha256=9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b"
        );
    }

    proptest! {
        #[test]
        fn signatures_verify_only_for_the_same_body_and_secret(secret in proptest::collection::vec(any::<u8>(), 1..64), body in proptest::collection::vec(any::<u8>(), 0..256), flip in 0usize..256) {
            let header = sign(&secret, &body);
            prop_assert!(verify(&secret, &body, &header));
            let mut other = body.clone();
            if other.is_empty() { other.push(0) } else { let i = flip % other.len(); other[i] ^= 1; }
            prop_assert!(!verify(&secret, &other, &header));
            prop_assert!(!verify(b"another secret", &body, &header) || secret == b"another secret");
        }
    }
}
