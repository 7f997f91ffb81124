//! Credentials for the GitHub REST API and the octocrab clients they authenticate.
//!
//! Two modes. A token (a PAT or any bearer token) suits GHES setups and tests. A GitHub App is
//! the production mode: it authenticates as itself with a short-lived JWT signed by its private
//! key (for `/app/...`: its webhook deliveries and finding its installation) and as its
//! installation with an access token for everything else. octocrab mints that token on first
//! use, caches it, mints a new one 30 s before it expires (tokens live one hour, "Generating an
//! installation access token", GitHub docs) and again when GitHub answers 401.
//!
//! Secrets stay inside octocrab's `SecretString`s; the `Debug` impls here print neither the token
//! nor the key.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use octocrab::models::{AppId, InstallationId};
use octocrab::{
    DefaultOctocrabBuilderConfig, NoAuth, NoSvc, NotLayerReady, Octocrab, OctocrabBuilder,
};
use rc_config::GithubScope;
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::api::GithubError;
use crate::rest::Transport;

/// Environment variable holding a token (token mode).
pub const TOKEN_VAR: &str = "RC_GITHUB_TOKEN";
/// Environment variable holding the GitHub App id.
pub const APP_ID_VAR: &str = "RC_GITHUB_APP_ID";
/// Environment variable holding the App's private key in PEM.
pub const APP_KEY_VAR: &str = "RC_GITHUB_APP_KEY";
/// Environment variable naming the SSM parameter that holds the App's private key.
pub const APP_KEY_PARAM_VAR: &str = "RC_GITHUB_APP_KEY_PARAM";
/// Environment variable holding the App installation id (looked up when unset).
pub const INSTALLATION_ID_VAR: &str = "RC_GITHUB_INSTALLATION_ID";
/// Environment variable holding the id of an org or repository webhook whose deliveries the
/// redelivery sweep reads instead of the App's webhook.
pub const HOOK_ID_VAR: &str = "RC_GITHUB_HOOK_ID";

/// How the client authenticates.
#[derive(Clone)]
pub enum Credentials {
    /// A bearer token (PAT, or a token a GHES admin issued).
    Token(String),
    /// A GitHub App.
    App {
        /// The App's id.
        app_id: u64,
        /// The App's RSA private key in PEM, as GitHub issues it.
        private_key_pem: String,
        /// The installation to act as; when `None` it is looked up for the configured scope.
        installation_id: Option<u64>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(_) => write!(f, "Credentials::Token(<redacted>)"),
            Credentials::App {
                app_id,
                installation_id,
                ..
            } => f
                .debug_struct("Credentials::App")
                .field("app_id", app_id)
                .field("private_key_pem", &"<redacted>")
                .field("installation_id", installation_id)
                .finish(),
        }
    }
}

/// Why a GitHub client cannot be built. Each message names the variable or setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// No credential variable is set.
    #[error("no GitHub credentials: set {TOKEN_VAR}, or {APP_ID_VAR} with {APP_KEY_VAR} or {APP_KEY_PARAM_VAR}")]
    MissingCredentials,
    /// Both a token and an App are configured, so which one to use is unclear.
    #[error("both {TOKEN_VAR} and {APP_ID_VAR} are set; set only one")]
    AmbiguousCredentials,
    /// An App id without a key.
    #[error("{APP_ID_VAR} is set but neither {APP_KEY_VAR} nor {APP_KEY_PARAM_VAR} is")]
    MissingAppKey,
    /// A variable that must be a positive integer is not.
    #[error("{name} must be a positive integer, got {value:?}")]
    NotANumber {
        /// The variable.
        name: &'static str,
        /// Its value (never a secret: ids only).
        value: String,
    },
    /// The parameter holding the App key could not be read.
    #[error(
        "cannot read the GitHub App key from parameter {param} ({APP_KEY_PARAM_VAR}): {reason}"
    )]
    AppKeyParam {
        /// The parameter name.
        param: String,
        /// Why, from the parameter store.
        reason: String,
    },
    /// The App key is not an RSA private key in PEM.
    #[error("the GitHub App private key is not an RSA private key in PEM format")]
    InvalidAppKey,
    /// `github.api_url` is not a URL.
    #[error("github.api_url {0:?} is not a valid URL")]
    InvalidApiUrl(String),
    /// The HTTP client could not be built (e.g. no TLS root certificates).
    #[error("cannot build the GitHub HTTP client: {0}")]
    HttpClient(String),
}

impl Credentials {
    /// Credentials from `RC_GITHUB_TOKEN`, or `RC_GITHUB_APP_ID` with `RC_GITHUB_APP_KEY` (PEM;
    /// `\n` escapes are accepted, as a single-line variable) or `RC_GITHUB_APP_KEY_PARAM` (a
    /// parameter name `fetch_key` resolves to the PEM), and optionally
    /// `RC_GITHUB_INSTALLATION_ID`. `env` looks a variable up; an empty value counts as unset.
    ///
    /// `fetch_key` keeps this crate free of AWS: the caller reads the SSM SecureString.
    ///
    /// # Errors
    ///
    /// A [`SetupError`] naming the missing, conflicting or malformed variable.
    pub async fn from_env<F, Fut, E>(
        env: impl Fn(&str) -> Option<String>,
        fetch_key: F,
    ) -> Result<Credentials, SetupError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<String, E>>,
        E: fmt::Display,
    {
        let var = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let token = var(TOKEN_VAR);
        let app_id = env_u64(&env, APP_ID_VAR)?;
        match (token, app_id) {
            (Some(_), Some(_)) => Err(SetupError::AmbiguousCredentials),
            (Some(token), None) => Ok(Credentials::Token(token.trim().to_owned())),
            (None, None) => Err(SetupError::MissingCredentials),
            (None, Some(app_id)) => {
                let private_key_pem =
                    match (var(APP_KEY_VAR), var(APP_KEY_PARAM_VAR)) {
                        (Some(pem), _) => pem.replace("\\n", "\n"),
                        (None, Some(param)) => fetch_key(param.clone()).await.map_err(|err| {
                            SetupError::AppKeyParam {
                                param,
                                reason: err.to_string(),
                            }
                        })?,
                        (None, None) => return Err(SetupError::MissingAppKey),
                    };
                Ok(Credentials::App {
                    app_id,
                    private_key_pem,
                    installation_id: env_u64(&env, INSTALLATION_ID_VAR)?,
                })
            }
        }
    }
}

/// A numeric variable, if set and not empty.
pub(crate) fn env_u64(
    env: impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<u64>, SetupError> {
    env(name)
        .filter(|value| !value.trim().is_empty())
        .map(|value| {
            value
                .trim()
                .parse()
                .ok()
                .filter(|id| *id > 0)
                .ok_or(SetupError::NotANumber { name, value })
        })
        .transpose()
}

/// The authenticated octocrab clients of one set of credentials.
// One value per client, built once: the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Auth {
    /// Every call with the token.
    Token(Octocrab),
    /// The App's JWT client, and its installation's client once known.
    App {
        app: Octocrab,
        configured_installation: Option<u64>,
        /// Built once, because the cached installation token lives in this octocrab value
        /// (a clone would start with an empty cache).
        installation: OnceCell<(u64, Octocrab)>,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Token(_) => write!(f, "Token"),
            Auth::App { installation, .. } => f
                .debug_struct("App")
                .field("installation_id", &installation.get().map(|(id, _)| id))
                .finish_non_exhaustive(),
        }
    }
}

/// octocrab's builder before a service layer is chosen.
type Builder = OctocrabBuilder<NoSvc, DefaultOctocrabBuilderConfig, NoAuth, NotLayerReady>;

/// GitHub answers within seconds; a call hanging longer fails as transient rather than
/// consuming the Lambda invocation.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

impl Auth {
    /// Builds the clients for `api_url` (no network calls).
    ///
    /// # Errors
    ///
    /// [`SetupError::InvalidApiUrl`], [`SetupError::InvalidAppKey`] or
    /// [`SetupError::HttpClient`].
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime (octocrab spawns its request buffer).
    pub(crate) fn new(api_url: &str, credentials: Credentials) -> Result<Auth, SetupError> {
        let builder = Octocrab::builder()
            .base_uri(api_url)
            .map_err(|_| SetupError::InvalidApiUrl(api_url.to_owned()))?
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(READ_TIMEOUT));
        let build = |builder: Builder| {
            builder
                .build()
                .map_err(|err| SetupError::HttpClient(err.to_string()))
        };
        Ok(match credentials {
            Credentials::Token(token) => Auth::Token(build(builder.personal_token(token))?),
            Credentials::App {
                app_id,
                private_key_pem,
                installation_id,
            } => {
                let builder = builder
                    .app_from_rsa_pem(AppId(app_id), private_key_pem.as_bytes())
                    .map_err(|_| SetupError::InvalidAppKey)?;
                Auth::App {
                    app: build(builder)?,
                    configured_installation: installation_id,
                    installation: OnceCell::new(),
                }
            }
        })
    }

    /// The client authenticating as the App itself, in App mode.
    pub(crate) fn app(&self) -> Option<&Octocrab> {
        match self {
            Auth::Token(_) => None,
            Auth::App { app, .. } => Some(app),
        }
    }

    /// The installation acted as, once known (App mode).
    pub(crate) fn installation_id(&self) -> Option<u64> {
        match self {
            Auth::Token(_) => None,
            Auth::App { installation, .. } => installation.get().map(|(id, _)| *id),
        }
    }

    /// The client for calls within `scope`: the token, or the App's installation, looked up
    /// on first use when not configured.
    ///
    /// # Errors
    ///
    /// The lookup's failure ([`GithubError::NotFound`] when the App is not installed there).
    pub(crate) async fn scoped(
        &self,
        transport: &Transport,
        scope: &GithubScope,
    ) -> Result<&Octocrab, GithubError> {
        let (app, configured, installation) = match self {
            Auth::Token(crab) => return Ok(crab),
            Auth::App {
                app,
                configured_installation,
                installation,
            } => (app, configured_installation, installation),
        };
        let (_, crab) = installation
            .get_or_try_init(|| async {
                let id = match configured {
                    Some(id) => *id,
                    None => find_installation(app, transport, scope).await?,
                };
                let crab = app
                    .installation(InstallationId(id))
                    .expect("the App client is built with App credentials");
                Ok::<_, GithubError>((id, crab))
            })
            .await?;
        Ok(crab)
    }
}

/// An installation as `GET .../installation` and `GET /app/installations` list it.
#[derive(Deserialize)]
struct Installation {
    id: u64,
    target_type: Option<String>,
    account: Option<Account>,
}

/// The account an installation belongs to; an enterprise has a `slug`, others a `login`.
#[derive(Deserialize)]
struct Account {
    login: Option<String>,
    slug: Option<String>,
}

/// The App's installation for `scope`. Enterprises have no per-enterprise lookup endpoint, so
/// the App's installations are listed and the enterprise's one picked.
async fn find_installation(
    app: &Octocrab,
    transport: &Transport,
    scope: &GithubScope,
) -> Result<u64, GithubError> {
    let path = match scope {
        GithubScope::Org(org) => format!("/orgs/{org}/installation"),
        GithubScope::Repo(repo) => format!("/repos/{repo}/installation"),
        GithubScope::Enterprise(slug) => {
            let installations = transport
                .get_pages(
                    app,
                    "/app/installations?per_page=100".to_owned(),
                    usize::MAX,
                    |page: Vec<Installation>| page,
                )
                .await?;
            return installations
                .into_iter()
                .find(|installation| {
                    installation.target_type.as_deref() == Some("Enterprise")
                        && installation.account.as_ref().is_some_and(|account| {
                            [&account.slug, &account.login]
                                .into_iter()
                                .flatten()
                                .any(|name| name.eq_ignore_ascii_case(slug))
                        })
                })
                .map(|installation| installation.id)
                .ok_or_else(|| {
                    GithubError::NotFound(format!(
                        "no installation of the GitHub App for enterprise {slug}"
                    ))
                });
        }
    };
    let installation: Installation = transport
        .send(app, http::Method::GET, &path, None)
        .await?
        .success()?
        .json()?;
    Ok(installation.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    async fn from_env(vars: &[(&str, &str)]) -> Result<Credentials, SetupError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Credentials::from_env(
            |name| vars.get(name).cloned(),
            |param| async move {
                match param.as_str() {
                    "/rc/app-key" => Ok("PEM FROM SSM".to_owned()),
                    _ => Err(format!("ParameterNotFound: {param}")),
                }
            },
        )
        .await
    }

    #[tokio::test]
    async fn reads_token_or_app_credentials() {
        assert!(matches!(
            from_env(&[(TOKEN_VAR, " ghp_x ")]).await,
            Ok(Credentials::Token(token)) if token == "ghp_x"
        ));
        assert!(matches!(
            from_env(&[(APP_ID_VAR, "12"), (APP_KEY_VAR, "line1\\nline2")]).await,
            Ok(Credentials::App { app_id: 12, private_key_pem, installation_id: None })
                if private_key_pem == "line1\nline2"
        ));
        assert!(matches!(
            from_env(&[(APP_ID_VAR, "12"), (APP_KEY_PARAM_VAR, "/rc/app-key"), (INSTALLATION_ID_VAR, "7")]).await,
            Ok(Credentials::App { private_key_pem, installation_id: Some(7), .. })
                if private_key_pem == "PEM FROM SSM"
        ));
        assert!(matches!(
            from_env(&[(TOKEN_VAR, ""), (APP_ID_VAR, "12"), (APP_KEY_VAR, "k")]).await,
            Ok(Credentials::App { .. })
        ));
    }

    #[tokio::test]
    async fn errors_name_the_variable_to_fix() {
        let message = |result: Result<Credentials, SetupError>| {
            result
                .expect_err("the variables are incomplete")
                .to_string()
        };
        assert!(message(from_env(&[]).await).contains(TOKEN_VAR));
        assert!(
            message(from_env(&[(TOKEN_VAR, "t"), (APP_ID_VAR, "1")]).await)
                .contains("set only one")
        );
        let no_key = message(from_env(&[(APP_ID_VAR, "12")]).await);
        assert!(
            no_key.contains(APP_KEY_VAR) && no_key.contains(APP_KEY_PARAM_VAR),
            "{no_key}"
        );
        assert!(message(from_env(&[(APP_ID_VAR, "twelve")]).await)
            .contains("RC_GITHUB_APP_ID must be a positive integer"));
        let bad_installation = from_env(&[
            (APP_ID_VAR, "1"),
            (APP_KEY_VAR, "k"),
            (INSTALLATION_ID_VAR, "-3"),
        ])
        .await;
        assert!(message(bad_installation).contains(INSTALLATION_ID_VAR));
        let missing_param =
            message(from_env(&[(APP_ID_VAR, "1"), (APP_KEY_PARAM_VAR, "/nope")]).await);
        assert!(
            missing_param.contains("/nope") && missing_param.contains("ParameterNotFound"),
            "{missing_param}"
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let token = format!("{:?}", Credentials::Token("ghp_secret".to_owned()));
        let app = format!(
            "{:?}",
            Credentials::App {
                app_id: 3,
                private_key_pem: "-----BEGIN RSA PRIVATE KEY----- secret".to_owned(),
                installation_id: None,
            }
        );
        assert!(
            !token.contains("secret") && !app.contains("secret"),
            "{token} {app}"
        );
        assert!(app.contains("app_id: 3"));
    }
}
