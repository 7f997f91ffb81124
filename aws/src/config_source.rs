//! Where the running controller reads its YAML config: the AppConfig agent or a file, with the
//! last known good config kept when a new version fails to load, parse or validate.
//!
//! Lambdas read AppConfig through the AppConfig agent extension's local HTTP endpoint
//! (`http://localhost:2772/applications/{app}/environments/{env}/configurations/{profile}`), so
//! this takes a base URL rather than calling appconfigdata itself; tests serve that path from a
//! local server, and `serve` may use a file instead.
//!
//! A process that has never loaded a good config (a cold start while AppConfig holds a bad
//! version or the agent is down) does not fail: [`ConfigCell`] keeps it running, answering
//! "no config yet" and retrying at most every [`NO_CONFIG_RETRY`], so the webhook answers 503
//! (GitHub records a failed delivery for the redelivery sweep) and the manager leaves its batch
//! to SQS, instead of the Lambda failing its init over and over.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use rc_config::Config;

/// How long a running controller (a warm Lambda, `serve`) uses a config before reading it again.
/// The AppConfig agent caches and polls on its own; this bounds how stale a deployment can be.
pub const CONFIG_MAX_AGE: Duration = Duration::from_secs(30);

/// How often a process without any good config tries again: often enough that a fixed
/// deployment is picked up within seconds, rarely enough that a delivery storm does not turn
/// into a fetch storm against the agent.
pub const NO_CONFIG_RETRY: Duration = Duration::from_secs(5);

/// Bounds of one fetch from the AppConfig agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchTimeouts {
    /// To connect.
    pub connect: Duration,
    /// For the whole request, body included.
    pub total: Duration,
}

impl Default for FetchTimeouts {
    /// 2 s to connect and 5 s in all. The agent is on localhost, so a connection that takes
    /// longer will not come; the total keeps a fetch inside the 10 s Lambda init phase and
    /// leaves the webhook time to answer before GitHub's own 10 s delivery timeout.
    fn default() -> Self {
        FetchTimeouts {
            connect: Duration::from_secs(2),
            total: Duration::from_secs(5),
        }
    }
}

/// Where the config comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A local file (`serve --config`, `RC_CONFIG_FILE`).
    File(PathBuf),
    /// The AppConfig agent (or anything serving the same path).
    AppConfigAgent {
        /// The full URL of the configuration.
        url: String,
        /// Bounds of each fetch.
        timeouts: FetchTimeouts,
    },
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigLoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The agent did not answer, or answered with an error status.
    #[error("cannot fetch config from {url}: {detail}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The text is not a valid config; the problems are located.
    #[error("config from {origin} is invalid:\n{problems}")]
    Invalid {
        /// File or URL.
        origin: String,
        /// Every problem, as `FILE:LINE:COL: message` lines.
        problems: String,
    },
    /// No source is configured in the environment.
    #[error("set RC_CONFIG_FILE, or RC_APPCONFIG_APPLICATION + RC_APPCONFIG_ENVIRONMENT + RC_APPCONFIG_PROFILE")]
    NotConfigured,
}

impl ConfigSource {
    /// The source named by the environment: `RC_CONFIG_FILE`, or the AppConfig agent at
    /// `RC_APPCONFIG_AGENT_URL` (default `http://localhost:2772`) for `RC_APPCONFIG_APPLICATION`,
    /// `RC_APPCONFIG_ENVIRONMENT` and `RC_APPCONFIG_PROFILE`.
    ///
    /// # Errors
    ///
    /// [`ConfigLoadError::NotConfigured`] when neither is set.
    pub fn from_env() -> Result<Self, ConfigLoadError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`ConfigSource::from_env`], reading variables through `lookup`.
    ///
    /// # Errors
    ///
    /// [`ConfigLoadError::NotConfigured`] when neither is set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigLoadError> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        if let Some(path) = var("RC_CONFIG_FILE") {
            return Ok(ConfigSource::File(path.into()));
        }
        match (
            var("RC_APPCONFIG_APPLICATION"),
            var("RC_APPCONFIG_ENVIRONMENT"),
            var("RC_APPCONFIG_PROFILE"),
        ) {
            (Some(app), Some(env), Some(profile)) => {
                let base =
                    var("RC_APPCONFIG_AGENT_URL").unwrap_or_else(|| "http://localhost:2772".into());
                Ok(ConfigSource::AppConfigAgent {
                    url: format!(
                        "{}/applications/{app}/environments/{env}/configurations/{profile}",
                        base.trim_end_matches('/')
                    ),
                    timeouts: FetchTimeouts::default(),
                })
            }
            _ => Err(ConfigLoadError::NotConfigured),
        }
    }

    /// Reads and validates the config once.
    ///
    /// # Errors
    ///
    /// Why it could not be read, or every validation problem.
    pub async fn load(&self) -> Result<Config, ConfigLoadError> {
        let (origin, text) = match self {
            ConfigSource::File(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|source| {
                    ConfigLoadError::Read {
                        path: path.display().to_string(),
                        source,
                    }
                })?;
                (path.display().to_string(), text)
            }
            ConfigSource::AppConfigAgent { url, timeouts } => {
                let fetch = |detail: String| ConfigLoadError::Fetch {
                    url: url.clone(),
                    detail,
                };
                let client = reqwest::Client::builder()
                    .connect_timeout(timeouts.connect)
                    .timeout(timeouts.total)
                    .build()
                    .map_err(|e| fetch(e.to_string()))?;
                let response = client
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| fetch(e.to_string()))?;
                if !response.status().is_success() {
                    return Err(fetch(format!("HTTP {}", response.status())));
                }
                (
                    url.clone(),
                    response.text().await.map_err(|e| fetch(e.to_string()))?,
                )
            }
        };
        rc_config::parse(&text).map_err(|problems| ConfigLoadError::Invalid {
            problems: problems.render(&origin),
            origin,
        })
    }
}

/// The config in force: the last one that loaded and validated.
#[derive(Debug, Clone)]
pub struct LastKnownGood {
    source: ConfigSource,
    current: Arc<RwLock<Arc<Config>>>,
    checked_at: Arc<Mutex<Instant>>,
}

impl LastKnownGood {
    /// Loads the first config, failing when it does not load; a process that must keep running
    /// without one holds a [`ConfigCell`] instead.
    ///
    /// # Errors
    ///
    /// Why the first load failed.
    pub async fn load(source: ConfigSource) -> Result<Self, ConfigLoadError> {
        let config = source.load().await?;
        Ok(LastKnownGood {
            source,
            current: Arc::new(RwLock::new(Arc::new(config))),
            checked_at: Arc::new(Mutex::new(Instant::now())),
        })
    }

    /// The config in force.
    pub fn get(&self) -> Arc<Config> {
        self.current
            .read()
            .expect("config lock is never poisoned: writers do not panic")
            .clone()
    }

    /// The config in force, reloaded first when the last check is older than `max_age`.
    ///
    /// The AppConfig agent caches and polls on its own; this bounds how long a warm Lambda or
    /// `serve` keeps using a config after a deployment.
    pub async fn current(&self, max_age: Duration) -> Arc<Config> {
        let stale = {
            let mut checked_at = self
                .checked_at
                .lock()
                .expect("config lock is never poisoned: writers do not panic");
            let stale = checked_at.elapsed() >= max_age;
            if stale {
                *checked_at = Instant::now();
            }
            stale
        };
        if stale {
            self.refresh().await
        } else {
            self.get()
        }
    }

    /// Reloads; on failure logs why and keeps the previous config.
    pub async fn refresh(&self) -> Arc<Config> {
        match self.source.load().await {
            Ok(config) => {
                let config = Arc::new(config);
                *self
                    .current
                    .write()
                    .expect("config lock is never poisoned: writers do not panic") = config.clone();
                config
            }
            Err(e) => {
                tracing::error!(error = %e, "keeping the last known good config");
                self.get()
            }
        }
    }
}

/// Why there is no config to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no valid config has loaded yet; retrying at most every {retry_every:?}")]
pub struct NoConfig {
    /// How often loading is retried.
    pub retry_every: Duration,
}

/// A [`LastKnownGood`] that may not have loaded yet: what a Lambda or `serve` holds from its
/// cold start on. Until a first config loads, each call retries (at most every
/// [`NO_CONFIG_RETRY`]) and otherwise answers [`NoConfig`] at once; after that it is the
/// [`LastKnownGood`].
#[derive(Debug)]
pub struct ConfigCell {
    source: ConfigSource,
    good: OnceCell<LastKnownGood>,
    tried_at: Mutex<Option<Instant>>,
    retry_every: Duration,
}

impl ConfigCell {
    /// A cell that has not tried `source` yet.
    pub fn new(source: ConfigSource) -> Self {
        ConfigCell {
            source,
            good: OnceCell::new(),
            tried_at: Mutex::new(None),
            retry_every: NO_CONFIG_RETRY,
        }
    }

    /// Overrides how often loading is retried while no config has loaded.
    pub fn with_retry_every(mut self, every: Duration) -> Self {
        self.retry_every = every;
        self
    }

    /// The config in force (reloaded when older than `max_age`), loading the first one if it is
    /// time to try again.
    ///
    /// # Errors
    ///
    /// [`NoConfig`] while no config has ever loaded; why the last attempt failed is logged.
    pub async fn current(&self, max_age: Duration) -> Result<Arc<Config>, NoConfig> {
        match self.ready().await {
            Some(good) => Ok(good.current(max_age).await),
            None => Err(NoConfig {
                retry_every: self.retry_every,
            }),
        }
    }

    /// The loaded [`LastKnownGood`], after a load attempt if none has loaded and the last
    /// attempt is older than the retry interval; `None` while there is none.
    pub async fn ready(&self) -> Option<&LastKnownGood> {
        if let Some(good) = self.good.get() {
            return Some(good);
        }
        let due = {
            let mut tried_at = self
                .tried_at
                .lock()
                .expect("config lock is never poisoned: writers do not panic");
            let due = tried_at.is_none_or(|at| at.elapsed() >= self.retry_every);
            if due {
                *tried_at = Some(Instant::now());
            }
            due
        };
        if !due {
            return None;
        }
        match LastKnownGood::load(self.source.clone()).await {
            Ok(loaded) => Some(self.good.get_or_init(|| async { loaded }).await),
            Err(e) => {
                tracing::error!(error = %e, "no valid config yet");
                None
            }
        }
    }
}
