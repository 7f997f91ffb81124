//! The benchmark routes (`/benchmarks...`) on the webhook's HTTP surface: environment → ports,
//! HTTP request → [`rc_bench::intake::Intake`], its answer → a [`Reply`].
//!
//! The caller's address is the Function URL's `requestContext.http.sourceIp` or the socket
//! peer in `serve`; a proxy header replaces it only when `benchmarks.trusted_proxy_header`
//! names one (a header anyone can send proves nothing otherwise).

use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;

use http::{HeaderMap, StatusCode};
use rc_aws::config_source::NoConfig;
use rc_aws::ssm::Parameters;
use rc_aws::{DynamoBenchStore, SqsBenchQueue, WallClock};
use rc_bench::intake::{Body, Intake, Request};
use rc_bench::{Clock, PoolWaker};
use rc_config::Config;
use rc_core::bench::auth::token_digest;
use rc_core::bench::intake::forwarded_address;

use crate::{Reply, SetupError};

/// Where benchmark state lives, from the environment.
pub struct BenchPorts {
    store: DynamoBenchStore,
    queue: SqsBenchQueue,
    ops_digest: Option<[u8; 32]>,
}

impl BenchPorts {
    /// Ports over `store` and `queue`; `ops_token` unlocks the list and the board.
    pub fn new(store: DynamoBenchStore, queue: SqsBenchQueue, ops_token: Option<&str>) -> Self {
        BenchPorts {
            store,
            queue,
            ops_digest: ops_token.filter(|t| !t.is_empty()).map(token_digest),
        }
    }

    /// The ports named by `RC_BENCH_TABLE` and `RC_BENCH_QUEUE_URL`, with the ops token from
    /// `RC_BENCH_OPS_TOKEN` or the SSM SecureString `RC_BENCH_OPS_TOKEN_PARAM`. `None` when the
    /// table or queue is not set: the routes then answer 503 while `benchmarks` is configured.
    ///
    /// # Errors
    ///
    /// The ops token parameter could not be read.
    pub async fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        aws: &aws_config::SdkConfig,
        parameters: &Parameters,
    ) -> Result<Option<Self>, SetupError> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let (Some(table), Some(queue)) = (var("RC_BENCH_TABLE"), var("RC_BENCH_QUEUE_URL")) else {
            return Ok(None);
        };
        let ops = match (var("RC_BENCH_OPS_TOKEN"), var("RC_BENCH_OPS_TOKEN_PARAM")) {
            (Some(token), _) => Some(token),
            (None, Some(name)) => Some(parameters.get_secure(&name).await?),
            (None, None) => None,
        };
        Ok(Some(BenchPorts::new(
            DynamoBenchStore::new(aws_sdk_dynamodb::Client::new(aws), table),
            SqsBenchQueue::new(aws_sdk_sqs::Client::new(aws), queue),
            ops.as_deref(),
        )))
    }
}

/// Fresh randomness for a job id: std seeds each thread's hash keys randomly and changes them
/// for every `RandomState`, so hashing a constant gives a new value each call.
fn nonce() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x6265_6e63_6821);
    hasher.finish()
}

/// Answers a request on a benchmark route; `None` when `path` is not one. An accepted request
/// wakes the manager's worker pool through `waker` (the webhook's jobs queue).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn answer(
    ports: Option<&BenchPorts>,
    waker: &impl PoolWaker,
    config: Result<&Config, &NoConfig>,
    method: &http::Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Option<Reply> {
    if path != rc_bench::intake::PATH && !path.starts_with("/benchmarks/") {
        return None;
    }
    let config = match config {
        Ok(config) => config,
        Err(e) => return Some(Reply::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
    };
    let Some(bench) = &config.benchmarks else {
        return Some(Reply::new(
            StatusCode::NOT_FOUND,
            "benchmarks are not configured",
        ));
    };
    let Some(ports) = ports else {
        return Some(Reply::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "benchmarks are configured but RC_BENCH_TABLE / RC_BENCH_QUEUE_URL are not set",
        ));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let source = match &bench.trusted_proxy_header {
        Some(name) => forwarded_address(header(name)),
        None => peer,
    };
    let clock = WallClock;
    let intake = Intake {
        store: &ports.store,
        queue: &ports.queue,
        waker,
        clock: &clock,
        bench,
        ops_digest: ports.ops_digest,
    };
    let request = Request {
        method: method.as_str(),
        path,
        query,
        authorization: header("authorization"),
        source,
    };
    let answer = intake.handle(clock.now(), nonce(), &request).await?;
    let status = StatusCode::from_u16(answer.status).expect("the intake answers valid statuses");
    Some(match answer.body {
        Body::Json(body) => Reply {
            status,
            body,
            html: None,
        },
        Body::Html(page) => Reply {
            status,
            body: serde_json::Value::Null,
            html: Some(page),
        },
    })
}
