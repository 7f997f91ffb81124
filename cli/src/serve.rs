//! `serve`: the whole controller, or the named parts, in one process, for local use and for
//! deployments without Lambda. Each part runs the same library code as its Lambda.
//!
//! The HTTP server bounds what a client can hold: at most `--max-requests` requests are read or
//! handled at once, and a body must arrive whole within `--body-timeout` (408 otherwise). A
//! config file that is missing or invalid at start does not stop `serve`: the webhook answers
//! 503 and the other parts wait, retrying every few seconds, until a valid one is in place.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use rc_aws::config_source::{
    ConfigCell, ConfigSource, LastKnownGood, CONFIG_MAX_AGE, NO_CONFIG_RETRY,
};
use rc_aws::ssm::Parameters;
use rc_aws::{AsgAutoScaling, EcsClusterObserver, SqsJobQueue};
use rc_cluster_autoscaler::Autoscaler;
use rc_manager::{Manager, ManagerEnv};
use rc_webhook::{Reply, Webhook, MAX_BODY_BYTES};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Config file.
    #[arg(long)]
    config: PathBuf,
    /// Address the HTTP server listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Comma-separated parts to run: webhook, manager, tick, autoscaler (default: all).
    #[arg(long, value_delimiter = ',')]
    only: Vec<Part>,
    /// Most HTTP requests read or handled at once; more wait, then get 503.
    #[arg(long, default_value_t = 64)]
    max_requests: usize,
    /// How long a request body may take to arrive whole before the answer is 408. GitHub
    /// itself gives up on a delivery after 10 s.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    body_timeout: Duration,
}

/// A separately runnable part of the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Webhook,
    Manager,
    Tick,
    Autoscaler,
}

impl FromStr for Part {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "webhook" => Ok(Part::Webhook),
            "manager" => Ok(Part::Manager),
            "tick" => Ok(Part::Tick),
            "autoscaler" => Ok(Part::Autoscaler),
            other => Err(format!(
                "unknown part `{other}`; expected webhook, manager, tick or autoscaler"
            )),
        }
    }
}

impl Part {
    /// Every part, in the order they start.
    const ALL: [Part; 4] = [Part::Webhook, Part::Manager, Part::Tick, Part::Autoscaler];
}

/// The parts `--only` names, or all of them: without the manager nothing would consume the
/// queue the webhook fills.
fn parts_to_run(only: &[Part]) -> Vec<Part> {
    if only.is_empty() {
        Part::ALL.to_vec()
    } else {
        only.to_vec()
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    rc_aws::logging::init_json_logs(rc_aws::logging::LogTarget::Terminal);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .with_context(|| format!("{name} must be set"))
}

/// The tick runs on the minute, as its EventBridge schedule does for the Lambda.
const TICK_EVERY: Duration = Duration::from_secs(60);

/// How often the cluster autoscaler re-plans in `serve` (its Lambda also reacts to events).
const AUTOSCALER_EVERY: Duration = Duration::from_secs(5);

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let parts = parts_to_run(&args.only);
    tracing::info!(?parts, "serving");
    let config = Arc::new(ConfigCell::new(ConfigSource::File(args.config.clone())));
    config.ready().await;
    let aws = aws_config::load_from_env().await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut stop = stop_rx.clone();
        async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    let mut manager = None;
    for part in parts {
        match part {
            Part::Webhook => {
                let secrets =
                    rc_webhook::secrets_from_env(&Parameters::new(aws_sdk_ssm::Client::new(&aws)))
                        .await?;
                let queue =
                    SqsJobQueue::new(aws_sdk_sqs::Client::new(&aws), env("RC_JOBS_QUEUE_URL")?);
                let installation =
                    rc_webhook::installation_from_lookup(|name| std::env::var(name).ok())?;
                let bench = rc_webhook::bench::BenchPorts::from_lookup(
                    |name| std::env::var(name).ok(),
                    &aws,
                    &Parameters::new(aws_sdk_ssm::Client::new(&aws)),
                )
                .await?;
                let state = Arc::new(HttpState {
                    webhook: Webhook::new(secrets, queue)
                        .with_installation(installation)
                        .with_bench(bench),
                    config: config.clone(),
                    permits: tokio::sync::Semaphore::new(args.max_requests),
                    body_timeout: args.body_timeout,
                });
                let listener = tokio::net::TcpListener::bind(args.listen)
                    .await
                    .with_context(|| format!("binding {}", args.listen))?;
                tracing::info!(listen = %listener.local_addr()?, "webhook listening");
                let app = axum::Router::new().fallback(handle_http).with_state(state);
                let stopped = stopped();
                tasks.spawn(async move {
                    axum::serve(
                        listener,
                        app.into_make_service_with_connect_info::<SocketAddr>(),
                    )
                    .with_graceful_shutdown(stopped)
                    .await
                    .context("HTTP server")
                });
            }
            Part::Autoscaler => {
                let cluster = env("RC_CLUSTER")?;
                let autoscaler = Autoscaler::new(
                    EcsClusterObserver::new(aws_sdk_ecs::Client::new(&aws), &cluster),
                    AsgAutoScaling::new(aws_sdk_autoscaling::Client::new(&aws)),
                    cluster,
                );
                let stopped = stopped();
                tasks.spawn(async move {
                    autoscaler.run_loop(AUTOSCALER_EVERY, stopped).await;
                    Ok(())
                });
            }
            Part::Manager => {
                let config = wait_for_config(&config).await;
                let manager = shared_manager(&mut manager, &aws, &config).await?;
                // Wake-ups from the intake nudge the pool between the benchmark loop's passes.
                let store = rc_manager::bench::store_from_env(&config.get(), &aws);
                let (config, stopped) = (config.clone(), stopped());
                tasks.spawn(async move {
                    rc_manager::run_queue_loop(&manager, &config, store.as_ref(), stopped).await;
                    Ok(())
                });
            }
            Part::Tick => {
                let config = wait_for_config(&config).await;
                let manager = shared_manager(&mut manager, &aws, &config).await?;
                if let Some(sweeper) = crate::bench::Sweeper::from_env(&config.get(), &aws).await? {
                    let (config, stopped) = (config.clone(), stopped());
                    let manager = Arc::clone(&manager);
                    tasks.spawn(async move {
                        bench_loop(&sweeper, &manager, &config, stopped).await;
                        Ok(())
                    });
                }
                let (config, stopped) = (config.clone(), stopped());
                tasks.spawn(async move {
                    rc_manager::run_tick_loop(&manager, &config, TICK_EVERY, stopped).await;
                    Ok(())
                });
            }
        }
    }
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });
    while let Some(done) = tasks.join_next().await {
        done.context("a serve part panicked")??;
    }
    Ok(())
}

/// The manager and the tick share one manager, so one GitHub client (one token and runner-group
/// cache, one rate-limit view) serves both, and its class leases (in process unless
/// `RC_LOCK_TABLE` names a DynamoDB table) keep the queue loop and the tick from deciding for
/// the same class at once.
async fn shared_manager(
    slot: &mut Option<Arc<Manager>>,
    aws: &aws_config::SdkConfig,
    config: &LastKnownGood,
) -> anyhow::Result<Arc<Manager>> {
    if slot.is_none() {
        *slot = Some(Arc::new(
            ManagerEnv::from_env()?.build(aws, &config.get()).await?,
        ));
    }
    Ok(slot.clone().expect("filled above"))
}

/// The first valid config; until there is one, the parts that need it wait (the webhook,
/// started before them, answers 503 meanwhile).
async fn wait_for_config(config: &ConfigCell) -> LastKnownGood {
    loop {
        if let Some(good) = config.ready().await {
            return good.clone();
        }
        tokio::time::sleep(NO_CONFIG_RETRY).await;
    }
}

struct HttpState {
    webhook: Webhook<SqsJobQueue>,
    config: Arc<ConfigCell>,
    /// One permit per request being read or handled.
    permits: tokio::sync::Semaphore,
    body_timeout: Duration,
}

/// The benchmark sweeper and the worker pool, every few seconds for as long as `serve` runs:
/// stale jobs are errored first, then the pool is topped up for the jobs waiting.
async fn bench_loop(
    sweeper: &crate::bench::Sweeper,
    manager: &Manager,
    config: &LastKnownGood,
    stopped: impl std::future::Future<Output = ()>,
) {
    let mut stopped = std::pin::pin!(stopped);
    loop {
        let config = config.get();
        if let Some(bench) = &config.benchmarks {
            let now = rc_manager::wall_clock();
            match sweeper.sweep(bench, now, false).await {
                Ok(report)
                    if report.errored.is_empty()
                        && report.unlocked.is_empty()
                        && report.failures.is_empty() => {}
                Ok(report) => tracing::info!(?report, "benchmark sweep"),
                Err(e) => tracing::warn!(error = %e, "benchmark sweep failed"),
            }
            let pass = manager
                .tend_bench_pool(sweeper.store(), bench, config.manager.boot_timeout, now)
                .await;
            if !pass.started.is_empty() || !pass.stopped.is_empty() {
                tracing::info!(?pass, "benchmark pool");
            }
        }
        tokio::select! {
            _ = &mut stopped => return,
            _ = tokio::time::sleep(BENCH_SWEEP_EVERY) => {}
        }
    }
}

/// How often `serve` sweeps benchmark jobs and tends the pool: well inside any `stale_after`
/// (at least 8 s), and a waiting job gets its worker within seconds.
const BENCH_SWEEP_EVERY: Duration = Duration::from_secs(5);

async fn handle_http(State(state): State<Arc<HttpState>>, request: Request) -> Response {
    // The socket peer: the caller's address for the benchmark routes.
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    // Waiting for a permit counts against the body's time: a client is never held longer.
    let deadline = tokio::time::Instant::now() + state.body_timeout;
    let Ok(Ok(_permit)) = tokio::time::timeout_at(deadline, state.permits.acquire()).await else {
        return (
            http::StatusCode::SERVICE_UNAVAILABLE,
            "too many requests in flight",
        )
            .into_response();
    };
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return to_response(Reply::too_large());
    }
    // Bodies without a Content-Length are read only up to the limit, never whole.
    let read = tokio::time::timeout_at(deadline, Limited::new(body, MAX_BODY_BYTES).collect());
    let body = match read.await {
        Err(_) => {
            return (
                http::StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time",
            )
                .into_response()
        }
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => return to_response(Reply::too_large()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "reading request body");
            return (http::StatusCode::BAD_REQUEST, "unreadable body").into_response();
        }
    };
    let config = state.config.current(CONFIG_MAX_AGE).await;
    let reply = state
        .webhook
        .serve_request(
            config.as_deref(),
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
            &body,
            peer,
        )
        .await;
    to_response(reply)
}

fn to_response(reply: Reply) -> Response {
    let (status, content_type, body) = reply.into_parts();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_only_runs_every_part() {
        assert_eq!(
            parts_to_run(&[]),
            [Part::Webhook, Part::Manager, Part::Tick, Part::Autoscaler]
        );
        assert_eq!(parts_to_run(&[Part::Tick]), [Part::Tick]);
    }
}
