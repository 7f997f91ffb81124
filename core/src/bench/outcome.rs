//! A finished run → the job's result.
//!
//! Contract: exit 0 is `passed`, anything else `failed`; killed at the deadline is `timeout`.
//! The score is the last stdout line that is a JSON object with a numeric `score`; its `passed`
//! and `message`, when present, override the exit status and fill `reason`. A benchmarker that
//! dies by a signal, prints nothing or prints only noise is `failed` with a reason saying so —
//! exit 0 without a score line included, because a result without a score is not a result.

use std::time::Duration;

use crate::bench::JobStatus;
use crate::bounded::abbreviate;

/// Most characters of stderr repeated in a reason.
const STDERR_ECHO_CHARS: usize = 200;

/// How a benchmarker process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this status.
    Code(i32),
    /// A signal it did not get from us ended it.
    Signal(i32),
    /// We killed it at the deadline (SIGTERM, then SIGKILL after the grace period).
    TimedOut,
    /// It could not be started.
    SpawnFailed(String),
}

/// What the agent observed of one run: the exit and the tail of each stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// How it ended.
    pub exit: Exit,
    /// The last bytes (at most 4 KB) of stdout, lossily decoded.
    pub stdout_tail: String,
    /// The last bytes (at most 4 KB) of stderr, lossily decoded.
    pub stderr_tail: String,
}

/// A job's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `passed`, `failed`, `timeout` or `errored`.
    pub status: JobStatus,
    /// The score, when the benchmarker printed one and was not killed.
    pub score: Option<f64>,
    /// Whether it passed.
    pub passed: bool,
    /// Why, when there is something to say.
    pub reason: Option<String>,
}

impl Outcome {
    /// An `errored` result: the job never ran to an end we saw.
    pub fn errored(reason: impl Into<String>) -> Self {
        Outcome {
            status: JobStatus::Errored,
            score: None,
            passed: false,
            reason: Some(reason.into()),
        }
    }

    fn failed(reason: String) -> Self {
        Outcome {
            status: JobStatus::Failed,
            score: None,
            passed: false,
            reason: Some(reason),
        }
    }
}

/// The score line's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreLine {
    /// `score`.
    pub score: f64,
    /// `passed`, if present and a boolean.
    pub passed: Option<bool>,
    /// `message`, if present and a string.
    pub message: Option<String>,
}

/// The last stdout line that is a JSON object with a numeric `score`.
pub fn score_line(stdout: &str) -> Option<ScoreLine> {
    stdout.lines().rev().find_map(|line| {
        let line = line.trim();
        if !line.starts_with('{') {
            return None;
        }
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        let object = value.as_object()?;
        let score = object.get("score")?.as_f64()?;
        Some(ScoreLine {
            score,
            passed: object.get("passed").and_then(serde_json::Value::as_bool),
            message: object
                .get("message")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
        })
    })
}

/// Judges a run that had `deadline` to finish.
pub fn judge(report: &RunReport, deadline: Duration) -> Outcome {
    let stderr_hint = || {
        report
            .stderr_tail
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| format!("; stderr: {}", abbreviate(l.trim(), STDERR_ECHO_CHARS)))
            .unwrap_or_default()
    };
    match &report.exit {
        Exit::TimedOut => Outcome {
            status: JobStatus::Timeout,
            score: None,
            passed: false,
            reason: Some(format!(
                "killed at the {} deadline",
                humanize(deadline)
            )),
        },
        Exit::SpawnFailed(e) => Outcome::failed(format!(
            "the benchmarker could not be started: {}",
            abbreviate(e, STDERR_ECHO_CHARS)
        )),
        Exit::Signal(signal) => Outcome::failed(format!(
            "the benchmarker was killed by signal {signal}{}",
            stderr_hint()
        )),
        Exit::Code(code) => match score_line(&report.stdout_tail) {
            Some(line) => {
                let passed = line.passed.unwrap_or(*code == 0);
                let reason = line.message.or_else(|| {
                    (!passed).then(|| format!("exited with status {code}{}", stderr_hint()))
                });
                Outcome {
                    status: if passed {
                        JobStatus::Passed
                    } else {
                        JobStatus::Failed
                    },
                    score: Some(line.score),
                    passed,
                    reason,
                }
            }
            None if report.stdout_tail.trim().is_empty() => Outcome::failed(format!(
                "exited with status {code} and printed nothing on stdout{}",
                stderr_hint()
            )),
            None => Outcome::failed(format!(
                "exited with status {code} without a score line (a JSON object with a numeric `score`) on stdout{}",
                stderr_hint()
            )),
        },
    }
}

fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DEADLINE: Duration = Duration::from_secs(90);

    fn run(exit: Exit, stdout: &str, stderr: &str) -> Outcome {
        judge(
            &RunReport {
                exit,
                stdout_tail: stdout.into(),
                stderr_tail: stderr.into(),
            },
            DEADLINE,
        )
    }

    #[test]
    fn exit_zero_with_a_score_passes() {
        let o = run(Exit::Code(0), "warming up\n{\"score\": 1234}\nbye\n", "");
        assert_eq!(o.status, JobStatus::Passed);
        assert_eq!(o.score, Some(1234.0));
        assert_eq!(o.reason, None);
    }

    #[test]
    fn the_score_line_overrides_the_exit_status() {
        let o = run(
            Exit::Code(0),
            r#"{"score": 10, "passed": false, "message": "consistency check failed"}"#,
            "",
        );
        assert_eq!(
            (o.status, o.score, o.reason.as_deref()),
            (
                JobStatus::Failed,
                Some(10.0),
                Some("consistency check failed")
            )
        );
        let o = run(Exit::Code(3), r#"{"score": 7.5, "passed": true}"#, "");
        assert_eq!((o.status, o.score), (JobStatus::Passed, Some(7.5)));
    }

    #[test]
    fn the_last_score_line_wins_and_non_numeric_scores_do_not_count() {
        let o = run(
            Exit::Code(0),
            "{\"score\": 1}\n{\"score\": 2}\n{\"score\": \"3\"}\n[1]\n",
            "",
        );
        assert_eq!(o.score, Some(2.0));
    }

    #[test]
    fn crashes_fail_with_a_reason() {
        let o = run(Exit::Signal(11), "{\"score\": 5}", "segfault here\n");
        assert_eq!(o.status, JobStatus::Failed);
        assert_eq!(o.score, None);
        assert!(o
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("signal 11") && r.contains("segfault here")));
        let o = run(Exit::Code(0), "", "");
        assert_eq!(o.status, JobStatus::Failed);
        assert!(o
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("printed nothing")));
        let o = run(Exit::Code(1), "\u{0}\u{7f}garbage{{{\n", "panic: boom");
        assert!(o
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("without a score line") && r.contains("panic: boom")));
        let o = run(
            Exit::SpawnFailed("No such file or directory".into()),
            "",
            "",
        );
        assert_eq!(o.status, JobStatus::Failed);
    }

    #[test]
    fn a_timeout_is_a_timeout_whatever_was_printed() {
        let o = run(Exit::TimedOut, "{\"score\": 99999}", "");
        assert_eq!(
            (o.status, o.score, o.passed),
            (JobStatus::Timeout, None, false)
        );
        assert!(o.reason.as_deref().is_some_and(|r| r.contains("90s")));
    }

    proptest! {
        #[test]
        fn any_output_gives_a_bounded_verdict(code in -1i32..256, out in ".{0,300}", err in ".{0,300}") {
            let o = run(Exit::Code(code), &out, &err);
            prop_assert!(matches!(o.status, JobStatus::Passed | JobStatus::Failed));
            prop_assert_eq!(o.status == JobStatus::Passed, o.passed);
            if !o.passed && o.reason.is_none() { prop_assert!(false, "a failure always says why"); }
            prop_assert!(o.reason.map_or(0, |r| r.chars().count()) < 1200);
        }
    }
}
