//! ECS setup that moto needs before RunTask succeeds.
//!
//! moto places EC2-launch tasks only on registered container instances, and a container instance
//! must name an EC2 instance moto knows. Each instance offers a fixed 4096 CPU units and 7482 MiB
//! whatever its type, and moto places a task only where its containers' `cpu` and `memory` still
//! fit; a task that fits nowhere is silently not started (no failure entry). Add instances with
//! [`add_container_instance`] when a test needs more room.
//!
//! All functions take the `SdkConfig` from [`Moto::sdk_config`](crate::moto::Moto::sdk_config) and
//! panic with the SDK's error on failure.

use aws_config::SdkConfig;
use aws_sdk_ecs::types::{Compatibility, ContainerDefinition, DesiredStatus, Task, TaskField};

use crate::moto::REGION;

/// An ECS cluster in moto with one container instance registered.
#[derive(Debug, Clone)]
pub struct EcsCluster {
    /// The cluster name, as passed in.
    pub name: String,
    /// The cluster ARN.
    pub arn: String,
    /// The ARN of the container instance registered with it.
    pub container_instance_arn: String,
}

/// Creates cluster `cluster_name` and registers one container instance in it, so RunTask can
/// place tasks.
pub async fn ecs_cluster_with_instance(cfg: &SdkConfig, cluster_name: &str) -> EcsCluster {
    let created = aws_sdk_ecs::Client::new(cfg)
        .create_cluster()
        .cluster_name(cluster_name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateCluster {cluster_name}: {e:?}"));
    let arn = created
        .cluster
        .and_then(|cluster| cluster.cluster_arn)
        .expect("CreateCluster answers with the cluster ARN");
    let container_instance_arn = add_container_instance(cfg, cluster_name).await;
    EcsCluster {
        name: cluster_name.to_owned(),
        arn,
        container_instance_arn,
    }
}

/// Launches a moto EC2 instance and registers it as a container instance of `cluster`; returns
/// the container instance ARN.
pub async fn add_container_instance(cfg: &SdkConfig, cluster: &str) -> String {
    let instance_id = run_ec2_instance(cfg).await;
    // moto reads only `instanceId` from the identity document and checks no signature.
    let document = format!(r#"{{"instanceId": "{instance_id}"}}"#);
    aws_sdk_ecs::Client::new(cfg)
        .register_container_instance()
        .cluster(cluster)
        .instance_identity_document(document)
        .send()
        .await
        .unwrap_or_else(|e| panic!("RegisterContainerInstance in {cluster}: {e:?}"))
        .container_instance
        .and_then(|instance| instance.container_instance_arn)
        .expect("RegisterContainerInstance answers with the container instance ARN")
}

/// Registers an EC2-compatible task definition with one essential container; returns its ARN.
///
/// `cpu` (CPU units) and `memory` (MiB) are set on the task and on the container: moto sizes
/// placement from the container's values and refuses a container without `memory`.
pub async fn register_task_definition(
    cfg: &SdkConfig,
    family: &str,
    container: &str,
    cpu: u32,
    memory: u32,
) -> String {
    let container_definition = ContainerDefinition::builder()
        .name(container)
        .image("ghcr.io/actions/actions-runner:latest")
        .essential(true)
        .cpu(i32::try_from(cpu).expect("cpu fits in i32"))
        .memory(i32::try_from(memory).expect("memory fits in i32"))
        .build();
    aws_sdk_ecs::Client::new(cfg)
        .register_task_definition()
        .family(family)
        .requires_compatibilities(Compatibility::Ec2)
        .cpu(cpu.to_string())
        .memory(memory.to_string())
        .container_definitions(container_definition)
        .send()
        .await
        .unwrap_or_else(|e| panic!("RegisterTaskDefinition {family}: {e:?}"))
        .task_definition
        .and_then(|definition| definition.task_definition_arn)
        .expect("RegisterTaskDefinition answers with the task definition ARN")
}

/// Starts one instance through moto's EC2 query API and returns its id.
///
/// A raw call rather than aws-sdk-ec2, which would be a large crate to compile for one request.
/// moto routes an unsigned request by the credential scope in `Authorization` and never checks
/// the signature, so a fixed header is enough.
async fn run_ec2_instance(cfg: &SdkConfig) -> String {
    let endpoint = cfg
        .endpoint_url()
        .expect("the SdkConfig points at moto (use Moto::sdk_config)");
    // An Amazon Linux image from moto's built-in catalogue, so the instance reports os-type linux.
    let body = "Action=RunInstances&Version=2016-11-15&ImageId=ami-760aaa0f\
                &InstanceType=c5.xlarge&MinCount=1&MaxCount=1";
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20250101/{REGION}/ec2/aws4_request, \
         SignedHeaders=host, Signature=0"
    );
    let response = reqwest::Client::new()
        .post(endpoint)
        .header("authorization", authorization)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("EC2 RunInstances: {e}"));
    let status = response.status();
    let xml = response.text().await.expect("read the RunInstances answer");
    assert!(
        status.is_success(),
        "EC2 RunInstances answered {status}: {xml}"
    );
    // The first <instanceId> in the answer is the instance's own; nothing in it comes earlier.
    xml.split_once("<instanceId>")
        .and_then(|(_, rest)| rest.split_once("</instanceId>"))
        .map(|(id, _)| id.to_owned())
        .unwrap_or_else(|| panic!("no <instanceId> in the RunInstances answer: {xml}"))
}

/// The tasks of `cluster` whose desired status is RUNNING, described with their tags (moto's
/// ListTasks also returns stopped tasks unless asked not to).
pub async fn live_tasks(ecs: &aws_sdk_ecs::Client, cluster: &str) -> Vec<Task> {
    let arns = ecs
        .list_tasks()
        .cluster(cluster)
        .desired_status(DesiredStatus::Running)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListTasks {cluster}: {e:?}"))
        .task_arns
        .unwrap_or_default();
    if arns.is_empty() {
        return Vec::new();
    }
    ecs.describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(arns))
        .include(TaskField::Tags)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeTasks {cluster}: {e:?}"))
        .tasks
        .unwrap_or_default()
}
