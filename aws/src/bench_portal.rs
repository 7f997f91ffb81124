//! The contest portal's result callback over HTTPS ([`rc_bench::Portal`]).

use std::time::Duration;

use rc_bench::{PortError, Portal};
use rc_core::bench::portal::SIGNATURE_HEADER;

/// One attempt's limit; the agent retries with backoff.
const TIMEOUT: Duration = Duration::from_secs(10);

/// [`Portal`] posting to a URL.
#[derive(Clone, Debug)]
pub struct HttpPortal {
    client: reqwest::Client,
    url: String,
}

impl HttpPortal {
    /// A portal at `url`.
    ///
    /// # Panics
    ///
    /// If the TLS backend cannot be initialised.
    pub fn new(url: impl Into<String>) -> Self {
        HttpPortal {
            client: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .build()
                .expect("the HTTP client builds"),
            url: url.into(),
        }
    }
}

impl Portal for HttpPortal {
    async fn post(&self, body: &[u8], signature: &str) -> Result<(), PortError> {
        let answer = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| PortError::transient("portal:post", e.to_string()))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(PortError::transient(
                "portal:post",
                format!("portal answered {status}"),
            ))
        } else {
            Err(PortError::rejected(
                "portal:post",
                format!("portal answered {status}"),
            ))
        }
    }
}
