//! `config push` against the emulator's AppConfig (environments, strategies and deployments
//! added by the test support's launcher): versions created, deployments followed to COMPLETE,
//! diffs against what is deployed, and an invalid file refused before anything is created.

use rc_testkit::moto::Moto;

use super::support::{command, repo_file};

struct AppConfig {
    client: aws_sdk_appconfig::Client,
    application: String,
    environment: String,
    profile: String,
}

async fn appconfig(moto: &Moto) -> AppConfig {
    let client = aws_sdk_appconfig::Client::new(&moto.sdk_config().await);
    let application = client
        .create_application()
        .name("runner-controller")
        .send()
        .await
        .expect("CreateApplication")
        .id
        .expect("application id");
    let environment = client
        .create_environment()
        .application_id(&application)
        .name("prod")
        .send()
        .await
        .expect("CreateEnvironment")
        .id
        .expect("environment id");
    let profile = client
        .create_configuration_profile()
        .application_id(&application)
        .name("controller")
        .location_uri("hosted")
        .r#type("AWS.Freeform")
        .send()
        .await
        .expect("CreateConfigurationProfile")
        .id
        .expect("profile id");
    AppConfig {
        client,
        application,
        environment,
        profile,
    }
}

fn push(moto: &Moto, file: &str, extra: &[&str]) -> (i32, String) {
    let out = command(moto)
        .args(["config", "push", file])
        .args([
            "--application",
            "runner-controller",
            "--environment",
            "prod",
        ])
        .args(["--profile", "controller", "--poll-interval", "50ms"])
        .args(extra)
        .output()
        .expect("run config push");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    (
        out.status.code().expect("exit code"),
        stdout + &String::from_utf8_lossy(&out.stderr),
    )
}

async fn versions(ac: &AppConfig) -> Vec<i32> {
    ac.client
        .list_hosted_configuration_versions()
        .application_id(&ac.application)
        .configuration_profile_id(&ac.profile)
        .send()
        .await
        .expect("ListHostedConfigurationVersions")
        .items()
        .iter()
        .map(|v| v.version_number())
        .collect()
}

#[tokio::test]
async fn push_creates_a_version_deploys_it_and_diffs_the_next() {
    let moto = Moto::start();
    let ac = appconfig(&moto).await;
    let minimal = repo_file("config/examples/minimal.yaml");
    let (code, out) = push(&moto, &minimal, &[]);
    assert_eq!(code, 0, "{out}");
    for expected in [
        "nothing deployed yet",
        "created hosted configuration version 1\n",
        "started deployment 1 of version 1 with strategy AppConfig.AllAtOnce\n",
        "DEPLOYMENT_STARTED",
        "deployment 1: DEPLOYING",
        "COMPLETED",
        "deployment 1: COMPLETE\n",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let stored = ac
        .client
        .get_hosted_configuration_version()
        .application_id(&ac.application)
        .configuration_profile_id(&ac.profile)
        .version_number(1)
        .send()
        .await
        .expect("the version exists");
    assert_eq!(
        stored.content().expect("content").as_ref(),
        std::fs::read(&minimal).expect("read").as_slice(),
        "stored byte for byte"
    );

    // The next push diffs against version 1, the one deployed; a named strategy by id works.
    let (code, out) = push(
        &moto,
        &repo_file("config/examples/dena.yaml"),
        &[
            "--strategy",
            "AppConfig.Linear50PercentEvery30Seconds",
            "--no-wait",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("changes against version 1 (deployment 1):\n"),
        "{out}"
    );
    assert!(out.contains("- class default\n"), "{out}");
    assert!(out.contains("  default -> small-amd64: "), "{out}");
    assert!(out.contains("started deployment 2 of version 2"), "{out}");
    assert!(
        !out.contains("COMPLETE"),
        "--no-wait follows nothing: {out}"
    );
    assert_eq!(versions(&ac).await, [2, 1]);

    let (code, out) = push(&moto, &minimal, &["--strategy", "NoSuchStrategy"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("no deployment strategy named or with id `NoSuchStrategy`"),
        "{out}"
    );
}

#[tokio::test]
async fn an_invalid_file_is_refused_with_every_problem_and_nothing_is_created() {
    let moto = Moto::start();
    let ac = appconfig(&moto).await;
    let broken = repo_file("config/tests/data/broken.yaml");
    let (code, out) = push(&moto, &broken, &[]);
    assert_eq!(code, 2, "{out}");
    let located = out
        .lines()
        .filter(|l| l.starts_with(&format!("{broken}:")))
        .count();
    assert!(located >= 10, "every problem located:\n{out}");
    assert!(out.contains("nothing was pushed"), "{out}");
    assert!(versions(&ac).await.is_empty());
    let deployments = ac
        .client
        .list_deployments()
        .application_id(&ac.application)
        .environment_id(&ac.environment)
        .send()
        .await
        .expect("ListDeployments");
    assert!(deployments.items().is_empty());
}
