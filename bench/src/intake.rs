//! The intake's flows: `POST /benchmarks`, `GET /benchmarks/{id}`, `GET /benchmarks` and
//! `GET /benchmarks/board`, over a store and a queue, answering with an HTTP status and body
//! but knowing nothing of HTTP servers (the webhook Lambda and `serve` both call [`Intake::handle`]).
//!
//! Accepting is: lock and record in one conditional write, then queue; if queueing fails
//! (after short retries), both are undone and the answer is 503 — a request is never recorded
//! without being queued, and never dropped without an answer. Once queued, the manager is woken
//! ([`PoolWaker`]) so a worker starts now rather than at the next tick; that nudge is best
//! effort and never changes the answer.

use std::net::IpAddr;
use std::time::Duration;

use rc_config::Benchmarks;
use rc_core::bench::auth::{bearer, reader, Reader};
use rc_core::bench::board::{page_limit, page_view, render};
use rc_core::bench::intake::{admit, busy, unavailable, Admission, Caller, Refusal};
use rc_core::bench::{BenchJob, BenchJobId, BenchMessage};
use rc_core::bounded::abbreviate;
use rc_core::Timestamp;
use serde_json::json;

use crate::ports::{BenchQueue, BenchStore, Clock, Created, PoolWaker, PortError};

/// Path prefix of every benchmark route.
pub const PATH: &str = "/benchmarks";

/// Sends tried before the intake gives up and undoes the job: three, 100 ms then 300 ms apart,
/// well inside a Function URL request.
const SEND_ATTEMPTS: u32 = 3;

/// A request, as much of it as the intake reads.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// URL path.
    pub path: &'a str,
    /// URL query, without `?`.
    pub query: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The caller's address.
    pub source: Option<IpAddr>,
}

/// An answer's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// JSON.
    Json(serde_json::Value),
    /// An HTML page (the board).
    Html(String),
}

/// An answer: HTTP status and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Body,
}

impl Answer {
    fn json(status: u16, body: serde_json::Value) -> Self {
        Answer {
            status,
            body: Body::Json(body),
        }
    }

    fn message(status: u16, message: &str) -> Self {
        Answer::json(
            status,
            json!({"ok": (200..300).contains(&status), "message": abbreviate(message, 512)}),
        )
    }

    fn refusal(refusal: &Refusal) -> Self {
        let mut answer = Answer::message(refusal.status, &refusal.reason);
        if let (Some(id), Body::Json(body)) = (&refusal.blocking, &mut answer.body) {
            body["job"] = json!(id);
        }
        answer
    }
}

/// The outcome of `POST /benchmarks`.
#[derive(Debug, Clone, PartialEq)]
pub enum Requested {
    /// Recorded and queued.
    Accepted(BenchJob),
    /// Refused; nothing recorded.
    Refused(Refusal),
}

/// The intake over a store, a queue, the manager's wake-up and a clock.
pub struct Intake<'a, S, Q, W, C> {
    /// Jobs and locks.
    pub store: &'a S,
    /// The FIFO queue.
    pub queue: &'a Q,
    /// Wakes the manager's worker pool once a job is queued.
    pub waker: &'a W,
    /// The clock (for send retries).
    pub clock: &'a C,
    /// The `benchmarks` section.
    pub bench: &'a Benchmarks,
    /// SHA-256 of the ops token, when one is set.
    pub ops_digest: Option<[u8; 32]>,
}

impl<S: BenchStore, Q: BenchQueue, W: PoolWaker, C: Clock> Intake<'_, S, Q, W, C> {
    /// Answers a request on a benchmark route at `now`; `nonce` is fresh randomness for a new
    /// job id. `None` when the path is not a benchmark route.
    pub async fn handle(&self, now: Timestamp, nonce: u64, req: &Request<'_>) -> Option<Answer> {
        let rest = req.path.strip_prefix(PATH)?;
        let rest = match rest {
            "" | "/" => "",
            r if r.starts_with('/') => &r[1..],
            _ => return None,
        };
        Some(match (req.method, rest) {
            ("POST", "") => match self.request(now, nonce, req).await {
                Requested::Accepted(job) => Answer::json(
                    202,
                    json!({"id": job.id, "team": job.team, "status": job.status, "target": job.target}),
                ),
                Requested::Refused(refusal) => Answer::refusal(&refusal),
            },
            ("GET", "") => match self.reader(req) {
                Err(answer) => answer,
                Ok(Reader::Team(_)) => Answer::message(403, "listing jobs needs the ops token"),
                Ok(Reader::Ops) => {
                    let before = query_param(req.query, "before").and_then(BenchJobId::parse);
                    let limit = page_limit(query_param(req.query, "limit"));
                    match self.store.list(before.as_ref(), limit).await {
                        Ok((jobs, next)) => Answer::json(200, page_view(&jobs, next.as_ref())),
                        Err(e) => Answer::refusal(&unavailable(&e.to_string())),
                    }
                }
            },
            ("GET", "board") => match self.reader(req) {
                Err(answer) => answer,
                Ok(Reader::Team(_)) => Answer::message(403, "the board needs the ops token"),
                Ok(Reader::Ops) => match self.board(now).await {
                    Ok(html) => Answer {
                        status: 200,
                        body: Body::Html(html),
                    },
                    Err(e) => Answer::refusal(&unavailable(&e.to_string())),
                },
            },
            ("GET", id) if !id.contains('/') => match self.reader(req) {
                Err(answer) => answer,
                Ok(who) => {
                    let not_found = || Answer::message(404, "no such benchmark job");
                    let Some(id) = BenchJobId::parse(id) else {
                        return Some(not_found());
                    };
                    match self.store.get(&id).await {
                        Ok(Some(job)) if who.may_see(&job.team) => Answer::json(200, job.view()),
                        Ok(_) => not_found(),
                        Err(e) => Answer::refusal(&unavailable(&e.to_string())),
                    }
                }
            },
            (_, "") | (_, "board") => Answer::message(
                405,
                &format!("{} is not allowed here", abbreviate(req.method, 16)),
            ),
            _ => Answer::message(404, "no such benchmark route"),
        })
    }

    fn reader(&self, req: &Request<'_>) -> Result<Reader<'_>, Answer> {
        let token = bearer(req.authorization)
            .ok_or_else(|| Answer::message(401, "missing `Authorization: Bearer <token>`"))?;
        reader(&self.bench.teams, self.ops_digest.as_ref(), token)
            .ok_or_else(|| Answer::message(401, "unknown token"))
    }

    /// `POST /benchmarks`: admit, lock + record, queue; undo both when the queue fails.
    pub async fn request(&self, now: Timestamp, nonce: u64, req: &Request<'_>) -> Requested {
        let caller = Caller {
            token: bearer(req.authorization),
            source: req.source,
        };
        let (team, target) = match admit(self.bench, now, &caller) {
            Admission::Refuse(refusal) => return Requested::Refused(refusal),
            Admission::Accept { team, target } => (team, target),
        };
        let job = BenchJob::pending(BenchJobId::new(now, nonce), &team.id, &target, now);
        match self.store.create(&job).await {
            Err(e) => {
                tracing::error!(team = %team.id, error = %e, "benchmark store unavailable");
                return Requested::Refused(unavailable(&e.to_string()));
            }
            Ok(Created::Busy(holder)) => return Requested::Refused(busy(&team.id, holder)),
            Ok(Created::Recorded) => {}
        }
        match self.send(&BenchMessage::for_job(&job)).await {
            Ok(()) => {
                tracing::info!(job = %job.id, team = %job.team, "benchmark queued");
                // Once, no retries: the request is answered either way, and the tick tends the
                // pool within a minute if the wake-up is lost.
                if let Err(e) = self.waker.wake(&job.id).await {
                    tracing::warn!(job = %job.id, error = %e, "benchmark pool wake-up not sent; the tick tends the pool");
                }
                Requested::Accepted(job)
            }
            Err(e) => {
                tracing::error!(job = %job.id, error = %e, "benchmark queue unavailable; undoing the job");
                if let Err(undo) = self.store.discard(&job).await {
                    // The lock then names a pending job no worker will ever get; the sweeper
                    // cannot tell it from a queued one, so say so loudly.
                    tracing::error!(job = %job.id, team = %job.team, error = %undo, "could not undo a job that was never queued");
                }
                Requested::Refused(unavailable(&e.to_string()))
            }
        }
    }

    async fn send(&self, message: &BenchMessage) -> Result<(), PortError> {
        let mut pause = Duration::from_millis(100);
        let mut attempt = 1;
        loop {
            match self.queue.send(message).await {
                Ok(()) => return Ok(()),
                Err(e) if !e.retryable || attempt >= SEND_ATTEMPTS => return Err(e),
                Err(_) => {
                    self.clock.sleep(pause).await;
                    pause *= 3;
                    attempt += 1;
                }
            }
        }
    }

    /// The board's HTML at `now`.
    ///
    /// # Errors
    ///
    /// The store's failure.
    pub async fn board(&self, now: Timestamp) -> Result<String, PortError> {
        let ids: Vec<String> = self.bench.teams.iter().map(|t| t.id.clone()).collect();
        let locks = self.store.teams(&ids).await?;
        let rows: Vec<_> = locks.into_iter().map(|l| l.row).collect();
        Ok(render(self.bench, &rows, now))
    }
}

/// The value of `key` in a URL query (no percent-decoding: our values are ids and numbers).
fn query_param<'q>(query: Option<&'q str>, key: &str) -> Option<&'q str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}
