//! Test support for runner-controller's integration tests: real emulators on loopback, not mocks.
//!
//! A dev-dependency only. Everything here panics with a message on failure, because a test is the
//! only caller and a panic is how a test reports.
//!
//! # Layout
//!
//! - [`moto`]: starts the moto AWS emulator (patched so aws-sdk-ecs can parse its ECS answers) and
//!   builds an `SdkConfig` pointing at it.
//! - [`ecs`]: the ECS setup moto needs before RunTask works: a cluster, a container instance backed
//!   by a moto EC2 instance, a task definition.
//! - [`dynamodb`]: tables keyed by `pk`, as terraform creates the lease and benchmark tables.
//! - [`github`]: a stateful fake of the slice of the GitHub REST API the controller calls, which
//!   records every request.
//! - [`portal`]: a fake contest portal that checks benchmark result signatures.
//! - [`fixtures`]: real `workflow_job` and `ping` webhook payloads, their signature, and a builder
//!   that rewrites labels, action and ids.

pub mod dynamodb;
pub mod ecs;
pub mod fixtures;
pub mod github;
pub mod moto;
pub mod portal;
