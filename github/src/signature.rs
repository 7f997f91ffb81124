//! `X-Hub-Signature-256` verification.
//!
//! GitHub signs the raw request body with HMAC-SHA256 and sends `sha256=<hex>`. We verify the
//! exact bytes received (re-serialised JSON would not match) with a constant-time comparison, and
//! accept any of up to two secrets so a secret can be rotated without dropping deliveries.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a signature was refused. Each maps to HTTP 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header.
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    /// The header is not `sha256=` followed by 64 hex digits.
    #[error("X-Hub-Signature-256 is not of the form sha256=<hex>")]
    Malformed,
    /// No configured secret produces this signature.
    #[error("signature does not match")]
    Mismatch,
}

/// The webhook secrets in force: the current one and, during rotation, the previous one.
#[derive(Clone)]
pub struct WebhookSecrets(Vec<Vec<u8>>);

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets({} redacted)", self.0.len())
    }
}

/// Why a set of secrets is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// No secret, or an empty one.
    #[error("a webhook secret must not be empty")]
    Empty,
    /// More than two secrets.
    #[error("at most two webhook secrets (current and previous) may be configured, got {0}")]
    TooMany(usize),
}

impl WebhookSecrets {
    /// One or two non-empty secrets.
    ///
    /// # Errors
    ///
    /// [`SecretsError::Empty`] for no or an empty secret, [`SecretsError::TooMany`] beyond two.
    pub fn new<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Result<Self, SecretsError> {
        let secrets: Vec<Vec<u8>> = secrets.into_iter().map(|s| s.as_ref().to_vec()).collect();
        if secrets.is_empty() || secrets.iter().any(Vec::is_empty) {
            return Err(SecretsError::Empty);
        }
        if secrets.len() > 2 {
            return Err(SecretsError::TooMany(secrets.len()));
        }
        Ok(WebhookSecrets(secrets))
    }

    /// Secrets from a comma-separated list, as the environment carries them.
    ///
    /// # Errors
    ///
    /// As [`WebhookSecrets::new`].
    pub fn from_comma_list(list: &str) -> Result<Self, SecretsError> {
        Self::new(list.split(',').map(str::trim))
    }

    /// Checks `header` against `body` with every secret.
    ///
    /// # Errors
    ///
    /// Why the request is not from GitHub (or not from the GitHub we share a secret with).
    pub fn verify(&self, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let hex_digest = header
            .strip_prefix("sha256=")
            .ok_or(SignatureError::Malformed)?;
        let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
        if expected.len() != 32 {
            return Err(SignatureError::Malformed);
        }
        // Every secret is tried even after a match would be found, so timing does not tell an
        // attacker which secret (if any) was close.
        let mut matched = false;
        for secret in &self.0 {
            let mut mac =
                HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
            mac.update(body);
            matched |= mac.verify_slice(&expected).is_ok();
        }
        if matched {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// The `X-Hub-Signature-256` value for `body` under `secret` (for tests and tools).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_githubs_documented_example() {
        // From GitHub's "Validating webhook deliveries" docs.
        let secrets = WebhookSecrets::new(["It's a Secret to Everybody"]).expect("valid");
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(secrets.verify(b"Hello, World!", Some(header)), Ok(()));
        assert_eq!(
            sign(b"It's a Secret to Everybody", b"Hello, World!"),
            header
        );
    }

    #[test]
    fn rotation_accepts_either_secret() {
        let secrets = WebhookSecrets::from_comma_list("new, old").expect("valid");
        assert_eq!(secrets.verify(b"x", Some(&sign(b"old", b"x"))), Ok(()));
        assert_eq!(secrets.verify(b"x", Some(&sign(b"new", b"x"))), Ok(()));
        assert_eq!(
            secrets.verify(b"x", Some(&sign(b"other", b"x"))),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_missing_and_malformed() {
        let secrets = WebhookSecrets::new(["s"]).expect("valid");
        assert_eq!(secrets.verify(b"x", None), Err(SignatureError::Missing));
        assert_eq!(
            secrets.verify(b"x", Some("sha1=abcd")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            secrets.verify(b"x", Some("sha256=zz")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            secrets.verify(b"x", Some("sha256=abcd")),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn rejects_bad_secret_sets() {
        assert_eq!(
            WebhookSecrets::new(Vec::<&str>::new()).err(),
            Some(SecretsError::Empty)
        );
        assert_eq!(
            WebhookSecrets::from_comma_list("a,").err(),
            Some(SecretsError::Empty)
        );
        assert_eq!(
            WebhookSecrets::from_comma_list("a,b,c").err(),
            Some(SecretsError::TooMany(3))
        );
    }
}
