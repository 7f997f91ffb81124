//! The `benchmarks` section's schema walk: the same checker, the same file:line:col problems.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use marked_yaml::Node;

use super::{span_pos, Checker};
use crate::bench::{BenchPool, BenchWindow, Benchmarks, PortalConfig, TargetMode, Team};

const BENCH_KEYS: &[&str] = &[
    "window",
    "target",
    "teams",
    "pool",
    "stale_after",
    "portal",
    "trusted_proxy_header",
];
const WINDOW_KEYS: &[&str] = &["from", "to"];
const TEAM_KEYS: &[&str] = &["id", "token_sha256", "target"];
const POOL_KEYS: &[&str] = &[
    "task_definition",
    "container",
    "cpu",
    "memory",
    "capacity_provider",
    "max_workers",
    "deadline",
    "command",
    "idle_exit",
    "warm",
];
const PORTAL_KEYS: &[&str] = &["url"];

/// Longest deadline: a run's message stays invisible while it runs, and the agent extends it
/// in steps well inside SQS's 12-hour visibility limit; an hour is far beyond any contest's run.
const MAX_DEADLINE: Duration = Duration::from_secs(3600);
/// Shortest `stale_after`: the agent heartbeats every quarter of it, and a heartbeat is two
/// AWS calls that must fit.
const MIN_STALE_AFTER: Duration = Duration::from_secs(8);
/// More teams than any contest has; keeps the board and the sweeper's reads small.
const MAX_TEAMS: usize = 1000;

impl Checker {
    pub(super) fn benchmarks(&mut self, node: &Node) -> Option<Benchmarks> {
        let f = self.fields(node, "benchmarks", BENCH_KEYS)?;
        let window = match f.get("window") {
            Some(n) => self.bench_window(n).map(Some),
            None => Some(None),
        };
        let target = match f.get("target") {
            None => Some(TargetMode::default()),
            Some(n) => match self.string(n, "benchmarks.target").as_deref() {
                Some("registered") => Some(TargetMode::Registered),
                Some("source_ip") => Some(TargetMode::SourceIp),
                Some(other) => {
                    self.report(
                        n.span(),
                        format!("benchmarks.target `{other}` must be one of registered, source_ip"),
                    );
                    None
                }
                None => None,
            },
        };
        let teams = self
            .required(&f, "teams")
            .and_then(|n| self.teams(n, target));
        let pool = self.required(&f, "pool").and_then(|n| self.pool(n));
        let stale_after = match f.get("stale_after") {
            None => Some(Duration::from_secs(180)),
            Some(n) => match self.duration(n, "benchmarks.stale_after") {
                Some(d) if d < MIN_STALE_AFTER => {
                    self.report(n.span(), "benchmarks.stale_after must be at least 8s");
                    None
                }
                other => other,
            },
        };
        let portal = match f.get("portal") {
            None => Some(None),
            Some(n) => self.portal(n).map(Some),
        };
        let trusted_proxy_header = match f.get("trusted_proxy_header") {
            None => Some(None),
            Some(n) => {
                let name = self.string(n, "benchmarks.trusted_proxy_header")?;
                let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
                if !valid {
                    self.report(
                        n.span(),
                        format!("trusted_proxy_header `{name}` is not an HTTP header name"),
                    );
                    return None;
                }
                Some(Some(name.to_ascii_lowercase()))
            }
        };
        Some(Benchmarks {
            window: window?,
            target: target?,
            teams: teams?,
            pool: pool?,
            stale_after: stale_after?,
            portal: portal?,
            trusted_proxy_header: trusted_proxy_header?,
        })
    }

    fn bench_window(&mut self, node: &Node) -> Option<BenchWindow> {
        let f = self.fields(node, "benchmarks.window", WINDOW_KEYS)?;
        let from = self
            .required(&f, "from")
            .and_then(|n| self.instant(n, "window.from"));
        let to_node = self.required(&f, "to");
        let to = to_node.and_then(|n| self.instant(n, "window.to"));
        let (from, to) = (from?, to?);
        if to <= from {
            self.report(
                to_node.expect("to parsed, so present").span(),
                format!("window.to ({to}) is not after window.from ({from})"),
            );
            return None;
        }
        Some(BenchWindow { from, to })
    }

    fn instant(&mut self, node: &Node, what: &str) -> Option<DateTime<FixedOffset>> {
        let s = self.scalar(node, what)?;
        let parsed = DateTime::parse_from_rfc3339(s.as_str());
        if parsed.is_err() {
            self.report(
                node.span(),
                format!(
                    "{what} `{}` is not an RFC 3339 time like 2026-12-10T10:00:00+09:00",
                    s.as_str()
                ),
            );
        }
        parsed.ok()
    }

    fn teams(&mut self, node: &Node, mode: Option<TargetMode>) -> Option<Vec<Team>> {
        let Some(seq) = node.as_sequence() else {
            self.report(node.span(), "benchmarks.teams must be a list");
            return None;
        };
        if seq.is_empty() || seq.len() > MAX_TEAMS {
            self.report(
                node.span(),
                format!("benchmarks.teams must list 1 to {MAX_TEAMS} teams"),
            );
            return None;
        }
        let parsed: Vec<Option<Team>> = seq.iter().map(|t| self.team(t, mode)).collect();
        let mut ok = parsed.iter().all(Option::is_some);
        let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
        let mut digests: BTreeMap<[u8; 32], usize> = BTreeMap::new();
        for (team, item) in parsed.iter().zip(seq.iter()) {
            let Some(team) = team else { continue };
            let (line, _) = span_pos(item.span());
            if let Some(first) = ids.insert(&team.id, line) {
                self.report(
                    item.span(),
                    format!(
                        "duplicate team id `{}` (first defined on line {first})",
                        team.id
                    ),
                );
                ok = false;
            }
            if let Some(first) = digests.insert(team.token_sha256, line) {
                self.report(
                    item.span(),
                    format!(
                        "team `{}` has the same token_sha256 as the team on line {first}",
                        team.id
                    ),
                );
                ok = false;
            }
        }
        ok.then(|| parsed.into_iter().flatten().collect())
    }

    fn team(&mut self, node: &Node, mode: Option<TargetMode>) -> Option<Team> {
        let f = self.fields(node, "a team", TEAM_KEYS)?;
        let id = self.required(&f, "id").and_then(|n| {
            let id = self.string(n, "team id")?;
            let valid = id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
            if !valid {
                self.report(
                    n.span(),
                    format!("team id `{id}` must be at most 64 letters, digits, `-` or `_`"),
                );
                return None;
            }
            Some(id)
        });
        let digest = self.required(&f, "token_sha256").and_then(|n| {
            let text = self.string(n, "token_sha256")?;
            let digest = parse_digest(&text);
            if digest.is_none() {
                self.report(
                    n.span(),
                    "token_sha256 must be 64 hex digits: the SHA-256 of the team's token (e.g. `printf %s TOKEN | sha256sum`)",
                );
            }
            digest
        });
        let target = self.required(&f, "target").and_then(|n| {
            let target = self.string(n, "team target")?;
            let bad_host = target.len() > 253
                || !target
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:_[]".contains(c));
            if bad_host {
                self.report(
                    n.span(),
                    format!("team target `{target}` must be an address or a host name"),
                );
                return None;
            }
            if mode == Some(TargetMode::SourceIp) && target.parse::<IpAddr>().is_err() {
                self.report(
                    n.span(),
                    format!(
                        "team target `{target}` must be an IP address when benchmarks.target is source_ip"
                    ),
                );
                return None;
            }
            Some(target)
        });
        Some(Team {
            id: id?,
            token_sha256: digest?,
            target: target?,
        })
    }

    fn pool(&mut self, node: &Node) -> Option<BenchPool> {
        let f = self.fields(node, "benchmarks.pool", POOL_KEYS)?;
        let task_definition = self
            .required(&f, "task_definition")
            .and_then(|n| self.string(n, "pool.task_definition"));
        let container = match f.get("container") {
            Some(n) => self.string(n, "pool.container"),
            None => Some("bench".to_string()),
        };
        let capacity_provider = self
            .required(&f, "capacity_provider")
            .and_then(|n| self.string(n, "pool.capacity_provider"));
        let size = self.task_size(&f, capacity_provider.as_deref());
        let max_workers = self
            .required(&f, "max_workers")
            .and_then(|n| self.number(n, "pool.max_workers", 1..=10_000));
        let deadline =
            self.required(&f, "deadline")
                .and_then(|n| match self.duration(n, "pool.deadline") {
                    Some(d) if d > MAX_DEADLINE => {
                        self.report(n.span(), "pool.deadline must be at most 1h");
                        None
                    }
                    other => other,
                });
        let command = self.required(&f, "command").and_then(|n| {
            let items = self.string_list(n, "a command argument")?;
            if items.is_empty() {
                self.report(n.span(), "pool.command must not be empty");
                return None;
            }
            Some(items.into_iter().map(|(s, _)| s).collect::<Vec<_>>())
        });
        let idle_exit = match f.get("idle_exit") {
            Some(n) => self.duration(n, "pool.idle_exit"),
            None => Some(Duration::from_secs(300)),
        };
        let warm = match f.get("warm") {
            Some(n) => self.windows(n, max_workers),
            None => Some(Vec::new()),
        };
        Some(BenchPool {
            task_definition: task_definition?,
            container: container?,
            size: size?,
            capacity_provider: capacity_provider?,
            max_workers: max_workers?,
            deadline: deadline?,
            command: command?,
            idle_exit: idle_exit?,
            warm: warm?,
        })
    }

    fn portal(&mut self, node: &Node) -> Option<PortalConfig> {
        let f = self.fields(node, "benchmarks.portal", PORTAL_KEYS)?;
        let n = self.required(&f, "url")?;
        let url = self.string(n, "portal.url")?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            self.report(
                n.span(),
                format!("portal.url `{url}` must start with https:// (or http:// for local tests)"),
            );
            return None;
        }
        Some(PortalConfig { url })
    }
}

fn parse_digest(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
