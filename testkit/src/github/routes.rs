//! Routing and the JSON shapes of the fake GitHub API.
//!
//! Field names follow GitHub's REST reference and are checked against what octocrab 0.54
//! deserializes (its required fields are all present, URLs are absolute).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::{
    Delivery, Job, JobStatus, Reply, Req, Runner, State, DEFAULT_RUNNER_GROUP_ID, INSTALLATION_ID,
};

/// GitHub's default page size for list endpoints.
const DEFAULT_PER_PAGE: usize = 30;
/// GitHub's maximum page size for list endpoints.
const MAX_PER_PAGE: usize = 100;

/// Labels GitHub gives a runner itself, which it reports as `read-only`; the rest are `custom`.
const READ_ONLY_LABELS: [&str; 7] = [
    "self-hosted",
    "linux",
    "windows",
    "macos",
    "x64",
    "arm",
    "arm64",
];

pub(super) fn route(state: &mut State, req: &Req) -> Reply {
    let Some(authorization) = req.authorization else {
        return error(StatusCode::UNAUTHORIZED, "Requires authentication");
    };
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let needs_app_jwt =
        segments.first() == Some(&"app") || segments.last() == Some(&"installation");
    if needs_app_jwt && !is_jwt(authorization) {
        return error(
            StatusCode::UNAUTHORIZED,
            "A JSON web token could not be decoded",
        );
    }
    match (req.method, segments.as_slice()) {
        ("POST", ["app", "installations", id, "access_tokens"]) => access_token(state, id),
        (_, ["app", "hook", "deliveries", rest @ ..])
        | (_, ["orgs", _, "hooks", _, "deliveries", rest @ ..]) => deliveries(state, req, rest),
        ("GET", ["orgs", account, "installation"])
        | ("GET", ["repos", account, _, "installation"]) => installation(state, account),
        ("GET", ["repos", owner, repo, "actions", "jobs", id]) => {
            let repository = format!("{owner}/{repo}");
            match id.parse().ok().and_then(|id| state.jobs.get(&id)) {
                Some(job) if job.repository == repository => ok(job_json(&state.url, job)),
                _ => not_found(),
            }
        }
        ("GET", ["repos", owner, repo, "actions", "runs"]) => {
            list_runs(state, req, &format!("{owner}/{repo}"))
        }
        ("GET", ["repos", owner, repo, "actions", "runs", run_id, "jobs"]) => {
            list_run_jobs(state, req, &format!("{owner}/{repo}"), run_id)
        }
        (_, ["orgs", _, rest @ ..]) | (_, ["enterprises", _, rest @ ..]) => {
            runners(state, req, rest, true)
        }
        // Runner groups exist only for organizations and enterprises.
        (_, ["repos", _, _, rest @ ..]) => runners(state, req, rest, false),
        _ => not_found(),
    }
}

/// The runner endpoints under a scope prefix.
fn runners(state: &mut State, req: &Req, rest: &[&str], has_groups: bool) -> Reply {
    match (req.method, rest) {
        ("POST", ["actions", "runners", "generate-jitconfig"]) => generate_jitconfig(state, req),
        ("GET", ["actions", "runners"]) => {
            let matching: Vec<Value> = state
                .runners
                .values()
                .filter(|runner| {
                    req.query
                        .get("name")
                        .is_none_or(|name| &runner.name == name)
                })
                .map(|runner| runner_json(state, runner))
                .collect();
            list(req, &state.url, "runners", matching)
        }
        ("GET", ["actions", "runners", id]) => {
            match id.parse().ok().and_then(|id| state.runners.get(&id)) {
                Some(runner) => ok(runner_json(state, runner)),
                None => not_found(),
            }
        }
        ("DELETE", ["actions", "runners", id]) => delete_runner(state, id),
        ("GET", ["actions", "runner-groups"]) if has_groups => {
            let groups: Vec<Value> = state
                .runner_groups
                .iter()
                .map(|(id, name)| runner_group_json(&state.url, req.path, *id, name))
                .collect();
            list(req, &state.url, "runner_groups", groups)
        }
        _ => not_found(),
    }
}

fn generate_jitconfig(state: &mut State, req: &Req) -> Reply {
    let body = req.body.and_then(Value::as_object);
    let field = |key: &str| body.and_then(|body| body.get(key));
    let Some(name) = field("name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
    else {
        return missing_key("name");
    };
    // Live GitHub has no default group: it answers 422 when `runner_group_id` is missing.
    let Some(group) = field("runner_group_id").and_then(Value::as_u64) else {
        return missing_key("runner_group_id");
    };
    let labels: Option<Vec<String>> =
        field("labels")
            .and_then(Value::as_array)
            .and_then(|labels| {
                labels
                    .iter()
                    .map(|label| label.as_str().map(str::to_owned))
                    .collect()
            });
    // The reference allows 1 to 100 labels.
    let Some(labels) = labels.filter(|labels| (1..=100).contains(&labels.len())) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request: `labels` must be an array of 1 to 100 strings.",
        );
    };
    if !state.runner_groups.contains_key(&group) {
        return not_found();
    }
    if state.runners.values().any(|runner| runner.name == name) {
        return error(
            StatusCode::CONFLICT,
            &format!("Already exists - A runner with the name {name} already exists."),
        );
    }
    let work_folder = field("work_folder")
        .and_then(Value::as_str)
        .unwrap_or("_work");
    let id = state.add_runner(name, labels.clone(), group);
    let encoded = encoded_jit_config(&state.url, id, name, group, work_folder);
    let runner = state
        .runners
        .get_mut(&id)
        .expect("the runner was just added");
    runner.encoded_jit_config = Some(encoded.clone());
    let runner = runner_json(state, &state.runners[&id]);
    Reply {
        status: StatusCode::CREATED,
        body: Some(json!({ "runner": runner, "encoded_jit_config": encoded })),
        link: None,
    }
}

/// An `encoded_jit_config` shaped and sized like GitHub's: base64 of a JSON object mapping the
/// runner's config files (`.runner`, `.credentials`, `.credentials_rsaparams`) to their base64
/// contents, the RSA key the runner authenticates with being most of it. Since mid-2025 real
/// ones are 5-6 KB, above SSM's Standard-tier limit of 4,096 characters; these come out at
/// about 5.7 KB (the testkit's tests hold them to 5-6 KB). Key material is pseudo-random,
/// derived from the runner id, so runs are reproducible and no two runners share a config.
fn encoded_jit_config(api_url: &str, id: u64, name: &str, group: u64, work_folder: &str) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let random = |label: &str, len: usize| b64(&pseudo_random(id, label, len));
    let hex = |label: &str, len: usize| hex::encode(pseudo_random(id, label, len));
    let runner = json!({
        "agentId": id,
        "agentName": name,
        "poolId": group,
        "poolName": if group == DEFAULT_RUNNER_GROUP_ID { "Default" } else { "custom" },
        "serverUrl": format!("https://pipelinesghubeus2.actions.githubusercontent.com/{}/", random("tenant", 60)),
        "gitHubUrl": api_url,
        "workFolder": work_folder,
        "ephemeral": true,
        "disableUpdate": false,
        "isHostedServer": false,
        "useV2Flow": true,
        "serverUrlV2": "https://broker.actions.githubusercontent.com/",
    });
    let client_id = hex("client", 16);
    let credentials = json!({
        "scheme": "OAuth",
        "data": {
            "clientId": client_id,
            "authorizationUrl": format!("https://vstoken.actions.githubusercontent.com/_apis/oauth2/token/{}", hex("token", 16)),
            "oAuthEndpointUrl": format!("https://vstoken.actions.githubusercontent.com/_apis/oauth2/token/{}", hex("endpoint", 16)),
            "requireFipsCryptography": "True",
        },
    });
    // A 3072-bit RSA key in .NET's RSAParameters form: modulus and private exponent of 384
    // bytes, the five CRT halves of 192.
    let rsa = json!({
        "d": random("d", 384),
        "dp": random("dp", 192),
        "dq": random("dq", 192),
        "exponent": "AQAB",
        "inverseQ": random("inverseQ", 192),
        "modulus": random("modulus", 384),
        "p": random("p", 192),
        "q": random("q", 192),
    });
    let files = json!({
        ".runner": b64(runner.to_string().as_bytes()),
        ".credentials": b64(credentials.to_string().as_bytes()),
        ".credentials_rsaparams": b64(rsa.to_string().as_bytes()),
    });
    b64(files.to_string().as_bytes())
}

/// `len` bytes that look random, the same for the same runner id and label.
fn pseudo_random(id: u64, label: &str, len: usize) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    (0u32..)
        .flat_map(|block| {
            Sha256::new()
                .chain_update(id.to_be_bytes())
                .chain_update(label.as_bytes())
                .chain_update(block.to_be_bytes())
                .finalize()
        })
        .take(len)
        .collect()
}

fn delete_runner(state: &mut State, id: &str) -> Reply {
    let Some(runner) = id.parse().ok().and_then(|id| state.runners.get(&id)) else {
        return not_found();
    };
    if runner.busy {
        // GitHub's answer for a busy runner, as seen by actions-runner-controller.
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "Bad request - Runner \"{}\" is still running a job\"",
                runner.name
            ),
        );
    }
    let id = runner.id;
    state.runners.remove(&id);
    empty(StatusCode::NO_CONTENT)
}

fn list_runs(state: &State, req: &Req, repository: &str) -> Reply {
    let mut runs: BTreeMap<u64, Vec<&Job>> = BTreeMap::new();
    for job in state
        .jobs
        .values()
        .filter(|job| job.repository == repository)
    {
        runs.entry(job.run_id).or_default().push(job);
    }
    // `status` filters on a run's status or its conclusion, as on GitHub.
    let wanted = req.query.get("status");
    let matching: Vec<Value> = runs
        .iter()
        .rev()
        .map(|(run_id, jobs)| run_json(&state.url, repository, *run_id, jobs))
        .filter(|run| {
            wanted.is_none_or(|wanted| run["status"] == **wanted || run["conclusion"] == **wanted)
        })
        .collect();
    list(req, &state.url, "workflow_runs", matching)
}

fn list_run_jobs(state: &State, req: &Req, repository: &str, run_id: &str) -> Reply {
    let run_id: Option<u64> = run_id.parse().ok();
    let jobs: Vec<Value> = state
        .jobs
        .values()
        .filter(|job| job.repository == repository && Some(job.run_id) == run_id)
        .map(|job| job_json(&state.url, job))
        .collect();
    if jobs.is_empty() {
        return not_found();
    }
    list(req, &state.url, "jobs", jobs)
}

/// The delivery endpoints, for the app hook and organization hooks alike.
fn deliveries(state: &mut State, req: &Req, rest: &[&str]) -> Reply {
    match (req.method, rest) {
        ("GET", []) => list_deliveries(state, req),
        ("POST", [id, "attempts"]) => {
            let Some(original) = id.parse().ok().and_then(|id| state.deliveries.get(&id)) else {
                return not_found();
            };
            let next_id = state.deliveries.keys().last().map_or(1, |last| last + 1);
            // GitHub logs the redelivery as a new delivery with the same GUID; the fake does not
            // deliver anything, so it records the attempt as answered.
            let redelivery = Delivery {
                id: next_id,
                delivered_at: Utc::now(),
                redelivery: true,
                status_code: 200,
                ..original.clone()
            };
            state.redelivery_requests.push(original.id);
            state.deliveries.insert(next_id, redelivery);
            Reply {
                status: StatusCode::ACCEPTED,
                body: Some(json!({})),
                link: None,
            }
        }
        _ => not_found(),
    }
}

/// Newest first, with GitHub's cursor pagination: the `next` link carries `cursor`, the id after
/// which the next page starts.
fn list_deliveries(state: &State, req: &Req) -> Reply {
    let per_page = per_page(req);
    let cursor: Option<u64> = req
        .query
        .get("cursor")
        .and_then(|cursor| cursor.parse().ok());
    let wanted = req.query.get("status").map(String::as_str);
    let mut matching = state
        .deliveries
        .values()
        .rev()
        .filter(|delivery| cursor.is_none_or(|cursor| delivery.id < cursor))
        .filter(|delivery| match wanted {
            Some("success") => is_success(delivery.status_code),
            Some("failure") => !is_success(delivery.status_code),
            _ => true,
        });
    let page: Vec<&Delivery> = matching.by_ref().take(per_page).collect();
    let link = match (page.last(), matching.next()) {
        (Some(last), Some(_)) => Some(format!(
            "<{}{}?per_page={per_page}&cursor={}>; rel=\"next\"",
            state.url, req.path, last.id
        )),
        _ => None,
    };
    Reply {
        status: StatusCode::OK,
        body: Some(
            page.iter()
                .map(|delivery| delivery_json(delivery))
                .collect(),
        ),
        link,
    }
}

fn access_token(state: &mut State, installation: &str) -> Reply {
    if installation.parse() != Ok(INSTALLATION_ID) {
        return not_found();
    }
    state.tokens_issued += 1;
    Reply {
        status: StatusCode::CREATED,
        body: Some(json!({
            "token": format!("ghs_{:036}", state.tokens_issued),
            // Installation tokens live one hour ("Generating an installation access token").
            "expires_at": timestamp(Utc::now() + chrono::Duration::hours(1)),
            "permissions": permissions(),
            "repository_selection": "all",
        })),
        link: None,
    }
}

fn installation(state: &State, account: &str) -> Reply {
    let url = &state.url;
    ok(json!({
        "id": INSTALLATION_ID,
        "account": user_json(url, account, "Organization"),
        "access_tokens_url": format!("{url}/app/installations/{INSTALLATION_ID}/access_tokens"),
        "repositories_url": format!("{url}/installation/repositories"),
        "html_url": format!("https://github.com/organizations/{account}/settings/installations/{INSTALLATION_ID}"),
        "app_id": 1,
        "app_slug": "runner-controller",
        "target_id": account_id(account),
        "target_type": "Organization",
        "permissions": permissions(),
        "events": ["workflow_job"],
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "single_file_name": null,
        "repository_selection": "all",
    }))
}

fn runner_json(state: &State, runner: &Runner) -> Value {
    let labels: Vec<Value> = runner
        .labels
        .iter()
        .map(|label| {
            let kind = if READ_ONLY_LABELS.contains(&label.to_ascii_lowercase().as_str()) {
                "read-only"
            } else {
                "custom"
            };
            json!({ "id": state.label_ids[label], "name": label, "type": kind })
        })
        .collect();
    json!({
        "id": runner.id,
        "runner_group_id": runner.runner_group_id,
        "name": runner.name,
        "os": "Linux",
        "status": if runner.online { "online" } else { "offline" },
        "busy": runner.busy,
        "ephemeral": runner.encoded_jit_config.is_some(),
        "labels": labels,
    })
}

fn runner_group_json(url: &str, path: &str, id: u64, name: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "visibility": "all",
        "default": id == DEFAULT_RUNNER_GROUP_ID,
        "runners_url": format!("{url}{path}/{id}/runners"),
        "inherited": false,
        "allows_public_repositories": false,
        "restricted_to_workflows": false,
        "selected_workflows": [],
        "workflow_restrictions_read_only": false,
    })
}

fn job_json(url: &str, job: &Job) -> Value {
    let repository = &job.repository;
    json!({
        "id": job.id,
        "run_id": job.run_id,
        "workflow_name": "CI",
        "head_branch": "main",
        "run_url": format!("{url}/repos/{repository}/actions/runs/{}", job.run_id),
        "run_attempt": 1,
        "node_id": format!("CR_fake{}", job.id),
        "head_sha": head_sha(job.run_id),
        "url": format!("{url}/repos/{repository}/actions/jobs/{}", job.id),
        "html_url": format!("https://github.com/{repository}/actions/runs/{}/job/{}", job.run_id, job.id),
        "status": job.status.as_str(),
        "conclusion": job.conclusion,
        "created_at": timestamp(job.created_at),
        // GitHub reports a queued job's `started_at` as its creation time.
        "started_at": timestamp(job.started_at.unwrap_or(job.created_at)),
        "completed_at": job.completed_at.map(timestamp),
        "name": job.name,
        "steps": [],
        "check_run_url": format!("{url}/repos/{repository}/check-runs/{}", job.id),
        "labels": job.labels,
        "runner_id": job.runner_id,
        "runner_name": job.runner_name,
        "runner_group_id": job.runner_name.as_ref().map(|_| DEFAULT_RUNNER_GROUP_ID),
        "runner_group_name": job.runner_name.as_ref().map(|_| "Default"),
    })
}

/// A workflow run derived from its jobs, with the status GitHub gives it: queued until a job
/// starts, completed when all are, in progress in between.
fn run_json(url: &str, repository: &str, run_id: u64, jobs: &[&Job]) -> Value {
    let all = |status| jobs.iter().all(|job| job.status == status);
    let (status, conclusion) = if all(JobStatus::Completed) {
        let failed = jobs
            .iter()
            .find_map(|job| job.conclusion.as_deref().filter(|c| *c != "success"));
        ("completed", Some(failed.unwrap_or("success")))
    } else if all(JobStatus::Queued) {
        ("queued", None)
    } else {
        ("in_progress", None)
    };
    let created_at = jobs
        .iter()
        .map(|job| job.created_at)
        .min()
        .expect("a run has at least one job");
    let updated_at = jobs
        .iter()
        .filter_map(|job| job.completed_at.or(job.started_at))
        .max()
        .unwrap_or(created_at)
        .max(created_at);
    let (owner, name) = repository
        .split_once('/')
        .expect("repositories are owner/name");
    let run_url = format!("{url}/repos/{repository}/actions/runs/{run_id}");
    let repository_json = json!({
        "id": account_id(repository),
        "node_id": format!("R_fake{}", account_id(repository)),
        "name": name,
        "full_name": repository,
        "private": true,
        "owner": user_json(url, owner, "Organization"),
        "html_url": format!("https://github.com/{repository}"),
        "url": format!("{url}/repos/{repository}"),
    });
    let author = json!({ "name": "Octocat", "email": "octocat@example.com" });
    json!({
        "id": run_id,
        "name": "CI",
        "node_id": format!("WFR_fake{run_id}"),
        "head_branch": "main",
        "head_sha": head_sha(run_id),
        "path": ".github/workflows/ci.yml",
        "display_title": "CI",
        "run_number": run_id,
        "event": "push",
        "status": status,
        "conclusion": conclusion,
        "workflow_id": 1,
        "run_attempt": 1,
        "url": run_url,
        "html_url": format!("https://github.com/{repository}/actions/runs/{run_id}"),
        "jobs_url": format!("{run_url}/jobs"),
        "logs_url": format!("{run_url}/logs"),
        "check_suite_url": format!("{url}/repos/{repository}/check-suites/{run_id}"),
        "artifacts_url": format!("{run_url}/artifacts"),
        "cancel_url": format!("{run_url}/cancel"),
        "rerun_url": format!("{run_url}/rerun"),
        "workflow_url": format!("{url}/repos/{repository}/actions/workflows/1"),
        "created_at": timestamp(created_at),
        "updated_at": timestamp(updated_at),
        "run_started_at": timestamp(created_at),
        "head_commit": {
            "id": head_sha(run_id),
            "tree_id": head_sha(run_id + 1),
            "message": "Run CI",
            "timestamp": timestamp(created_at),
            "author": author,
            "committer": author,
        },
        "repository": repository_json,
        "head_repository": repository_json,
    })
}

fn delivery_json(delivery: &Delivery) -> Value {
    let status = if is_success(delivery.status_code) {
        "OK".to_owned()
    } else {
        format!("Invalid HTTP Response: {}", delivery.status_code)
    };
    json!({
        "id": delivery.id,
        "guid": delivery.guid,
        "delivered_at": timestamp(delivery.delivered_at),
        "redelivery": delivery.redelivery,
        "duration": 0.27,
        "status": status,
        "status_code": delivery.status_code,
        "event": delivery.event,
        "action": delivery.action,
        "installation_id": delivery.installation_id,
        "repository_id": delivery.repository_id,
        "throttled_at": null,
    })
}

/// A user or organization as GitHub embeds it (octocrab's `Author` needs every URL).
fn user_json(url: &str, login: &str, kind: &str) -> Value {
    let api = format!("{url}/users/{login}");
    json!({
        "login": login,
        "id": account_id(login),
        "node_id": format!("O_fake{}", account_id(login)),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", account_id(login)),
        "gravatar_id": "",
        "url": api,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": kind,
        "site_admin": false,
    })
}

fn permissions() -> Value {
    json!({
        "actions": "read",
        "administration": "write",
        "metadata": "read",
        "organization_self_hosted_runners": "write",
    })
}

/// A GitHub list answer `{total_count, <key>: [...]}`, paginated by `page` and `per_page`.
fn list(req: &Req, url: &str, key: &str, items: Vec<Value>) -> Reply {
    let per_page = per_page(req);
    let total = items.len();
    let last_page = total.div_ceil(per_page).max(1);
    let page: usize = req
        .query
        .get("page")
        .and_then(|page| page.parse().ok())
        .unwrap_or(1)
        .max(1);
    let shown: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut rels = Vec::new();
    if page < last_page {
        rels.push(("next", page + 1));
        rels.push(("last", last_page));
    }
    if page > 1 {
        rels.push(("first", 1));
        rels.push(("prev", page - 1));
    }
    let other: Vec<String> = req
        .query
        .iter()
        .filter(|(name, _)| *name != "page" && *name != "per_page")
        .map(|(name, value)| format!("{name}={value}&"))
        .collect();
    let other = other.concat();
    let link = rels
        .iter()
        .map(|(rel, target)| {
            format!(
                "<{url}{}?{other}per_page={per_page}&page={target}>; rel=\"{rel}\"",
                req.path
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    Reply {
        status: StatusCode::OK,
        body: Some(json!({ "total_count": total, key: shown })),
        link: (!link.is_empty()).then_some(link),
    }
}

fn per_page(req: &Req) -> usize {
    req.query
        .get("per_page")
        .and_then(|per_page| per_page.parse().ok())
        .unwrap_or(DEFAULT_PER_PAGE)
        .clamp(1, MAX_PER_PAGE)
}

fn ok(body: Value) -> Reply {
    Reply {
        status: StatusCode::OK,
        body: Some(body),
        link: None,
    }
}

fn empty(status: StatusCode) -> Reply {
    Reply {
        status,
        body: None,
        link: None,
    }
}

/// A GitHub-style error body.
pub(super) fn error(status: StatusCode, message: &str) -> Reply {
    Reply {
        status,
        body: Some(json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_u16().to_string(),
        })),
        link: None,
    }
}

fn not_found() -> Reply {
    error(StatusCode::NOT_FOUND, "Not Found")
}

fn missing_key(key: &str) -> Reply {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!("Invalid input: object is missing required key: {key}."),
    )
}

fn is_jwt(authorization: &str) -> bool {
    authorization
        .strip_prefix("Bearer ")
        .is_some_and(|token| token.split('.').count() == 3)
}

fn is_success(status_code: u16) -> bool {
    (200..300).contains(&status_code)
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A stable 40-hex-digit commit SHA for a run.
fn head_sha(run_id: u64) -> String {
    format!("{run_id:040x}")
}

/// A stable id for an account or repository name, so repeated answers agree.
fn account_id(name: &str) -> u64 {
    name.bytes().fold(1_000_003_u64, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u64::from(byte))
    }) % 100_000_000
}
