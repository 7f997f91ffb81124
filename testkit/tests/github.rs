//! The fake GitHub answers in shapes octocrab 0.54 parses, keeps state, and records calls.

use base64::Engine as _;
use octocrab::models::actions::{SelfHostedRunner, SelfHostedRunnerJitConfig};
use octocrab::models::hooks::Delivery as OctocrabDelivery;
use octocrab::models::workflows::{Job, Run};
use octocrab::models::{Installation, InstallationToken};
use octocrab::Octocrab;
use rc_testkit::github::{Delivery, FakeGithub, JobStatus, DEFAULT_RUNNER_GROUP_ID};
use serde_json::{json, Value};

/// Any three dot-separated parts pass as a JWT; the fake checks no signature.
const JWT: &str = "Bearer header.claims.signature";

fn octocrab(github: &FakeGithub) -> Octocrab {
    Octocrab::builder()
        .base_uri(github.url())
        .expect("a valid base URI")
        .personal_token("ghs_test".to_owned())
        .build()
        .expect("build octocrab")
}

async fn get(github: &FakeGithub, path: &str, authorization: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{path}", github.url()))
        .header("authorization", authorization)
        .send()
        .await
        .expect("the fake answers")
}

#[tokio::test]
async fn jit_config_parses_with_octocrab_and_registers_an_offline_runner() {
    let github = FakeGithub::start();
    let octocrab = octocrab(&github);

    let jit: SelfHostedRunnerJitConfig = octocrab
        .actions()
        .create_org_jit_runner_config(
            "acme",
            "rc-large-1",
            DEFAULT_RUNNER_GROUP_ID.into(),
            vec!["self-hosted".to_owned(), "large".to_owned()],
        )
        .send()
        .await
        .expect("generate-jitconfig parses");

    let runner = github.runner("rc-large-1").expect("registered");
    assert_eq!(jit.runner.id, runner.id.into());
    assert_eq!(jit.runner.status, "offline");
    assert!(!jit.runner.busy);
    assert_eq!(
        jit.runner
            .labels
            .iter()
            .map(|label| label.name.as_str())
            .collect::<Vec<_>>(),
        ["self-hosted", "large"]
    );
    // As large as GitHub's since mid-2025, and shaped like them: base64 of the runner's
    // config files, each base64 again.
    let encoded = &jit.encoded_jit_config;
    assert!(
        (5_000..=6_000).contains(&encoded.len()),
        "{} bytes",
        encoded.len()
    );
    let files: serde_json::Map<String, Value> = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64"),
    )
    .expect("a JSON object");
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        [".credentials", ".credentials_rsaparams", ".runner"]
    );
    assert_eq!(runner.encoded_jit_config, Some(jit.encoded_jit_config));
    assert_eq!(
        github.count_calls("POST /orgs/acme/actions/runners/generate-jitconfig"),
        1
    );
    let body = github.calls()[0].body.clone().expect("a JSON body");
    assert_eq!(body["labels"], json!(["self-hosted", "large"]));

    let again = octocrab
        .actions()
        .create_org_jit_runner_config(
            "acme",
            "rc-large-1",
            DEFAULT_RUNNER_GROUP_ID.into(),
            vec!["large".to_owned()],
        )
        .send()
        .await;
    assert!(again.is_err(), "a taken name is refused");
    assert_eq!(github.calls()[1].status, 409);
}

#[tokio::test]
async fn runner_list_paginates_and_filters_by_name() {
    let github = FakeGithub::start();
    for name in ["a", "b", "c"] {
        github.add_runner(name, &["self-hosted", "small"]);
    }
    github.set_runner_online("b", true);
    let octocrab = octocrab(&github);

    let first = octocrab
        .actions()
        .list_repo_self_hosted_runners("acme", "widgets")
        .per_page(2)
        .send()
        .await
        .expect("list runners parses");
    assert_eq!(first.total_count, Some(3));
    assert_eq!(first.items.len(), 2);
    let second: Option<octocrab::Page<SelfHostedRunner>> = octocrab
        .get_page(&first.next)
        .await
        .expect("the next link works");
    let second = second.expect("a second page");
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].name, "c");

    let b = octocrab
        .actions()
        .list_repo_self_hosted_runners("acme", "widgets")
        .name("b")
        .send()
        .await
        .expect("filtered list");
    assert_eq!(b.items.len(), 1);
    assert_eq!(b.items[0].status, "online");
}

#[tokio::test]
async fn busy_runners_cannot_be_deleted() {
    let github = FakeGithub::start();
    let busy = github.add_runner("busy", &["self-hosted"]);
    let idle = github.add_runner("idle", &["self-hosted"]);
    github.set_runner_busy("busy", true);
    let actions = octocrab(&github);
    let actions = actions.actions();

    assert!(actions
        .delete_org_runner("acme", busy.into())
        .await
        .is_err());
    assert!(actions.delete_org_runner("acme", idle.into()).await.is_ok());
    assert!(actions
        .delete_org_runner("acme", idle.into())
        .await
        .is_err());

    let statuses: Vec<u16> = github.calls().iter().map(|call| call.status).collect();
    assert_eq!(statuses, [422, 204, 404]);
    assert!(github.runner("busy").is_some());
    assert!(github.runner("idle").is_none());
}

#[tokio::test]
async fn jobs_and_runs_follow_the_state_the_test_sets() {
    let github = FakeGithub::start();
    github.add_job("acme/widgets", 11, 100, &["self-hosted", "large"]);
    github.add_job("acme/widgets", 12, 100, &["self-hosted", "large"]);
    github.add_job("acme/widgets", 21, 200, &["self-hosted"]);
    github.add_runner("rc-1", &["self-hosted", "large"]);
    github.start_job(11, "rc-1");
    let octocrab = octocrab(&github);

    let job: Job = octocrab
        .get("/repos/acme/widgets/actions/jobs/11", None::<&()>)
        .await
        .expect("a job parses");
    assert_eq!(job.runner_name.as_deref(), Some("rc-1"));
    assert!(github.runner("rc-1").expect("exists").busy);

    let queued: octocrab::Page<Run> = octocrab
        .get(
            "/repos/acme/widgets/actions/runs?status=queued",
            None::<&()>,
        )
        .await
        .expect("runs parse");
    assert_eq!(
        queued.items.iter().map(|run| run.id.0).collect::<Vec<_>>(),
        [200]
    );

    let jobs: octocrab::Page<Job> = octocrab
        .get("/repos/acme/widgets/actions/runs/100/jobs", None::<&()>)
        .await
        .expect("run jobs parse");
    assert_eq!(jobs.items.len(), 2);

    github.set_job_status(11, JobStatus::Completed);
    github.set_job_status(12, JobStatus::Completed);
    let completed: octocrab::Page<Run> = octocrab
        .get(
            "/repos/acme/widgets/actions/runs?status=completed",
            None::<&()>,
        )
        .await
        .expect("runs parse");
    assert_eq!(completed.items[0].conclusion.as_deref(), Some("success"));
    let other_repo = get(&github, "/repos/acme/other/actions/jobs/11", "token t").await;
    assert_eq!(other_repo.status(), 404);
}

#[tokio::test]
async fn deliveries_list_newest_first_and_redelivery_is_recorded() {
    let github = FakeGithub::start();
    github.add_delivery(Delivery::new(1, "workflow_job", 200).action("queued"));
    github.add_delivery(Delivery::new(2, "workflow_job", 502).action("queued"));
    github.add_delivery(Delivery::new(3, "ping", 200));

    let page = get(&github, "/app/hook/deliveries?per_page=2", JWT).await;
    let link = page.headers()["link"].to_str().expect("ASCII").to_owned();
    let page: Vec<OctocrabDelivery> = page.json().await.expect("deliveries parse");
    assert_eq!(page.iter().map(|d| d.id.0).collect::<Vec<_>>(), [3, 2]);
    assert!(link.contains("cursor=2"), "{link}");
    assert_eq!(page[1].status_code, 502);

    let redeliver = reqwest::Client::new()
        .post(format!("{}/app/hook/deliveries/2/attempts", github.url()))
        .header("authorization", JWT)
        .send()
        .await
        .expect("answers");
    assert_eq!(redeliver.status(), 202);
    assert_eq!(github.redelivery_requests(), [2]);
    let newest = github.deliveries().pop().expect("a new delivery");
    assert!(newest.redelivery);
    assert_eq!(newest.guid, Delivery::new(2, "x", 200).guid);

    let org_hook = get(&github, "/orgs/acme/hooks/7/deliveries?status=failure", JWT).await;
    let failed: Vec<Value> = org_hook.json().await.expect("JSON");
    assert_eq!(failed.len(), 1);
}

#[tokio::test]
async fn app_auth_routes_need_a_jwt_and_parse_with_octocrab() {
    let github = FakeGithub::start();

    let installation = get(&github, "/orgs/acme/installation", JWT).await;
    let installation: Installation = installation.json().await.expect("installation parses");
    let token = reqwest::Client::new()
        .post(format!(
            "{}/app/installations/{}/access_tokens",
            github.url(),
            installation.id
        ))
        .header("authorization", JWT)
        .send()
        .await
        .expect("answers");
    assert_eq!(token.status(), 201);
    let token: InstallationToken = token.json().await.expect("token parses");
    assert!(token.token.starts_with("ghs_"));

    let with_token = get(&github, "/orgs/acme/installation", "token ghs_x").await;
    assert_eq!(with_token.status(), 401);
    let anonymous = reqwest::get(format!("{}/orgs/acme/actions/runners", github.url()))
        .await
        .expect("answers");
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn injected_failures_rate_limit_headers_and_runner_groups() {
    let github = FakeGithub::start();
    github.fail_next("POST /orgs/acme/actions/runners/generate-jitconfig", 1, 503);
    let jit = || async {
        reqwest::Client::new()
            .post(format!(
                "{}/orgs/acme/actions/runners/generate-jitconfig",
                github.url()
            ))
            .header("authorization", "token t")
            .json(&json!({"name": "r", "runner_group_id": 1, "labels": ["x"]}))
            .send()
            .await
            .expect("answers")
    };

    assert_eq!(jit().await.status(), 503);
    let created = jit().await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["x-ratelimit-used"], "2");
    assert_eq!(created.headers()["x-ratelimit-remaining"], "4998");
    assert_eq!(github.count_calls("/orgs/acme/"), 2);

    let groups: Value = get(&github, "/orgs/acme/actions/runner-groups", "token t")
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(groups["runner_groups"][0]["name"], "Default");
    assert_eq!(groups["runner_groups"][0]["default"], true);

    github.set_rate_limit(3);
    let limited = get(&github, "/orgs/acme/actions/runners", "token t").await;
    assert_eq!(limited.status(), 403);
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
}
