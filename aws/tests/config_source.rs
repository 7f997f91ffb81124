//! The config as Lambdas read it: through the AppConfig agent's local HTTP path (served here by
//! a small server, since moto has no appconfigdata), with the last known good config kept when
//! a deployment is invalid, a cold start without any valid config waiting for one, and fetches
//! that give up on an agent that never answers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use rc_aws::config_source::{
    ConfigCell, ConfigLoadError, ConfigSource, FetchTimeouts, LastKnownGood, NoConfig,
};

const VALID: &str = include_str!("../../config/examples/minimal.yaml");

/// What the agent serves: status and body, as the test last set them.
type Served = Arc<Mutex<(StatusCode, String)>>;

/// Serves whatever the test last put at the agent's configuration path.
async fn agent(body: Served) -> String {
    counting_agent(body, Arc::default()).await
}

fn source(base: &str) -> ConfigSource {
    let vars = [
        ("RC_APPCONFIG_AGENT_URL", base.to_string()),
        ("RC_APPCONFIG_APPLICATION", "rc".to_string()),
        ("RC_APPCONFIG_ENVIRONMENT", "prod".to_string()),
        ("RC_APPCONFIG_PROFILE", "runners".to_string()),
    ];
    ConfigSource::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("AppConfig variables are set")
}

#[tokio::test]
async fn keeps_the_last_known_good_config_across_a_bad_deployment() {
    let body = Arc::new(Mutex::new((StatusCode::OK, VALID.to_string())));
    let source = source(&agent(body.clone()).await);
    assert!(
        matches!(&source, ConfigSource::AppConfigAgent { url, .. } if url.ends_with("/configurations/runners"))
    );

    let config = LastKnownGood::load(source)
        .await
        .expect("the first config loads");
    assert_eq!(config.get().classes[0].max_runners, 10);

    *body.lock().expect("test lock") = (
        StatusCode::OK,
        VALID.replace("max_runners: 10", "max_runners: lots"),
    );
    assert_eq!(
        config.refresh().await.classes[0].max_runners,
        10,
        "an invalid version is not taken"
    );

    *body.lock().expect("test lock") = (StatusCode::INTERNAL_SERVER_ERROR, String::new());
    assert_eq!(
        config.refresh().await.classes[0].max_runners,
        10,
        "an unreachable agent changes nothing"
    );

    *body.lock().expect("test lock") = (
        StatusCode::OK,
        VALID.replace("max_runners: 10", "max_runners: 12"),
    );
    assert_eq!(
        config.current(Duration::ZERO).await.classes[0].max_runners,
        12,
        "a valid version is taken"
    );
    *body.lock().expect("test lock") = (
        StatusCode::OK,
        VALID.replace("max_runners: 10", "max_runners: 14"),
    );
    assert_eq!(
        config.current(Duration::from_secs(3600)).await.classes[0].max_runners,
        12,
        "not re-read while fresh"
    );
}

#[tokio::test]
async fn an_invalid_first_config_is_refused_with_located_problems() {
    let body = Arc::new(Mutex::new((
        StatusCode::OK,
        "github: {scope: team, name: a}\nclasses: []\n".to_string(),
    )));
    let err = LastKnownGood::load(source(&agent(body).await))
        .await
        .expect_err("invalid config");
    let ConfigLoadError::Invalid { problems, .. } = err else {
        panic!("expected located problems, got {err}")
    };
    assert!(
        problems.contains("/configurations/runners:1:"),
        "{problems}"
    );
}

#[test]
fn names_what_is_missing() {
    assert!(matches!(
        ConfigSource::from_lookup(|_| None),
        Err(ConfigLoadError::NotConfigured)
    ));
    let file =
        ConfigSource::from_lookup(|name| (name == "RC_CONFIG_FILE").then(|| "c.yaml".to_string()));
    assert_eq!(
        file.expect("file source"),
        ConfigSource::File("c.yaml".into())
    );
}

/// Serves the body at the agent's path, counting the requests.
async fn counting_agent(body: Served, hits: Arc<Mutex<u32>>) -> String {
    let app = axum::Router::new()
        .route(
            "/applications/rc/environments/prod/configurations/runners",
            axum::routing::get(
                |State((body, hits)): State<(Served, Arc<Mutex<u32>>)>| async move {
                    *hits.lock().expect("test lock") += 1;
                    body.lock().expect("test lock").clone()
                },
            ),
        )
        .with_state((body, hits));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("agent server") });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_cold_start_without_a_valid_config_waits_for_one() {
    let body = Arc::new(Mutex::new((StatusCode::OK, "classes: [".to_string())));
    let hits = Arc::new(Mutex::new(0));
    let base = counting_agent(body.clone(), hits.clone()).await;

    // Retries are rate-limited: one fetch, then "no config" without asking the agent again.
    let cell = ConfigCell::new(source(&base)).with_retry_every(Duration::from_secs(3600));
    let no_config = cell
        .current(Duration::ZERO)
        .await
        .expect_err("invalid config");
    assert!(matches!(no_config, NoConfig { .. }));
    *body.lock().expect("test lock") = (StatusCode::OK, VALID.to_string());
    assert!(
        cell.current(Duration::ZERO).await.is_err(),
        "not retried yet"
    );
    assert_eq!(*hits.lock().expect("test lock"), 1);

    // Once it is time to retry, the fixed config is taken, then kept as the last known good.
    let cell = ConfigCell::new(source(&base)).with_retry_every(Duration::ZERO);
    *body.lock().expect("test lock") = (StatusCode::SERVICE_UNAVAILABLE, String::new());
    assert!(cell.current(Duration::ZERO).await.is_err(), "agent down");
    *body.lock().expect("test lock") = (StatusCode::OK, VALID.to_string());
    let config = cell.current(Duration::ZERO).await.expect("a valid config");
    assert_eq!(config.classes[0].max_runners, 10);
    *body.lock().expect("test lock") = (StatusCode::OK, "classes: [".to_string());
    let kept = cell.current(Duration::ZERO).await.expect("last known good");
    assert_eq!(kept.classes[0].max_runners, 10);
}

#[tokio::test]
async fn a_fetch_from_an_agent_that_never_answers_gives_up() {
    // Accepts connections and never writes a byte.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let ConfigSource::AppConfigAgent { url, .. } = source(&format!("http://{addr}")) else {
        panic!("an agent source")
    };
    let silent = ConfigSource::AppConfigAgent {
        url,
        timeouts: FetchTimeouts {
            connect: Duration::from_millis(200),
            total: Duration::from_millis(300),
        },
    };
    let err = silent.load().await.expect_err("no answer");
    assert!(matches!(err, ConfigLoadError::Fetch { .. }), "{err}");
    assert!(ConfigCell::new(silent)
        .current(Duration::ZERO)
        .await
        .is_err());
}
