//! The cluster autoscaler end to end against moto: Auto Scaling Groups, capacity providers and
//! container instances are moto's; the PROVISIONING tasks come from a DescribeTasks response in
//! the real API's shape, because moto starts every task RUNNING.
//!
//! A small proxy stands in front of moto for the ECS client: it answers ListTasks and
//! DescribeTasks from the fixture and forwards every other call to moto, so the fixture goes
//! through the same SDK deserializer and translation code as production answers do.
//!
//! The fixture: 10 small tasks (1024 cpu / 2048 MiB) on `cp-small`, whose group has one
//! registered instance (4096 / 7482, moto's fixed size) and max 3; 3 large tasks (2048 / 4096)
//! on `cp-large`, one tagged `rc:min-step=3`, whose group has one instance and max 5; one task
//! too large for any instance; one RUNNING task.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_autoscaling::Client as AsgClient;
use aws_sdk_ecs::types::AutoScalingGroupProvider;
use aws_sdk_ecs::Client as EcsClient;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rc_aws::{AsgAutoScaling, EcsClusterObserver};
use rc_cluster_autoscaler::trigger::Skip;
use rc_cluster_autoscaler::{Autoscaler, Outcome, Raise};
use rc_testkit::moto::Moto;
use serde_json::{json, Value};

const CLUSTER: &str = "runners";
const DESCRIBE_TASKS: &str = include_str!("fixtures/describe_tasks_provisioning.json");
const PROVISIONING_EVENT: &str = include_str!("fixtures/task_state_change_provisioning.json");

/// Small tasks fit 3 to an instance (memory bound); 3 on the registered instance, 6 on two new
/// ones, and max 3 leaves the tenth waiting.
const SMALL_DESIRED: u32 = 3;
/// One large task per instance: one on the registered instance, two need new ones, and the
/// min-step tag of one of them makes it three.
const LARGE_DESIRED: u32 = 4;

type TestAutoscaler = Autoscaler<EcsClusterObserver, AsgAutoScaling>;

#[tokio::test]
async fn one_run_raises_each_group_to_what_its_tasks_need_and_a_second_changes_nothing() {
    let moto = Moto::start();
    let (autoscaler, asg) = world(&moto).await;

    let mut first = autoscaler.run_once().await.expect("first run");
    first.raised.sort_by(|a, b| a.group.cmp(&b.group));
    assert_eq!(
        first.raised,
        [
            raise("asg-large", 1, LARGE_DESIRED),
            raise("asg-small", 1, SMALL_DESIRED)
        ]
    );
    assert_eq!(desired(&asg).await, [SMALL_DESIRED, LARGE_DESIRED]);
    assert_eq!(first.waiting, 14, "every PROVISIONING task of the fixture");
    let small = first
        .plan
        .groups
        .iter()
        .find(|g| g.group == "asg-small")
        .expect("asg-small has waiting tasks");
    assert_eq!(
        (small.on_free, small.on_new.len(), small.at_max.len()),
        (3, 6, 1)
    );
    assert_eq!(first.plan.unplaceable.len(), 1);
    assert_eq!(first.plan.unplaceable[0].reason.label(), "too_large");

    // moto has launched the instances (InService at once), none has registered with ECS yet.
    let second = autoscaler.run_once().await.expect("second run");
    assert!(second.raised.is_empty(), "{:?}", second.raised);
    assert_eq!(second.plan.raises().count(), 0);
    assert_eq!(desired(&asg).await, [SMALL_DESIRED, LARGE_DESIRED]);
}

#[tokio::test]
async fn a_provisioning_event_runs_once_and_the_schedule_changes_nothing() {
    let moto = Moto::start();
    let (autoscaler, asg) = world(&moto).await;
    let event: Value = serde_json::from_str(PROVISIONING_EVENT).expect("fixture is JSON");

    let Outcome::Ran(report) = autoscaler.handle(&event).await.expect("event run") else {
        panic!("a PROVISIONING event must run");
    };
    assert_eq!(report.raised.len(), 2);
    assert_eq!(desired(&asg).await, [SMALL_DESIRED, LARGE_DESIRED]);

    // EventBridge delivers at least once: the same event again is skipped.
    assert_eq!(
        autoscaler.handle(&event).await.expect("duplicate"),
        Outcome::Skipped {
            reason: Skip::Duplicate
        }
    );
    let mut running = event.clone();
    running["detail"]["lastStatus"] = "RUNNING".into();
    running["detail"]["version"] = 2.into();
    assert_eq!(
        autoscaler.handle(&running).await.expect("later state"),
        Outcome::Skipped {
            reason: Skip::NotProvisioning
        }
    );

    let schedule = json!({
        "version": "0", "id": "0d7c9a52-4a3e-4f59-9d6c-5b8f0e2a1c3d",
        "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
        "time": "2025-03-04T09:16:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/rc-cluster-autoscaler"],
        "detail": {}
    });
    let Outcome::Ran(report) = autoscaler.handle(&schedule).await.expect("scheduled run") else {
        panic!("the schedule always runs");
    };
    assert!(report.raised.is_empty(), "{:?}", report.raised);
    assert_eq!(desired(&asg).await, [SMALL_DESIRED, LARGE_DESIRED]);
}

#[tokio::test]
async fn a_warm_window_keeps_room_for_the_last_launches() {
    let moto = Moto::start();
    // Nothing waits. On cp-small a warm runner whose window asks for 10 minutes of headroom,
    // and three job runners, all started in the last minute: room for four more small tasks.
    // The registered instance has room for three, so one instance is added. cp-large's
    // runner is as recent, but no warm window asks for headroom there.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs_f64();
    let template: Value = serde_json::from_str::<Value>(DESCRIBE_TASKS).expect("fixture is JSON")
        ["tasks"][14]
        .clone();
    let running = |n: usize, provider: &str, tags: &[(&str, &str)]| {
        let mut task = template.clone();
        task["taskArn"] =
            format!("arn:aws:ecs:us-east-1:123456789012:task/runners/recent{n}").into();
        task["capacityProviderName"] = provider.into();
        task["createdAt"] = (now - 30.0).into();
        task["tags"] = tags
            .iter()
            .map(|(key, value)| json!({"key": key, "value": value}))
            .collect();
        task
    };
    let mut tasks = vec![running(
        0,
        "cp-small",
        &[("rc:origin", "warm"), ("rc:headroom", "600")],
    )];
    tasks.extend((1..=3).map(|n| running(n, "cp-small", &[("rc:origin", "job")])));
    tasks.push(running(4, "cp-large", &[("rc:origin", "warm")]));
    let (autoscaler, asg) = world_with(&moto, tasks).await;

    let first = autoscaler.run_once().await.expect("first run");
    assert_eq!(first.waiting, 0);
    assert_eq!(first.raised, [raise("asg-small", 1, 2)]);
    assert_eq!(first.plan.groups.len(), 1, "{:?}", first.plan.groups);
    assert_eq!(first.plan.groups[0].for_headroom, 1);
    assert_eq!(desired(&asg).await, [2, 1]);

    // The room is kept: the next run adds nothing.
    let second = autoscaler.run_once().await.expect("second run");
    assert!(second.raised.is_empty(), "{:?}", second.raised);
    assert_eq!(desired(&asg).await, [2, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serve_loop_converges_and_stops_on_shutdown() {
    let moto = Moto::start();
    let (autoscaler, asg) = world(&moto).await;
    let autoscaler = Arc::new(autoscaler);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // `serve` spawns the loop on a multi-threaded runtime, so its future must be Send.
    let running = tokio::spawn({
        let autoscaler = Arc::clone(&autoscaler);
        async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            autoscaler
                .run_loop(Duration::from_millis(50), shutdown)
                .await;
        }
    });
    // A generous bound, only so that a broken loop fails the test instead of hanging it.
    tokio::time::timeout(Duration::from_secs(120), async {
        while desired(&asg).await != [SMALL_DESIRED, LARGE_DESIRED] {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the loop reaches the planned capacity");
    // A few more passes over the converged state change nothing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(desired(&asg).await, [SMALL_DESIRED, LARGE_DESIRED]);
    stop.send(()).expect("the loop is still running");
    running.await.expect("the loop returns on shutdown");
}

fn raise(group: &str, from: u32, to: u32) -> Raise {
    Raise {
        group: group.into(),
        from,
        to,
    }
}

/// Two groups with one instance each, registered with the cluster, their capacity providers,
/// and the fixture proxy; returns the autoscaler and an Auto Scaling client to check on it.
async fn world(moto: &Moto) -> (TestAutoscaler, AsgClient) {
    let tasks = serde_json::from_str::<Value>(DESCRIBE_TASKS).expect("fixture is JSON")["tasks"]
        .as_array()
        .expect("a task list")
        .clone();
    world_with(moto, tasks).await
}

/// [`world`] with the proxy answering these tasks.
async fn world_with(moto: &Moto, tasks: Vec<Value>) -> (TestAutoscaler, AsgClient) {
    let config = moto.sdk_config().await;
    let ecs = EcsClient::new(&config);
    let asg = AsgClient::new(&config);
    ecs.create_cluster()
        .cluster_name(CLUSTER)
        .send()
        .await
        .expect("CreateCluster");
    for (provider, group, max) in [("cp-small", "asg-small", 3), ("cp-large", "asg-large", 5)] {
        let (arn, instance) = group_with_one_instance(&asg, group, max).await;
        ecs.create_capacity_provider()
            .name(provider)
            .auto_scaling_group_provider(
                AutoScalingGroupProvider::builder()
                    .auto_scaling_group_arn(arn)
                    .build()
                    .expect("the ARN is set"),
            )
            .send()
            .await
            .expect("CreateCapacityProvider");
        // moto reads only `instanceId` from the identity document and checks no signature.
        ecs.register_container_instance()
            .cluster(CLUSTER)
            .instance_identity_document(json!({ "instanceId": instance }).to_string())
            .send()
            .await
            .expect("RegisterContainerInstance");
    }
    let ecs = EcsClusterObserver::new(fixture_ecs_client(&config, moto, tasks).await, CLUSTER);
    (
        Autoscaler::new(ecs, AsgAutoScaling::new(asg.clone()), CLUSTER),
        asg,
    )
}

/// Creates `name` with desired capacity 1; returns its ARN and its instance id.
async fn group_with_one_instance(asg: &AsgClient, name: &str, max: i32) -> (String, String) {
    let launch_configuration = format!("{name}-lc");
    asg.create_launch_configuration()
        .launch_configuration_name(&launch_configuration)
        .image_id("ami-760aaa0f")
        .instance_type("c5.xlarge")
        .send()
        .await
        .expect("CreateLaunchConfiguration");
    asg.create_auto_scaling_group()
        .auto_scaling_group_name(name)
        .launch_configuration_name(&launch_configuration)
        .min_size(0)
        .max_size(max)
        .desired_capacity(1)
        .availability_zones("us-east-1a")
        .send()
        .await
        .expect("CreateAutoScalingGroup");
    let described = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(name)
        .send()
        .await
        .expect("DescribeAutoScalingGroups");
    let group = &described.auto_scaling_groups()[0];
    let arn = group.auto_scaling_group_arn().expect("moto sets the ARN");
    let instance = group.instances()[0].instance_id().expect("an instance id");
    (arn.to_owned(), instance.to_owned())
}

/// Desired capacity of `asg-small` and `asg-large`.
async fn desired(asg: &AsgClient) -> [u32; 2] {
    let described = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("asg-small")
        .auto_scaling_group_names("asg-large")
        .send()
        .await
        .expect("DescribeAutoScalingGroups");
    let of = |name: &str| {
        described
            .auto_scaling_groups()
            .iter()
            .find(|g| g.auto_scaling_group_name() == Some(name))
            .and_then(|g| g.desired_capacity())
            .expect("the group exists") as u32
    };
    [of("asg-small"), of("asg-large")]
}

/// An ECS client whose ListTasks and DescribeTasks answer `tasks`.
async fn fixture_ecs_client(config: &SdkConfig, moto: &Moto, tasks: Vec<Value>) -> EcsClient {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    let proxy = Arc::new(Proxy {
        moto: moto.endpoint(),
        http: reqwest::Client::new(),
        tasks,
    });
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let ecs = aws_sdk_ecs::config::Builder::from(config)
        .endpoint_url(format!("http://{addr}"))
        .build();
    EcsClient::from_conf(ecs)
}

struct Proxy {
    moto: String,
    http: reqwest::Client,
    tasks: Vec<Value>,
}

async fn forward(State(proxy): State<Arc<Proxy>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let arn = |task: &Value| task["taskArn"].as_str().unwrap_or_default().to_owned();
    let answer = match target.rsplit('.').next() {
        Some("ListTasks") => json!({ "taskArns": proxy.tasks.iter().map(arn).collect::<Vec<_>>() }),
        Some("DescribeTasks") => {
            let request: Value = serde_json::from_slice(&body).expect("DescribeTasks is JSON");
            let wanted: Vec<&str> = request["tasks"]
                .as_array()
                .expect("DescribeTasks names tasks")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let tasks: Vec<&Value> = proxy
                .tasks
                .iter()
                .filter(|t| wanted.contains(&arn(t).as_str()))
                .collect();
            json!({ "tasks": tasks, "failures": [] })
        }
        _ => return to_moto(&proxy, headers, body).await,
    };
    (
        [("content-type", "application/x-amz-json-1.1")],
        answer.to_string(),
    )
        .into_response()
}

async fn to_moto(proxy: &Proxy, mut headers: HeaderMap, body: Bytes) -> Response {
    headers.remove("host");
    let answer = proxy
        .http
        .post(&proxy.moto)
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("moto answers");
    let status = StatusCode::from_u16(answer.status().as_u16()).expect("a valid status");
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-amz-json-1.1")
        .to_owned();
    let bytes = answer.bytes().await.expect("moto's answer body");
    (status, [("content-type", content_type)], bytes).into_response()
}
