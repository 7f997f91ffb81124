//! A fake contest portal: accepts benchmark result callbacks, checks each one's
//! `X-RC-Signature-256` against the shared secret, and records them.
//!
//! Serves on a free loopback port from its own thread and runtime (any test can use it), and
//! answers 503 to the first few posts when asked, to exercise retries.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// One post the portal received.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// The body, parsed.
    pub body: serde_json::Value,
    /// The raw body.
    pub raw: Vec<u8>,
    /// Whether its signature verified under the portal's secret.
    pub signed_ok: bool,
}

#[derive(Default)]
struct Shared {
    posts: Vec<Post>,
    fail_first: u32,
}

/// A running fake portal; stops with the test process.
pub struct FakePortal {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl FakePortal {
    /// Starts a portal that verifies with `secret` and answers 503 to the first `fail_first`
    /// posts.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub fn start(secret: &str, fail_first: u32) -> FakePortal {
        let shared = Arc::new(Mutex::new(Shared {
            posts: Vec::new(),
            fail_first,
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let state = (shared.clone(), secret.as_bytes().to_vec());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake portal");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let app = axum::Router::new().fallback(receive).with_state(state);
                axum::serve(listener, app)
                    .await
                    .expect("fake portal serves");
            });
        });
        FakePortal { addr, shared }
    }

    /// The callback URL.
    pub fn url(&self) -> String {
        format!("http://{}/results", self.addr)
    }

    /// Every post so far.
    pub fn posts(&self) -> Vec<Post> {
        self.shared.lock().expect("not poisoned").posts.clone()
    }
}

async fn receive(
    State((shared, secret)): State<(Arc<Mutex<Shared>>, Vec<u8>)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signed_ok = headers
        .get("x-rc-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
        .and_then(|hex| hex::decode(hex).ok())
        .is_some_and(|sig| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&secret).expect("any key length");
            mac.update(&body);
            mac.verify_slice(&sig).is_ok()
        });
    let mut shared = shared.lock().expect("not poisoned");
    shared.posts.push(Post {
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        raw: body.to_vec(),
        signed_ok,
    });
    if shared.fail_first > 0 {
        shared.fail_first -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if signed_ok {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}
