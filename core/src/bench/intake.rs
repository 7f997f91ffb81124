//! `POST /benchmarks`: who asks, whether now, and what gets benchmarked.
//!
//! Checked in this order, so the answer never tells an unknown caller more than "401": the
//! token (401), the window (403), with `target: source_ip` the caller's address (403). What
//! only the store can tell (the team's lock: 409; an unreachable store or queue: 503) has its
//! refusal built here too, so every answer's status and wording live in one place.

use std::net::IpAddr;

use rc_config::{Benchmarks, TargetMode, Team};

use crate::bench::auth::team_for_token;
use crate::bench::BenchJobId;
use crate::bounded::{abbreviate, ECHO_CHARS};
use crate::Timestamp;

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller<'a> {
    /// The bearer token, if one was sent.
    pub token: Option<&'a str>,
    /// The caller's address (Function URL source IP, socket peer, or the trusted proxy's
    /// header), if known.
    pub source: Option<IpAddr>,
}

/// A refused request: its HTTP status and the reason shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status: 401, 403, 409 or 503.
    pub status: u16,
    /// Why, in words.
    pub reason: String,
    /// The team's job that blocks this one (409 only).
    pub blocking: Option<BenchJobId>,
}

impl Refusal {
    fn new(status: u16, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
            blocking: None,
        }
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Admission<'a> {
    /// Record and queue a job for this team against this target.
    Accept {
        /// The team.
        team: &'a Team,
        /// The server to benchmark.
        target: String,
    },
    /// Answer with this and record nothing.
    Refuse(Refusal),
}

/// Decides a `POST /benchmarks` request at `now`.
pub fn admit<'a>(bench: &'a Benchmarks, now: Timestamp, caller: &Caller<'_>) -> Admission<'a> {
    let Some(token) = caller.token else {
        return Admission::Refuse(Refusal::new(
            401,
            "missing `Authorization: Bearer <team token>`",
        ));
    };
    let Some(team) = team_for_token(&bench.teams, token) else {
        return Admission::Refuse(Refusal::new(401, "unknown team token"));
    };
    if let Some(window) = &bench.window {
        let at = now.to_datetime();
        if at < window.from {
            return Admission::Refuse(Refusal::new(
                403,
                format!("benchmarks open at {}", window.from.to_rfc3339()),
            ));
        }
        if at >= window.to {
            return Admission::Refuse(Refusal::new(
                403,
                format!("benchmarks closed at {}", window.to.to_rfc3339()),
            ));
        }
    }
    let target =
        match bench.target {
            TargetMode::Registered => team.target.clone(),
            TargetMode::SourceIp => {
                let registered = team.target.parse::<IpAddr>().ok().map(canonical);
                match caller.source.map(canonical) {
                    Some(source) if Some(source) == registered => source.to_string(),
                    Some(source) => {
                        return Admission::Refuse(Refusal::new(
                            403,
                            format!(
                                "requests for team {} must come from its server, not {}",
                                team.id,
                                abbreviate(&source.to_string(), ECHO_CHARS)
                            ),
                        ))
                    }
                    None => return Admission::Refuse(Refusal::new(
                        403,
                        "the caller's address is unknown, and this contest benchmarks the caller",
                    )),
                }
            }
        };
    Admission::Accept { team, target }
}

/// The 409 for a team that already has a pending or running job (`None`: it ended meanwhile
/// but the lock was not yet free).
pub fn busy(team: &str, blocking: Option<BenchJobId>) -> Refusal {
    let reason = match &blocking {
        Some(id) => format!("team {team} already has job {id} pending or running"),
        None => format!("team {team} already has a job pending or running"),
    };
    Refusal {
        status: 409,
        reason,
        blocking,
    }
}

/// The 503 when the store or the queue could not be reached; nothing was recorded.
pub fn unavailable(detail: &str) -> Refusal {
    Refusal::new(
        503,
        format!(
            "benchmark queue unavailable, nothing recorded; try again: {}",
            abbreviate(detail, 200)
        ),
    )
}

/// The caller's address from a trusted proxy's header: the first (client-most) entry of an
/// `X-Forwarded-For`-style list. `None` when absent or not an address.
pub fn forwarded_address(header: Option<&str>) -> Option<IpAddr> {
    header?.split(',').next()?.trim().parse().ok()
}

/// IPv4-mapped IPv6 addresses (dual-stack sockets) compare as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::auth::token_digest;

    fn bench(mode: TargetMode) -> Benchmarks {
        let text = format!(
            "github: {{scope: org, name: acme}}
classes:
  - {{name: d, labels: [self-hosted], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 2}}
benchmarks:
  window: {{from: 2026-12-10T10:00:00+09:00, to: 2026-12-10T18:00:00+09:00}}
  target: {mode}
  teams:
    - {{id: team-01, token_sha256: {}, target: 192.0.2.10}}
  pool: {{task_definition: b, cpu: 1024, memory: 2048, capacity_provider: cp, max_workers: 2, deadline: 90s, command: [run]}}
",
            crate::bench::to_hex(&token_digest("secret-01"))
        );
        rc_config::parse(&text)
            .expect("valid")
            .benchmarks
            .expect("section")
    }

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::from_datetime(
            chrono::DateTime::parse_from_rfc3339(rfc3339)
                .expect("time")
                .to_utc(),
        )
    }

    fn status(a: &Admission<'_>) -> u16 {
        match a {
            Admission::Accept { .. } => 202,
            Admission::Refuse(r) => r.status,
        }
    }

    #[test]
    fn tokens_then_window_then_address() {
        let b = bench(TargetMode::Registered);
        let open = at("2026-12-10T12:00:00+09:00");
        let caller = |token| Caller {
            token,
            source: None,
        };
        assert_eq!(status(&admit(&b, open, &caller(None))), 401);
        assert_eq!(status(&admit(&b, open, &caller(Some("wrong")))), 401);
        // An unknown token outside the window still learns only 401.
        assert_eq!(
            status(&admit(
                &b,
                at("2026-12-09T12:00:00Z"),
                &caller(Some("wrong"))
            )),
            401
        );
        assert_eq!(
            status(&admit(
                &b,
                at("2026-12-10T09:59:59+09:00"),
                &caller(Some("secret-01"))
            )),
            403
        );
        assert_eq!(
            status(&admit(
                &b,
                at("2026-12-10T18:00:00+09:00"),
                &caller(Some("secret-01"))
            )),
            403
        );
        match admit(&b, open, &caller(Some("secret-01"))) {
            Admission::Accept { team, target } => {
                assert_eq!(team.id, "team-01");
                assert_eq!(target, "192.0.2.10");
            }
            other => panic!("expected acceptance, got {other:?}"),
        }
    }

    #[test]
    fn source_ip_mode_benchmarks_the_caller_only_from_its_server() {
        let b = bench(TargetMode::SourceIp);
        let open = at("2026-12-10T12:00:00+09:00");
        let from = |ip: &str| Caller {
            token: Some("secret-01"),
            source: Some(ip.parse().expect("ip")),
        };
        assert_eq!(status(&admit(&b, open, &from("192.0.2.99"))), 403);
        assert_eq!(
            status(&admit(
                &b,
                open,
                &Caller {
                    token: Some("secret-01"),
                    source: None
                }
            )),
            403
        );
        match admit(&b, open, &from("::ffff:192.0.2.10")) {
            Admission::Accept { target, .. } => assert_eq!(target, "192.0.2.10"),
            other => panic!("expected acceptance, got {other:?}"),
        }
    }

    #[test]
    fn proxy_headers_give_the_client_most_address() {
        assert_eq!(
            forwarded_address(Some("203.0.113.5, 10.0.0.1")),
            "203.0.113.5".parse().ok()
        );
        assert_eq!(forwarded_address(Some("garbage")), None);
        assert_eq!(forwarded_address(None), None);
    }

    #[test]
    fn refusals_name_what_blocks() {
        let id = BenchJobId::new(Timestamp(1), 1);
        let r = busy("team-01", Some(id.clone()));
        assert_eq!(r.status, 409);
        assert!(r.reason.contains(id.as_str()));
        assert_eq!(unavailable(&"x".repeat(10_000)).status, 503);
        assert!(unavailable(&"x".repeat(10_000)).reason.len() < 400);
    }
}
