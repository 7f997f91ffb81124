//! GitHub at the edge: webhook signatures and payloads, and (for the manager) the REST API.
//!
//! Everything GitHub-shaped is translated here into core types; nothing past this crate parses
//! GitHub JSON.
//!
//! # Layout
//!
//! - [`api`]: the [`api::GithubApi`] trait the manager and the tick call.
//! - [`client`]: [`client::GithubClient`], that trait over the REST API (octocrab).
//! - [`auth`]: token or GitHub App credentials, read from the environment.
//! - [`signature`]: `X-Hub-Signature-256` verification with secret rotation.
//! - [`webhook`]: the `workflow_job` payload and its translation into a [`rc_core::message::JobRef`].

pub mod api;
pub mod auth;
pub mod client;
mod rest;
pub mod signature;
pub mod webhook;
