//! Property tests of the webhook's hot path, the stable counterpart of `fuzz/` that runs in CI:
//! whatever a correctly signed body holds (arbitrary bytes, or JSON shaped like a `workflow_job`
//! with huge label arrays and long strings), [`intake`] never panics and always answers with a
//! body under 4 KB.

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use rc_github::signature::WebhookSecrets;
use rc_testkit::fixtures::{signed, WorkflowJobEvent};
use rc_webhook::{intake, Intake};

const SECRET: &str = "property-secret";

fn check(event: &'static str, body: &[u8]) -> Result<(), TestCaseError> {
    let config = rc_config::parse(include_str!("../../config/examples/dena.yaml"))
        .expect("example is valid");
    let secrets = WebhookSecrets::new([SECRET]).expect("valid secret");
    let mut headers = HeaderMap::new();
    headers.insert("x-github-event", HeaderValue::from_static(event));
    headers.insert("x-github-delivery", HeaderValue::from_static("property"));
    headers.insert(
        "x-hub-signature-256",
        HeaderValue::from_str(&signed(body, SECRET)).expect("header"),
    );
    match intake(&secrets, Some(3456996), &config, &headers, body) {
        Intake::Answer(reply) => {
            let size = reply.body.to_string().len();
            prop_assert!(size < 4096, "{size} bytes: {:?}", reply.status);
        }
        Intake::Enqueue { message, .. } => {
            prop_assert!(message.to_json().len() <= rc_webhook::SQS_MAX_MESSAGE_BYTES);
        }
    }
    Ok(())
}

/// Labels drawn to hurt: a few of up to 1 MB (NULs, escaped six-fold in JSON), or thousands of
/// short ones, sometimes with the ones that route.
fn arb_labels() -> impl Strategy<Value = Vec<String>> {
    let short = prop_oneof![
        Just("self-hosted".to_string()),
        Just("large".to_string()),
        "\\PC{0,40}",
    ];
    let long = prop_oneof![
        short.clone(),
        (0usize..(1 << 20)).prop_map(|n| "\u{0}".repeat(n)),
    ];
    prop_oneof![
        proptest::collection::vec(long, 0..8),
        proptest::collection::vec(short, 90..6_000),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic_and_get_short_answers(
        body in proptest::collection::vec(any::<u8>(), 0..4096),
        event in prop_oneof![Just("workflow_job"), Just("ping"), Just("push")],
    ) {
        check(event, &body)?;
    }

    #[test]
    fn workflow_jobs_with_absurd_fields_get_short_answers(
        labels in arb_labels(),
        owner in prop_oneof![Just("dena".to_string()), "\\PC{0,20}", (100_000usize..120_000).prop_map(|n| "o".repeat(n))],
        action in prop_oneof![Just("queued".to_string()), Just("completed".to_string()), "\\PC{0,2000}"],
        runner in proptest::option::of("\\PC{0,3000}"),
    ) {
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let body = WorkflowJobEvent::queued()
            .repository(&format!("{owner}/repo"))
            .labels(&labels)
            .set("/action", action)
            .set("/workflow_job/runner_name", runner)
            .to_bytes();
        check("workflow_job", &body)?;
    }
}
