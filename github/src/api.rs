//! The GitHub port ([`GithubApi`]) and its types, defined with the other ports in `rc-control`;
//! [`crate::client::GithubClient`] implements it.

pub use rc_control::ports::github::*;
