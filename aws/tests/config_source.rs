//! The config as Lambdas read it: through the AppConfig agent's local HTTP path (served here by
//! a small server, since moto has no appconfigdata), with the last known good config kept when
//! a deployment is invalid.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use rc_aws::config_source::{ConfigLoadError, ConfigSource, LastKnownGood};

const VALID: &str = include_str!("../../config/examples/minimal.yaml");

/// Serves whatever the test last put at the agent's configuration path.
async fn agent(body: Arc<Mutex<(StatusCode, String)>>) -> String {
    let app = axum::Router::new()
        .route(
            "/applications/rc/environments/prod/configurations/runners",
            axum::routing::get(
                |State(body): State<Arc<Mutex<(StatusCode, String)>>>| async move {
                    body.lock().expect("test lock").clone()
                },
            ),
        )
        .with_state(body);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("agent server") });
    format!("http://{addr}")
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
        matches!(&source, ConfigSource::AppConfigAgent(url) if url.ends_with("/configurations/runners"))
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
