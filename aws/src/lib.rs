//! AWS adapters: thin translations between the AWS SDK and core types.
//!
//! Each capability is a port of the orchestration (`rc_control::ports`: small traits, so tests
//! drive the real implementation against an emulator and the simulator supplies its own),
//! implemented here over the official SDK clients.
//! SDK strings become core enums once, and SDK errors become [`AwsError`], classified for retry.
//!
//! # Layout
//!
//! - [`appconfig_deploy`]: push a config to AppConfig and follow its deployment.
//! - [`config_source`]: the YAML config from AppConfig or a file, last known good kept.
//! - [`logging`]: JSON logs for the Lambdas and the CLI.
//! - [`logs`]: the controller's own log lines read back from CloudWatch Logs.
//! - [`error`]: [`AwsError`] and its retry classification.
//! - [`sqs`]: the jobs queue ([`JobQueue`]).
//! - [`ssm`]: SecureString parameters (webhook secrets, JIT configs).
//! - [`rate`]: a limiter in front of calls AWS throttles per account.
//! - [`runtime`]: tokio's timer and the OS entropy source ([`TokioRuntime`]).
//! - [`ecs_launch`]: RunTask and StopTask for runner tasks ([`TaskLauncher`]).
//! - [`ecs_observe`]: live tasks, capacity providers, container instances ([`ClusterObserver`]).
//! - [`lock`]: per-class leases in DynamoDB or in process ([`ClassLocks`]).
//! - [`bench_store`], [`bench_queue`], [`bench_portal`], [`bench_clock`]: benchmark jobs in DynamoDB, their SQS
//!   FIFO queue and the portal callback (the ports of `rc-bench`).
//! - [`autoscaling`]: Auto Scaling Groups: describe them, raise desired capacity ([`AutoScaling`]).

pub mod appconfig_deploy;
pub mod autoscaling;
pub mod bench_clock;
pub mod bench_portal;
pub mod bench_queue;
pub mod bench_store;
pub mod config_source;
pub mod ecs_launch;
pub mod ecs_observe;
pub mod error;
pub mod lock;
pub mod logging;
pub mod logs;
pub mod rate;
pub mod runtime;
pub mod sqs;
pub mod ssm;

pub use autoscaling::{AsgAutoScaling, AutoScaling};
pub use bench_clock::WallClock;
pub use bench_portal::HttpPortal;
pub use bench_queue::{JobsQueueWaker, SqsBenchQueue};
pub use bench_store::DynamoBenchStore;
pub use ecs_launch::{EcsTaskLauncher, LaunchError, RunTaskRequest, TaskLauncher};
pub use ecs_observe::{ClusterObserver, EcsClusterObserver};
pub use error::AwsError;
pub use lock::{ClassLocks, Lease};
pub use runtime::TokioRuntime;
pub use sqs::{JobQueue, QueueMessage, SqsJobQueue};

/// CloudWatch metrics as Embedded Metric Format log lines (written by the orchestration's
/// reports too, so defined with it).
pub use rc_control::emf;
