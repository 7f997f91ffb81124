//! The webhook's hot path on a real ~12 KB `workflow_job` payload: verify the signature, parse,
//! route and build the queue message (everything but the SQS call).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http::{HeaderMap, HeaderValue};
use rc_github::signature::WebhookSecrets;
use rc_testkit::fixtures::{signed, WorkflowJobEvent};
use rc_webhook::{intake, Intake};

fn hot_path(c: &mut Criterion) {
    let config = rc_config::parse(include_str!("../../config/examples/dena.yaml"))
        .expect("example is valid");
    let body = WorkflowJobEvent::from_fixture("workflow_job.queued.large.json")
        .labels(&["self-hosted", "linux", "arm64", "xlarge"])
        .repository("dena/platform")
        .to_bytes();
    let secrets = WebhookSecrets::new(["bench-secret", "previous-secret"]).expect("valid");
    let mut headers = HeaderMap::new();
    headers.insert("x-github-event", HeaderValue::from_static("workflow_job"));
    headers.insert(
        "x-github-delivery",
        HeaderValue::from_static("2c5d1a70-0000-11ef-8000-000000000000"),
    );
    headers.insert(
        "x-hub-signature-256",
        HeaderValue::from_str(&signed(&body, "bench-secret")).expect("header"),
    );
    assert!(matches!(
        intake(&secrets, None, &config, &headers, &body),
        Intake::Enqueue { .. }
    ));

    let mut group = c.benchmark_group("webhook");
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("intake_{}_bytes", body.len()), |b| {
        b.iter(|| {
            intake(
                &secrets,
                None,
                &config,
                &headers,
                std::hint::black_box(&body),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
