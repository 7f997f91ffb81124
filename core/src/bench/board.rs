//! What ops see: list pages of jobs and the board, both bounded however many jobs exist.
//!
//! The board is one row per configured team (its queued or running job and its latest result),
//! never the history: a contest of 50 teams has a 50-row board at 10 results or at 10,000.
//! Every string from a job is cut and HTML-escaped before it reaches the page.

use std::fmt::Write;

use rc_config::Benchmarks;

use crate::bench::{BenchJob, BenchJobId};
use crate::bounded::abbreviate;
use crate::Timestamp;

/// Jobs per list page unless asked otherwise.
pub const DEFAULT_PAGE: usize = 20;
/// Most jobs per list page.
pub const MAX_PAGE: usize = 100;
/// Characters of a reason shown on the board.
const BOARD_REASON_CHARS: usize = 80;

/// The page size asked for in `?limit=`, within bounds.
pub fn page_limit(requested: Option<&str>) -> usize {
    requested
        .and_then(|l| l.parse::<usize>().ok())
        .map_or(DEFAULT_PAGE, |l| l.clamp(1, MAX_PAGE))
}

/// One page of jobs, newest first, strictly older than `before`: what a store returns from all
/// the jobs it read. Sorted by id, which sorts by queue time.
pub fn page(
    mut jobs: Vec<BenchJob>,
    before: Option<&BenchJobId>,
    limit: usize,
) -> (Vec<BenchJob>, Option<BenchJobId>) {
    jobs.retain(|j| before.is_none_or(|b| j.id < *b));
    jobs.sort_by(|a, b| b.id.cmp(&a.id));
    let more = jobs.len() > limit;
    jobs.truncate(limit);
    let next = more.then(|| jobs.last().map(|j| j.id.clone())).flatten();
    (jobs, next)
}

/// A page as `GET /benchmarks` answers it.
pub fn page_view(jobs: &[BenchJob], next: Option<&BenchJobId>) -> serde_json::Value {
    serde_json::json!({
        "jobs": jobs.iter().map(BenchJob::view).collect::<Vec<_>>(),
        "next": next,
    })
}

/// One team's row: what it has in flight and how its latest run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamRow {
    /// Team id.
    pub team: String,
    /// Its pending or running job.
    pub active: Option<BenchJob>,
    /// Its latest finished job.
    pub last: Option<BenchJob>,
}

/// The board's HTML at `now`: queue, running jobs and the latest result per team, one row per
/// configured team (rows for unknown teams are dropped, so the page is bounded by the config).
pub fn render(bench: &Benchmarks, rows: &[TeamRow], now: Timestamp) -> String {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Benchmarks</title>\
         <style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}</style>\
         </head><body>",
    );
    let row_of = |team: &str| rows.iter().find(|r| r.team == team);
    let mut queued: Vec<&BenchJob> = Vec::new();
    let mut running: Vec<&BenchJob> = Vec::new();
    for team in &bench.teams {
        if let Some(job) = row_of(&team.id).and_then(|r| r.active.as_ref()) {
            if job.status == crate::bench::JobStatus::Running {
                running.push(job)
            } else {
                queued.push(job)
            }
        }
    }
    queued.sort_by(|a, b| a.id.cmp(&b.id));
    running.sort_by(|a, b| a.id.cmp(&b.id));
    let _ = write!(html, "<h1>Benchmarks</h1><p>as of {now}</p>");
    let _ = write!(
        html,
        "<h2>Queue ({})</h2><table><tr><th>#</th><th>team</th><th>job</th><th>waiting</th></tr>",
        queued.len()
    );
    for (i, job) in queued.iter().enumerate() {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}s</td></tr>",
            i + 1,
            escape(&job.team),
            escape(job.id.as_str()),
            job.age(now).as_secs()
        );
    }
    let _ = write!(html, "</table><h2>Running ({})</h2><table><tr><th>team</th><th>job</th><th>running for</th></tr>", running.len());
    for job in &running {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}s</td></tr>",
            escape(&job.team),
            escape(job.id.as_str()),
            job.age(now).as_secs()
        );
    }
    html.push_str("</table><h2>Latest result per team</h2><table><tr><th>team</th><th>status</th><th>score</th><th>finished</th><th>reason</th></tr>");
    for team in &bench.teams {
        let last = row_of(&team.id).and_then(|r| r.last.as_ref());
        match last {
            None => {
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>-</td><td></td><td></td><td></td></tr>",
                    escape(&team.id)
                );
            }
            Some(job) => {
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&team.id),
                    job.status,
                    job.score.map(|s| s.to_string()).unwrap_or_default(),
                    job.finished_at.map(|t| t.to_string()).unwrap_or_default(),
                    escape(&abbreviate(
                        job.reason.as_deref().unwrap_or(""),
                        BOARD_REASON_CHARS
                    )),
                );
            }
        }
    }
    html.push_str("</table></body></html>");
    html
}

/// `text` safe to place in HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::auth::token_digest;
    use crate::bench::outcome::Outcome;
    use proptest::prelude::*;

    fn job(at: i64, team: &str) -> BenchJob {
        BenchJob::pending(
            BenchJobId::new(Timestamp(at), at as u64),
            team,
            "h",
            Timestamp(at),
        )
    }

    fn bench(teams: usize) -> Benchmarks {
        let mut text = String::from("github: {scope: org, name: acme}
classes:
  - {name: d, labels: [self-hosted], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 2}
benchmarks:
  teams:
");
        for i in 0..teams {
            let _ = writeln!(
                text,
                "    - {{id: team-{i}, token_sha256: {}, target: h{i}}}",
                crate::bench::to_hex(&token_digest(&format!("tok{i}")))
            );
        }
        text.push_str("  pool: {task_definition: b, cpu: 1024, memory: 2048, capacity_provider: cp, max_workers: 2, deadline: 90s, command: [run]}\n");
        rc_config::parse(&text)
            .expect("valid")
            .benchmarks
            .expect("section")
    }

    #[test]
    fn pages_are_newest_first_and_chain() {
        let jobs: Vec<BenchJob> = (1..=45).map(|i| job(i, "t")).collect();
        let (first, next) = page(jobs.clone(), None, 20);
        assert_eq!(first.len(), 20);
        assert_eq!(first[0].queued_at, Timestamp(45));
        let (second, next) = page(jobs.clone(), next.as_ref(), 20);
        assert_eq!(second[0].queued_at, Timestamp(25));
        let (third, next) = page(jobs, next.as_ref(), 20);
        assert_eq!(third.len(), 5);
        assert_eq!(next, None);
        assert_eq!(page_limit(Some("100000")), MAX_PAGE);
        assert_eq!(page_limit(Some("x")), DEFAULT_PAGE);
        assert_eq!(page_limit(Some("0")), 1);
    }

    #[test]
    fn the_board_escapes_and_stays_small() {
        let b = bench(50);
        let mut rows = Vec::new();
        for (i, team) in b.teams.iter().enumerate() {
            let mut last = job(i as i64, &team.id).start(Timestamp(1)).expect("starts");
            last = last
                .finish(
                    &Outcome::errored(format!("<script>alert({i})</script>{}", "x".repeat(10_000))),
                    Timestamp(2),
                )
                .expect("ends");
            rows.push(TeamRow {
                team: team.id.clone(),
                active: Some(job(100 + i as i64, &team.id)),
                last: Some(last),
            });
        }
        rows.push(TeamRow {
            team: "intruder".into(),
            active: Some(job(1, "intruder")),
            last: None,
        });
        let html = render(&b, &rows, Timestamp(10_000));
        assert!(!html.contains("<script>"));
        assert!(!html.contains("intruder"));
        assert!(html.contains("Queue (50)"));
        assert!(html.len() < 50 * 600, "{} bytes", html.len());
    }

    proptest! {
        #[test]
        fn escaped_text_has_no_markup(text in ".{0,200}") {
            let e = escape(&text);
            prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains('"'));
        }
    }
}
