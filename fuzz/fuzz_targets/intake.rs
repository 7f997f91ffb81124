//! The webhook's hot path over arbitrary bodies. The signature is computed here, so every input
//! gets past the HMAC check and reaches the parser, the scope check and routing; the event name
//! comes from the first byte, so `ping`, other events and `workflow_job` are all exercised.
//! Nothing may panic, and every answer stays under 4 KB.
#![no_main]

use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use rc_github::signature::WebhookSecrets;
use rc_webhook::{intake, Intake};
use sha2::Sha256;
use std::sync::LazyLock;

const SECRET: &str = "fuzz-secret";

static CONFIG: LazyLock<rc_config::Config> = LazyLock::new(|| {
    rc_config::parse(include_str!("../../config/examples/dena.yaml")).expect("example is valid")
});
static SECRETS: LazyLock<WebhookSecrets> =
    LazyLock::new(|| WebhookSecrets::new([SECRET]).expect("valid secret"));

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let event = ["workflow_job", "ping", "push"][usize::from(selector) % 3];
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let mut headers = HeaderMap::new();
    headers.insert("x-github-event", HeaderValue::from_static(event));
    headers.insert("x-github-delivery", HeaderValue::from_static("fuzz"));
    headers.insert(
        "x-hub-signature-256",
        HeaderValue::from_str(&signature).expect("hex is a valid header"),
    );
    if let Intake::Answer(reply) = intake(&SECRETS, Some(1), &CONFIG, &headers, body) {
        assert!(reply.body.to_string().len() < 4096);
    }
});
