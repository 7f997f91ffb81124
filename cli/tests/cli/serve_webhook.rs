//! `serve` backed by moto: a signed `queued` webhook leaves exactly one message naming the right
//! class, and every refused delivery leaves the queue unchanged.

use super::support::{command, repo_file, Serve};
use rc_core::message::JobMessage;
use rc_testkit::fixtures::{load, signed, WorkflowJobEvent};
use rc_testkit::moto::Moto;

const SECRET: &str = "serve-test-secret";

async fn post(
    client: &reqwest::Client,
    url: &str,
    event: &str,
    body: Vec<u8>,
    secret: &str,
) -> reqwest::StatusCode {
    client
        .post(format!("{url}/github/webhook"))
        .header("x-github-event", event)
        .header("x-github-delivery", "9f1c55e0-0000-4000-8000-000000000001")
        .header("x-hub-signature-256", signed(&body, secret))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("serve answers")
        .status()
}

/// Announces a body one byte over the limit and sends none of it: the answer must come from the
/// headers alone, proving the body is not read into memory first.
async fn oversized_status(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /github/webhook HTTP/1.1\r\nhost: {addr}\r\nx-github-event: workflow_job\r\ncontent-length: {}\r\n\r\n",
        rc_webhook::MAX_BODY_BYTES + 1
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    let mut answer = vec![0; 64];
    let n = stream.read(&mut answer).await.expect("read answer");
    String::from_utf8_lossy(&answer[..n])
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// Sends the headers and a tenth of the body, then nothing more: `serve` must give up on the body
/// and answer rather than hold the request open.
async fn dribbled_status(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /github/webhook HTTP/1.1\r\nhost: {addr}\r\nx-github-event: workflow_job\r\ncontent-length: 1000\r\n\r\n{}",
        "{".repeat(100)
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    let mut answer = vec![0; 64];
    let n = stream.read(&mut answer).await.expect("read answer");
    String::from_utf8_lossy(&answer[..n])
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn serve_queues_one_message_per_routed_job_and_nothing_for_refusals() {
    let moto = Moto::start();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue_url = sqs
        .create_queue()
        .queue_name("jobs")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("url");

    let mut cmd = command(&moto);
    cmd.args([
        "serve",
        "--config",
        &repo_file("config/examples/dena.yaml"),
        "--listen",
        "127.0.0.1:0",
        "--only",
        "webhook",
        "--body-timeout",
        "2s",
    ])
    .env("RC_JOBS_QUEUE_URL", &queue_url)
    .env("RC_WEBHOOK_SECRET", SECRET);
    let serve = Serve::start(cmd);
    let client = reqwest::Client::new();

    let health = client
        .get(format!("{}/healthz", serve.url))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);

    let queued = WorkflowJobEvent::queued()
        .repository("dena/platform")
        .labels(&["self-hosted", "linux", "large"])
        .to_bytes();
    assert_eq!(
        post(&client, &serve.url, "workflow_job", queued.clone(), SECRET).await,
        200
    );

    assert_eq!(
        post(&client, &serve.url, "workflow_job", queued, "wrong-secret").await,
        401
    );
    assert_eq!(oversized_status(&serve.url).await, "413");
    assert_eq!(dribbled_status(&serve.url).await, "408");
    assert_eq!(
        post(
            &client,
            &serve.url,
            "workflow_job",
            b"{not json".to_vec(),
            SECRET
        )
        .await,
        400
    );
    assert_eq!(
        post(&client, &serve.url, "ping", load("ping.json"), SECRET).await,
        200
    );
    let unmatched = WorkflowJobEvent::queued()
        .repository("dena/platform")
        .labels(&["self-hosted", "windows"])
        .to_bytes();
    assert_eq!(
        post(&client, &serve.url, "workflow_job", unmatched, SECRET).await,
        202
    );

    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive")
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1, "exactly one message: {received:?}");
    let message = JobMessage::from_json(received[0].body().expect("body")).expect("job message");
    assert_eq!(message.job().expect("a job message").class, "large-amd64");
}
