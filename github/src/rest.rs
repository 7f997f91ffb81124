//! One GitHub REST call at a time: send it through octocrab, remember the rate limit the answer
//! reports, and turn a failure into a [`GithubError`].
//!
//! The client uses octocrab's raw request API rather than its typed handlers because every
//! answer's status and headers matter here (409 and 422 carry meaning, `x-ratelimit-*` is
//! exported, `Link` drives pagination) and because octocrab has no enterprise-scoped runner
//! calls. Paths are always relative (`/orgs/acme/...`): octocrab prefixes the configured base URL,
//! keeping a GHES `/api/v3` path, and only attaches credentials to requests for that host.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use http::header::{HeaderMap, LINK};
use http::{Method, StatusCode};
use octocrab::Octocrab;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::api::GithubError;
use crate::client::RateLimit;

/// A GitHub answer whose body has been read. No `Debug`: a body can hold a JIT config.
pub(crate) struct Answer {
    /// What was asked, `METHOD /path`, for error messages.
    request: String,
    pub(crate) status: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// GitHub's error body; only the message is shown.
#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

impl Answer {
    /// This answer if it is a success, else its failure.
    ///
    /// # Errors
    ///
    /// The classified failure for any status outside 2xx.
    pub(crate) fn success(self) -> Result<Answer, GithubError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(self.error())
        }
    }

    /// The body read as `T`.
    ///
    /// # Errors
    ///
    /// [`GithubError::Failed`] when the body does not have the expected shape.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, GithubError> {
        serde_json::from_str(&self.body).map_err(|err| {
            GithubError::Failed(format!("{}: unreadable answer: {err}", self.request))
        })
    }

    /// The failure this answer stands for; GitHub's own message is kept, as it says why.
    pub(crate) fn error(&self) -> GithubError {
        let message = serde_json::from_str::<ErrorBody>(&self.body)
            .ok()
            .and_then(|body| body.message)
            .unwrap_or_else(|| self.status.canonical_reason().unwrap_or("").to_owned());
        let detail = format!("{}: {} {message}", self.request, self.status.as_u16());
        classify(self.status, &self.headers, detail)
    }

    /// Path and query of the next page, from the `Link` header.
    ///
    /// Only the path is kept: the next request goes to our configured host whatever the link
    /// names, and octocrab does not prefix a path that already starts with the GHES base path.
    fn next_page(&self) -> Option<String> {
        let link = self.headers.get(LINK)?.to_str().ok()?;
        let target = link.split(',').find_map(|part| {
            let (target, params) = part.split_once(';')?;
            params
                .split(';')
                .any(|param| param.trim() == "rel=\"next\"")
                .then(|| target.trim().trim_start_matches('<').trim_end_matches('>'))
        })?;
        let uri: http::Uri = target.parse().ok()?;
        uri.path_and_query().map(|path| path.as_str().to_owned())
    }
}

/// Sends requests and keeps the last rate limit GitHub reported.
#[derive(Debug, Default)]
pub(crate) struct Transport {
    last_rate_limit: Mutex<Option<RateLimit>>,
}

impl Transport {
    /// The rate limit of the last answer that reported one.
    pub(crate) fn rate_limit(&self) -> Option<RateLimit> {
        *self
            .last_rate_limit
            .lock()
            .expect("rate-limit lock poisoned by an earlier panic")
    }

    /// Sends one request and reads the whole answer, whatever its status.
    ///
    /// # Errors
    ///
    /// [`GithubError::Transient`] when no answer arrived, or the failure to obtain credentials
    /// (an App installation token is minted inside octocrab on first use and near expiry).
    pub(crate) async fn send(
        &self,
        crab: &Octocrab,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, GithubError> {
        let request = format!("{method} {path}");
        let built = crab
            .build_request(http::Request::builder().method(method).uri(path), body)
            .map_err(|err| GithubError::Failed(format!("{request}: {err}")))?;
        let response = crab
            .execute(built)
            .await
            .map_err(|err| from_octocrab(&request, err))?;
        let status = response.status();
        let headers = response.headers().clone();
        if let Some(limit) = rate_limit(&headers) {
            *self
                .last_rate_limit
                .lock()
                .expect("rate-limit lock poisoned by an earlier panic") = Some(limit);
        }
        let body = crab.body_to_string(response).await.map_err(|err| {
            GithubError::Transient(format!("{request}: reading the answer: {err}"))
        })?;
        tracing::debug!(%request, status = status.as_u16(), "GitHub call");
        Ok(Answer {
            request,
            status,
            headers,
            body,
        })
    }

    /// Follows `Link: rel="next"` from `first` until `limit` items are collected or the pages
    /// end; `items` takes the items out of one page.
    ///
    /// # Errors
    ///
    /// The first failing page's failure.
    pub(crate) async fn get_pages<P: DeserializeOwned, T>(
        &self,
        crab: &Octocrab,
        first: String,
        limit: usize,
        items: fn(P) -> Vec<T>,
    ) -> Result<Vec<T>, GithubError> {
        self.get_pages_until(crab, first, limit, items, |_| false)
            .await
    }

    /// [`Rest::get_pages`], stopping early after a page whose items satisfy `enough`.
    pub(crate) async fn get_pages_until<P: DeserializeOwned, T>(
        &self,
        crab: &Octocrab,
        first: String,
        limit: usize,
        items: fn(P) -> Vec<T>,
        enough: impl Fn(&[T]) -> bool,
    ) -> Result<Vec<T>, GithubError> {
        let mut collected = Vec::new();
        let mut next = Some(first);
        while let Some(path) = next.take() {
            let answer = self.send(crab, Method::GET, &path, None).await?.success()?;
            let page = items(answer.json()?);
            let done = enough(&page);
            collected.extend(page);
            if collected.len() >= limit {
                collected.truncate(limit);
                break;
            }
            if done {
                break;
            }
            next = answer.next_page().filter(|next_path| *next_path != path);
        }
        Ok(collected)
    }
}

/// Sorts a failed answer by what the caller can do about it. Callers handle the statuses that
/// mean something for their endpoint (409 on generate-jitconfig, 422 on delete) first.
fn classify(status: StatusCode, headers: &HeaderMap, detail: String) -> GithubError {
    // A 403 is a rate limit when GitHub says so: `x-ratelimit-remaining: 0` (primary),
    // `retry-after` or a "secondary rate limit" message ("Rate limits for the REST API", GitHub
    // docs); otherwise it is a permission problem that waiting does not fix.
    let limited = header_u64(headers, "x-ratelimit-remaining") == Some(0)
        || headers.contains_key("retry-after")
        || detail.to_ascii_lowercase().contains("rate limit");
    match status {
        StatusCode::NOT_FOUND => GithubError::NotFound(detail),
        StatusCode::TOO_MANY_REQUESTS => GithubError::RateLimited {
            reset_at: reset_at(headers),
        },
        StatusCode::FORBIDDEN if limited => GithubError::RateLimited {
            reset_at: reset_at(headers),
        },
        status if status.is_server_error() => GithubError::Transient(detail),
        _ => GithubError::Failed(detail),
    }
}

/// A failure inside octocrab: no answer at all, or (when minting an installation token) an
/// answer octocrab has already read.
fn from_octocrab(request: &str, err: octocrab::Error) -> GithubError {
    match err {
        octocrab::Error::GitHub { source, .. } => {
            let headers = source.headers.clone().unwrap_or_default();
            let detail = format!(
                "{request}: obtaining an installation token: {} {}",
                source.status_code.as_u16(),
                source.message
            );
            classify(source.status_code, &headers, detail)
        }
        octocrab::Error::Hyper { .. } | octocrab::Error::Service { .. } => {
            GithubError::Transient(format!("{request}: {err}"))
        }
        other => GithubError::Failed(format!("{request}: {other}")),
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    Some(RateLimit {
        limit: header_u64(headers, "x-ratelimit-limit")?,
        remaining: header_u64(headers, "x-ratelimit-remaining")?,
        reset_at: epoch(header_u64(headers, "x-ratelimit-reset")?)?,
    })
}

/// When a rate-limited call may be tried again: `retry-after` seconds from now if given, else
/// the window's `x-ratelimit-reset`.
fn reset_at(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    match header_u64(headers, "retry-after") {
        Some(secs) => {
            Some(Utc::now() + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX)))
        }
        None => epoch(header_u64(headers, "x-ratelimit-reset")?),
    }
}

fn epoch(secs: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(i64::try_from(secs).ok()?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Answer {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().expect("a valid header value"));
        }
        Answer {
            request: "GET /orgs/acme/actions/runners".to_owned(),
            status: StatusCode::from_u16(status).expect("a valid status"),
            headers: map,
            body: body.to_owned(),
        }
    }

    #[test]
    fn classifies_statuses() {
        let error =
            |status, headers: &[(&'static str, &str)], body| answer(status, headers, body).error();
        assert!(matches!(error(404, &[], "{}"), GithubError::NotFound(_)));
        assert!(matches!(error(502, &[], ""), GithubError::Transient(_)));
        assert!(matches!(
            error(403, &[], r#"{"message":"Resource not accessible by integration"}"#),
            GithubError::Failed(message) if message.contains("403 Resource not accessible")
        ));
        assert!(matches!(
            error(403, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1700000000")], "{}"),
            GithubError::RateLimited { reset_at: Some(at) } if at.timestamp() == 1_700_000_000
        ));
        assert!(matches!(
            error(
                403,
                &[],
                r#"{"message":"You have exceeded a secondary rate limit."}"#
            ),
            GithubError::RateLimited { reset_at: None }
        ));
        assert!(matches!(
            error(429, &[("retry-after", "60")], ""),
            GithubError::RateLimited { reset_at: Some(_) }
        ));
    }

    #[test]
    fn next_page_keeps_only_path_and_query() {
        let link = "<https://ghe.example.com/api/v3/orgs/acme/actions/runners?per_page=100&page=2>; rel=\"next\", \
                    <https://ghe.example.com/api/v3/orgs/acme/actions/runners?per_page=100&page=3>; rel=\"last\"";
        assert_eq!(
            answer(200, &[("link", link)], "").next_page().as_deref(),
            Some("/api/v3/orgs/acme/actions/runners?per_page=100&page=2")
        );
        let last = "<https://api.github.com/orgs/acme/actions/runners?page=1>; rel=\"first\"";
        assert_eq!(answer(200, &[("link", last)], "").next_page(), None);
    }

    #[test]
    fn reads_rate_limit_headers() {
        let headers = answer(
            200,
            &[
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", "4990"),
                ("x-ratelimit-reset", "1700000000"),
            ],
            "",
        )
        .headers;
        let limit = rate_limit(&headers).expect("all three headers present");
        assert_eq!((limit.limit, limit.remaining), (5000, 4990));
        assert_eq!(limit.reset_at.timestamp(), 1_700_000_000);
        assert_eq!(rate_limit(&HeaderMap::new()), None);
    }
}
