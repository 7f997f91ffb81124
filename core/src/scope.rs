//! Whether a delivery belongs to this deployment: the configured `github.scope` and, when the
//! deployment knows it, its GitHub App installation.
//!
//! A webhook secret can be shared by several hooks, and an App can be installed on owners we do
//! not serve; a signed delivery from outside the scope must start nothing. Logins and repository
//! names are compared case-insensitively, as GitHub treats them.

use std::fmt;

use rc_config::GithubScope;

use crate::bounded::{abbreviate, ECHO_CHARS};

/// Longest owner login or repository name accepted. GitHub's own are much shorter (logins at
/// most 39 characters, repository names at most 100); the margin is for GitHub Enterprise
/// Server, and anything longer is no GitHub name.
pub const MAX_NAME_CHARS: usize = 256;

/// Where a delivery says it comes from, as plain strings from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// `enterprise.slug`, present when the owner belongs to an enterprise.
    pub enterprise: Option<&'a str>,
    /// `repository.owner.login`.
    pub owner: &'a str,
    /// `repository.full_name`, `owner/name`.
    pub repository: &'a str,
    /// `installation.id`, present when the delivery came through a GitHub App.
    pub installation: Option<u64>,
}

/// Why a delivery is outside the scope; its text is bounded whatever the payload holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfScope(String);

impl fmt::Display for OutOfScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks `origin` against `scope` and, when the deployment knows its App installation, against
/// `installation`. A delivery without an installation (an organization or repository webhook)
/// is judged by the scope alone.
///
/// # Errors
///
/// [`OutOfScope`] saying which field does not match.
pub fn check_scope(
    scope: &GithubScope,
    installation: Option<u64>,
    origin: &Origin<'_>,
) -> Result<(), OutOfScope> {
    let show = |s: &str| abbreviate(s, ECHO_CHARS).into_owned();
    for (what, name) in [("owner", origin.owner), ("repository", origin.repository)] {
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(OutOfScope(format!(
                "{what} `{}` is longer than {MAX_NAME_CHARS} characters",
                show(name)
            )));
        }
    }
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match scope {
        GithubScope::Enterprise(slug) => match origin.enterprise {
            Some(theirs) if same(theirs, slug) => {}
            Some(theirs) => {
                return Err(OutOfScope(format!(
                    "enterprise `{}` is not `{slug}`",
                    show(theirs)
                )))
            }
            None => {
                return Err(OutOfScope(format!(
                    "owner `{}` belongs to no enterprise, not `{slug}`",
                    show(origin.owner)
                )))
            }
        },
        GithubScope::Org(org) if !same(origin.owner, org) => {
            return Err(OutOfScope(format!(
                "owner `{}` is not `{org}`",
                show(origin.owner)
            )))
        }
        GithubScope::Repo(repo) if !same(origin.repository, repo) => {
            return Err(OutOfScope(format!(
                "repository `{}` is not `{repo}`",
                show(origin.repository)
            )))
        }
        GithubScope::Org(_) | GithubScope::Repo(_) => {}
    }
    match (installation, origin.installation) {
        (Some(ours), Some(theirs)) if ours != theirs => {
            Err(OutOfScope(format!("installation {theirs} is not {ours}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(owner: &'static str, repository: &'static str) -> Origin<'static> {
        Origin {
            enterprise: None,
            owner,
            repository,
            installation: Some(7),
        }
    }

    fn org(name: &str) -> GithubScope {
        GithubScope::Org(name.into())
    }

    #[test]
    fn an_org_scope_takes_every_repository_of_the_org_in_any_case() {
        assert!(check_scope(&org("acme"), None, &origin("acme", "acme/widgets")).is_ok());
        assert!(check_scope(&org("Acme"), None, &origin("ACME", "ACME/Gadgets")).is_ok());
        let other = check_scope(&org("acme"), None, &origin("evil", "evil/widgets"));
        assert_eq!(
            other.expect_err("another owner").to_string(),
            "owner `evil` is not `acme`"
        );
    }

    #[test]
    fn a_repo_scope_takes_only_its_repository() {
        let scope = GithubScope::Repo("acme/widgets".into());
        assert!(check_scope(&scope, None, &origin("acme", "Acme/Widgets")).is_ok());
        assert!(check_scope(&scope, None, &origin("acme", "acme/gadgets")).is_err());
    }

    #[test]
    fn an_enterprise_scope_takes_the_organizations_of_its_enterprise() {
        let scope = GithubScope::Enterprise("octo-business".into());
        let with = |enterprise| Origin {
            enterprise,
            ..origin("octocoders", "octocoders/hello")
        };
        assert!(check_scope(&scope, None, &with(Some("Octo-Business"))).is_ok());
        assert!(check_scope(&scope, None, &with(Some("other-business"))).is_err());
        assert!(check_scope(&scope, None, &with(None)).is_err());
    }

    #[test]
    fn a_known_installation_refuses_other_installations() {
        let ours = origin("acme", "acme/widgets");
        assert!(check_scope(&org("acme"), Some(7), &ours).is_ok());
        let err = check_scope(&org("acme"), Some(8), &ours).expect_err("installation 7");
        assert_eq!(err.to_string(), "installation 7 is not 8");
        let hook = Origin {
            installation: None,
            ..ours
        };
        assert!(
            check_scope(&org("acme"), Some(8), &hook).is_ok(),
            "an org webhook carries no installation"
        );
        assert!(
            check_scope(&org("acme"), None, &ours).is_ok(),
            "unknown installation: scope alone"
        );
    }

    #[test]
    fn names_no_github_name_could_have_are_refused_with_a_short_reason() {
        let long = "a".repeat(100_000);
        let repository = format!("acme/{long}");
        let err = check_scope(
            &org("acme"),
            None,
            &Origin {
                repository: &repository,
                ..origin("acme", "")
            },
        )
        .expect_err("a 100 KB repository name");
        assert!(err.to_string().len() < 200, "{err}");
    }
}
