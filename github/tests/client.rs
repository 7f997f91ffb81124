//! `GithubClient` against the fake GitHub server: every scope, token and App auth, the error
//! mapping the manager and the tick rely on, pagination and rate-limit export.
//!
//! `data/test-app-key.pem` is an RSA key made for these tests (`openssl genrsa -traditional
//! 2048`); it signs the App JWTs, which the fake accepts without checking the signature.

use rc_config::{GithubConfig, GithubScope};
use rc_core::Timestamp;
use rc_github::api::{GithubApi, GithubError, JitRequest};
use rc_github::auth::Credentials;
use rc_github::client::GithubClient;
use rc_testkit::github::{Delivery, FakeGithub, JobStatus, INSTALLATION_ID};
use serde_json::json;

const TOKEN: &str = "ghp_test_token";
const TEST_APP_KEY: &str = include_str!("data/test-app-key.pem");

fn config(api_url: String, scope: GithubScope) -> GithubConfig {
    GithubConfig {
        scope,
        api_url,
        runner_group: "Default".to_owned(),
        runner_name_prefix: "rc-".to_owned(),
    }
}

fn org() -> GithubScope {
    GithubScope::Org("acme".to_owned())
}

fn token_client(github: &FakeGithub, scope: GithubScope) -> GithubClient {
    GithubClient::new(
        &config(github.url(), scope),
        Credentials::Token(TOKEN.to_owned()),
    )
    .expect("a token client builds")
}

fn app_client(
    github: &FakeGithub,
    scope: GithubScope,
    installation_id: Option<u64>,
) -> GithubClient {
    let credentials = Credentials::App {
        app_id: 42,
        private_key_pem: TEST_APP_KEY.to_owned(),
        installation_id,
    };
    GithubClient::new(&config(github.url(), scope), credentials).expect("an App client builds")
}

fn jit(name: &str, group: &str) -> JitRequest {
    JitRequest {
        name: name.to_owned(),
        labels: vec!["self-hosted".to_owned(), "large".to_owned()],
        runner_group: group.to_owned(),
    }
}

fn is_jwt(authorization: Option<&str>) -> bool {
    authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|token| token.split('.').count() == 3)
}

#[tokio::test]
async fn jit_config_in_every_scope() {
    for (scope, prefix, groups_listed) in [
        (org(), "/orgs/acme", 1),
        (
            GithubScope::Enterprise("megacorp".to_owned()),
            "/enterprises/megacorp",
            1,
        ),
        (
            GithubScope::Repo("acme/app".to_owned()),
            "/repos/acme/app",
            0,
        ),
    ] {
        let github = FakeGithub::start();
        let client = token_client(&github, scope);
        let first = client
            .generate_jit_config(&jit("rc-large-1", "Default"))
            .await
            .expect("JIT config");
        let second = client
            .generate_jit_config(&jit("rc-large-2", "Default"))
            .await
            .expect("JIT config");

        let runner = github.runner("rc-large-1").expect("registered");
        assert_eq!(first.runner_id, runner.id);
        assert_eq!(
            runner.encoded_jit_config.as_deref(),
            Some(first.encoded.as_str())
        );
        assert_ne!(first.runner_id, second.runner_id);
        assert_eq!(runner.labels, ["self-hosted", "large"]);
        let path = format!("POST {prefix}/actions/runners/generate-jitconfig");
        assert_eq!(github.count_calls(&path), 2, "{prefix}");
        let call = github
            .calls()
            .into_iter()
            .find(|call| call.matches(&path))
            .expect("a JIT call");
        assert_eq!(call.body.expect("a JSON body")["runner_group_id"], json!(1));
        assert_eq!(
            call.authorization.as_deref(),
            Some(&*format!("Bearer {TOKEN}"))
        );
        assert_eq!(
            github.count_calls(&format!("GET {prefix}/actions/runner-groups")),
            groups_listed,
            "{prefix}: the group is resolved once, and repositories have none"
        );
    }
}

#[tokio::test]
async fn runner_group_name_resolves_to_its_id() {
    let github = FakeGithub::start();
    let group = github.add_runner_group("ephemeral");
    let client = token_client(&github, org());
    client
        .generate_jit_config(&jit("rc-1", "ephemeral"))
        .await
        .expect("JIT config");
    assert_eq!(
        github.runner("rc-1").expect("registered").runner_group_id,
        group
    );

    let missing = client
        .generate_jit_config(&jit("rc-2", "no-such-group"))
        .await;
    assert!(
        matches!(missing, Err(GithubError::NotFound(message)) if message.contains("no-such-group"))
    );
}

#[tokio::test]
async fn a_taken_name_is_name_taken() {
    let github = FakeGithub::start();
    let client = token_client(&github, org());
    client
        .generate_jit_config(&jit("rc-1", "Default"))
        .await
        .expect("JIT config");
    let again = client.generate_jit_config(&jit("rc-1", "Default")).await;
    assert!(matches!(again, Err(GithubError::NameTaken(name)) if name == "rc-1"));
}

#[tokio::test]
async fn a_busy_runner_is_not_deleted() {
    let github = FakeGithub::start();
    let client = token_client(&github, org());
    let busy = github.add_runner("rc-busy", &["self-hosted"]);
    github.set_runner_busy("rc-busy", true);
    let idle = github.add_runner("rc-idle", &["self-hosted"]);

    let refused = client.delete_runner(busy).await;
    assert!(matches!(refused, Err(GithubError::RunnerBusy(id)) if id == busy));
    assert!(github.runner("rc-busy").is_some());
    client
        .delete_runner(idle)
        .await
        .expect("an idle runner is deleted");
    assert!(github.runner("rc-idle").is_none());
    assert!(matches!(
        client.delete_runner(idle).await,
        Err(GithubError::NotFound(_))
    ));
}

#[tokio::test]
async fn list_runners_reads_every_page() {
    let github = FakeGithub::start();
    for i in 0..230 {
        github.add_runner(&format!("rc-{i:03}"), &["self-hosted", "linux", "large"]);
    }
    github.set_runner_online("rc-007", true);
    github.set_runner_busy("rc-007", true);
    github.set_runner_online("rc-150", true);
    let client = token_client(&github, org());

    let runners = client.list_runners().await.expect("runners");
    assert_eq!(runners.len(), 230);
    assert_eq!(github.count_calls("GET /orgs/acme/actions/runners"), 3);
    let seven = runners
        .iter()
        .find(|runner| runner.name == "rc-007")
        .expect("listed");
    assert!(seven.online && seven.busy);
    assert_eq!(seven.labels, ["self-hosted", "linux", "large"]);
    let online: Vec<&str> = runners
        .iter()
        .filter(|runner| runner.online)
        .map(|runner| runner.name.as_str())
        .collect();
    assert_eq!(online, ["rc-007", "rc-150"]);
}

#[tokio::test]
async fn rate_limit_is_exported_and_exhaustion_is_rate_limited() {
    let github = FakeGithub::start();
    let client = token_client(&github, org());
    assert_eq!(client.rate_limit(), None);

    client.list_runners().await.expect("runners");
    client.list_runners().await.expect("runners");
    let limit = client.rate_limit().expect("the fake sends x-ratelimit-*");
    assert_eq!((limit.limit, limit.remaining), (5000, 4998));
    assert!(limit.reset_at > chrono::Utc::now());

    github.set_rate_limit(2);
    let limited = client.list_runners().await.expect_err("over the limit");
    assert!(
        matches!(limited, GithubError::RateLimited { reset_at: Some(_) }),
        "{limited:?}"
    );
    assert!(limited.is_retryable());
    assert_eq!(client.rate_limit().map(|limit| limit.remaining), Some(0));
}

#[tokio::test]
async fn server_errors_are_transient_after_octocrabs_retries() {
    let github = FakeGithub::start();
    let client = token_client(&github, org());
    github.fail_next("GET /orgs/acme/actions/runners", 3, 502);
    assert!(
        client.list_runners().await.is_ok(),
        "three 502s are retried away"
    );
    github.fail_next("GET /orgs/acme/actions/runners", 4, 503);
    let failed = client.list_runners().await.expect_err("four 503s fail");
    assert!(
        matches!(failed, GithubError::Transient(_)) && failed.is_retryable(),
        "{failed:?}"
    );
    github.fail_next("GET /orgs/acme/actions/runners", 1, 401);
    assert!(matches!(
        client.list_runners().await,
        Err(GithubError::Failed(_))
    ));
}

#[tokio::test]
async fn job_state_follows_the_job() {
    let github = FakeGithub::start();
    github.add_job("acme/app", 501, 77, &["self-hosted", "large"]);
    github.add_runner("rc-large-1", &["self-hosted", "large"]);
    let client = token_client(&github, org());

    let queued = client.job_state("acme/app", 501).await.expect("job");
    assert!(queued.is_queued());
    assert_eq!(
        (queued.job_id, queued.runner_name, queued.started_at),
        (501, None, None)
    );

    github.start_job(501, "rc-large-1");
    let running = client.job_state("acme/app", 501).await.expect("job");
    assert_eq!(running.status, "in_progress");
    assert_eq!(running.runner_name.as_deref(), Some("rc-large-1"));
    assert!(running.started_at.is_some());

    github.set_job_status(501, JobStatus::Completed);
    assert_eq!(
        client.job_state("acme/app", 501).await.expect("job").status,
        "completed"
    );
    assert!(matches!(
        client.job_state("acme/app", 999).await,
        Err(GithubError::NotFound(_))
    ));
}

#[tokio::test]
async fn queued_jobs_come_from_queued_runs() {
    let github = FakeGithub::start();
    github.add_job("acme/app", 1, 10, &["self-hosted", "large"]);
    github.add_job("acme/app", 2, 10, &["self-hosted", "small"]);
    // Run 11 is in progress: its queued job is left to the redelivery sweep.
    github.add_job("acme/app", 3, 11, &["self-hosted", "large"]);
    github.add_job("acme/app", 4, 11, &["self-hosted", "large"]);
    github.add_runner("rc-1", &["self-hosted", "large"]);
    github.start_job(3, "rc-1");
    github.add_job("acme/other", 5, 12, &["self-hosted", "large"]);
    // Run 13 is younger than the cut-off: its jobs are not listed.
    github.add_job("acme/app", 6, 13, &["self-hosted", "large"]);
    let ten_minutes_ago = chrono::Utc::now() - chrono::Duration::minutes(10);
    for old in [1, 2, 3, 4] {
        github.update_job(old, |job| job.created_at = ten_minutes_ago);
    }
    let created_before =
        Timestamp::from_datetime(chrono::Utc::now() - chrono::Duration::minutes(5));
    let client = app_client(&github, org(), None);

    let mut jobs = client
        .queued_jobs("acme/app", created_before)
        .await
        .expect("scan");
    jobs.sort_by_key(|job| job.job_id);
    let ids: Vec<(u64, u64)> = jobs.iter().map(|job| (job.job_id, job.run_id)).collect();
    assert_eq!(ids, [(1, 10), (2, 10)]);
    assert_eq!(jobs[1].labels, ["self-hosted", "small"]);
    assert_eq!(jobs[0].repo, "acme/app");
    assert_eq!(jobs[0].installation_id, Some(INSTALLATION_ID));
    let created = github.job(1).expect("job").created_at;
    assert_eq!(
        jobs[0].created_at.0,
        created.timestamp() * 1000,
        "GitHub gives seconds"
    );

    let token = token_client(&github, org());
    let jobs = token
        .queued_jobs("acme/app", created_before)
        .await
        .expect("scan");
    assert!(jobs.iter().all(|job| job.installation_id.is_none()));
}

#[tokio::test]
async fn app_auth_finds_the_installation_and_caches_its_token() {
    let github = FakeGithub::start();
    let client = app_client(&github, org(), None);
    assert_eq!(client.installation_id(), None);

    client.list_runners().await.expect("runners");
    client
        .generate_jit_config(&jit("rc-1", "Default"))
        .await
        .expect("JIT config");
    assert_eq!(client.installation_id(), Some(INSTALLATION_ID));

    let calls = github.calls();
    assert!(
        calls[0].matches("GET /orgs/acme/installation")
            && is_jwt(calls[0].authorization.as_deref())
    );
    assert!(calls[1].matches(&format!(
        "POST /app/installations/{INSTALLATION_ID}/access_tokens"
    )));
    assert!(is_jwt(calls[1].authorization.as_deref()));
    let runners = &calls[2];
    assert!(runners.matches("GET /orgs/acme/actions/runners"));
    assert!(
        runners
            .authorization
            .as_deref()
            .is_some_and(|value| value.starts_with("Bearer ghs_")),
        "scoped calls use the installation token: {:?}",
        runners.authorization
    );
    assert_eq!(github.count_calls("/orgs/acme/installation"), 1);
    assert_eq!(
        github.count_calls("/app/installations"),
        1,
        "the token is cached"
    );

    // A revoked token (401) is replaced and the call repeated.
    github.fail_next("GET /orgs/acme/actions/runners", 1, 401);
    client
        .list_runners()
        .await
        .expect("runners with a fresh token");
    assert_eq!(github.count_calls("/app/installations"), 2);
}

#[tokio::test]
async fn a_configured_installation_is_not_looked_up() {
    let github = FakeGithub::start();
    let client = app_client(
        &github,
        GithubScope::Enterprise("megacorp".to_owned()),
        Some(INSTALLATION_ID),
    );
    client
        .generate_jit_config(&jit("rc-1", "Default"))
        .await
        .expect("JIT config");
    assert_eq!(github.count_calls("GET /app/installations"), 0);
    assert_eq!(
        github.count_calls("POST /enterprises/megacorp/actions/runners/generate-jitconfig"),
        1
    );
}

#[tokio::test]
async fn app_webhook_deliveries_are_listed_newest_first_and_redelivered() {
    let github = FakeGithub::start();
    for id in 1..=120 {
        let status = if id % 10 == 0 { 502 } else { 200 };
        github.add_delivery(Delivery::new(id, "workflow_job", status).action("queued"));
    }
    let client = app_client(&github, org(), None);

    let deliveries = client
        .recent_deliveries(110, None)
        .await
        .expect("deliveries");
    assert_eq!(deliveries.len(), 110);
    assert_eq!((deliveries[0].id, deliveries[109].id), (120, 11));
    assert_eq!(
        github.count_calls("GET /app/hook/deliveries"),
        2,
        "one cursor page follows"
    );
    let failed = &deliveries[0];
    assert_eq!((failed.status_code, failed.redelivery), (502, false));
    assert_eq!(
        (failed.event.as_str(), failed.action.as_deref()),
        ("workflow_job", Some("queued"))
    );
    assert_eq!(failed.guid, github.deliveries()[119].guid);
    let calls = github.calls();
    assert!(calls
        .iter()
        .filter(|call| call.matches("/app/hook"))
        .all(|call| is_jwt(call.authorization.as_deref())));
    assert_eq!(
        github.count_calls("/app/installations"),
        0,
        "the App webhook needs no installation token"
    );

    // A sweep that knows where the previous one read to stops after the page that reaches it.
    let before = github.count_calls("GET /app/hook/deliveries");
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    github.add_delivery(Delivery::new(0, "workflow_job", 200).delivered_at(hour_ago));
    let since = Some(Timestamp::from_datetime(hour_ago));
    let read = client
        .recent_deliveries(300, since)
        .await
        .expect("deliveries");
    assert_eq!(read.len(), 121, "one short page reaches back to it");
    let just_now = Some(Timestamp::from_datetime(chrono::Utc::now()));
    let newest = client
        .recent_deliveries(300, just_now)
        .await
        .expect("deliveries");
    assert_eq!(newest.len(), 100, "the first page already reaches back");
    assert_eq!(
        github.count_calls("GET /app/hook/deliveries") - before,
        2 + 1
    );

    client.redeliver(120).await.expect("redelivered");
    assert_eq!(github.redelivery_requests(), [120]);
    let newest = &client.recent_deliveries(1, None).await.expect("deliveries")[0];
    assert_eq!(
        (newest.id, newest.redelivery, newest.status_code),
        (121, true, 200)
    );
    assert!(matches!(
        client.redeliver(999).await,
        Err(GithubError::NotFound(_))
    ));
    assert!(client
        .recent_deliveries(0, None)
        .await
        .expect("nothing asked")
        .is_empty());
}

#[tokio::test]
async fn token_mode_sweeps_the_configured_org_hook() {
    let github = FakeGithub::start();
    github.add_delivery(Delivery::new(1, "workflow_job", 500).action("queued"));

    let without_hook = token_client(&github, org());
    let refused = without_hook
        .recent_deliveries(10, None)
        .await
        .expect_err("no App webhook");
    assert!(
        refused.to_string().contains("RC_GITHUB_HOOK_ID"),
        "{refused}"
    );

    let client = token_client(&github, org()).with_hook_id(7);
    let deliveries = client
        .recent_deliveries(10, None)
        .await
        .expect("deliveries");
    assert_eq!(
        deliveries
            .iter()
            .map(|delivery| delivery.id)
            .collect::<Vec<_>>(),
        [1]
    );
    client.redeliver(1).await.expect("redelivered");
    assert_eq!(github.count_calls("GET /orgs/acme/hooks/7/deliveries"), 1);
    assert_eq!(
        github.count_calls("POST /orgs/acme/hooks/7/deliveries/1/attempts"),
        1
    );
}

#[tokio::test]
async fn a_ghes_base_path_prefixes_every_request() {
    // The fake serves no `/api/v3` prefix, so these calls answer 404; the point is the path
    // they went to and that credentials went with them.
    let github = FakeGithub::start();
    let ghes = config(format!("{}/api/v3", github.url()), org());
    let client = GithubClient::new(&ghes, Credentials::Token(TOKEN.to_owned())).expect("client");
    assert!(matches!(
        client.list_runners().await,
        Err(GithubError::NotFound(_))
    ));
    let call = &github.calls()[0];
    assert_eq!(call.path, "/api/v3/orgs/acme/actions/runners");
    assert_eq!(
        call.authorization.as_deref(),
        Some(&*format!("Bearer {TOKEN}"))
    );

    let credentials = Credentials::App {
        app_id: 42,
        private_key_pem: TEST_APP_KEY.to_owned(),
        installation_id: None,
    };
    let app = GithubClient::new(&ghes, credentials).expect("client");
    assert!(matches!(
        app.list_runners().await,
        Err(GithubError::NotFound(_))
    ));
    let lookup = &github.calls()[1];
    assert_eq!(lookup.path, "/api/v3/orgs/acme/installation");
    assert!(is_jwt(lookup.authorization.as_deref()));
}

#[tokio::test]
async fn from_env_builds_either_mode_and_reads_the_hook_id() {
    let github = FakeGithub::start();
    let github_config = config(github.url(), org());
    let no_param =
        |param: String| async move { Err::<String, _>(format!("unexpected parameter {param}")) };

    let token = GithubClient::from_env(
        &github_config,
        |name| match name {
            "RC_GITHUB_TOKEN" => Some(TOKEN.to_owned()),
            "RC_GITHUB_HOOK_ID" => Some("7".to_owned()),
            _ => None,
        },
        no_param,
    )
    .await
    .expect("token mode");
    token.redeliver(1).await.expect_err("no such delivery");
    assert_eq!(
        github.count_calls("POST /orgs/acme/hooks/7/deliveries/1/attempts"),
        1
    );

    let app = GithubClient::from_env(
        &github_config,
        |name| match name {
            "RC_GITHUB_APP_ID" => Some("42".to_owned()),
            "RC_GITHUB_APP_KEY_PARAM" => Some("/rc/github-app-key".to_owned()),
            _ => None,
        },
        |param: String| async move {
            assert_eq!(param, "/rc/github-app-key");
            Ok::<_, String>(TEST_APP_KEY.to_owned())
        },
    )
    .await
    .expect("App mode with the key from a parameter");
    app.list_runners().await.expect("runners");
    assert_eq!(app.installation_id(), Some(INSTALLATION_ID));

    let bad_key = GithubClient::from_env(
        &github_config,
        |name| match name {
            "RC_GITHUB_APP_ID" => Some("42".to_owned()),
            "RC_GITHUB_APP_KEY" => Some("not a key".to_owned()),
            _ => None,
        },
        no_param,
    )
    .await
    .expect_err("not a PEM key");
    assert!(bad_key.to_string().contains("private key"), "{bad_key}");

    let bad_hook = GithubClient::from_env(
        &github_config,
        |name| match name {
            "RC_GITHUB_TOKEN" => Some(TOKEN.to_owned()),
            "RC_GITHUB_HOOK_ID" => Some("hook".to_owned()),
            _ => None,
        },
        no_param,
    )
    .await
    .expect_err("not a number");
    assert!(
        bad_hook.to_string().contains("RC_GITHUB_HOOK_ID"),
        "{bad_hook}"
    );
}

#[tokio::test]
async fn debug_output_holds_no_secret() {
    let github = FakeGithub::start();
    let client = app_client(&github, org(), None);
    client.list_runners().await.expect("runners");
    let token = token_client(&github, org());
    let printed = format!("{client:?} {token:?}");
    assert!(
        !printed.contains(TOKEN) && !printed.contains("ghs_") && !printed.contains("PRIVATE KEY"),
        "{printed}"
    );
    assert!(printed.contains("installation_id: Some(1)"), "{printed}");
}
