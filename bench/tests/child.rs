//! The child-process benchmarker with real processes: pass, fail, garbage, crashes, a process
//! that ignores SIGTERM, one that outlives the deadline, one that floods its output.
#![cfg(feature = "process")]

use std::time::{Duration, Instant};

use rc_bench::child::{run, TAIL_BYTES};
use rc_bench::RunSpec;
use rc_core::bench::outcome::{judge, Exit};
use rc_core::bench::JobStatus;

fn sh(script: &str, deadline: Duration) -> RunSpec {
    RunSpec {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
        env: vec![("RC_BENCH_TARGET".into(), "192.0.2.10".into())],
        deadline,
        kill_grace: Duration::from_secs(5),
    }
}

const LONG: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_passing_run_reports_its_score_and_sees_its_target() {
    let report = run(&sh(
        r#"echo "benchmarking $RC_BENCH_TARGET"; echo '{"score": 321}'"#,
        LONG,
    ))
    .await;
    assert_eq!(report.exit, Exit::Code(0));
    assert!(report.stdout_tail.contains("benchmarking 192.0.2.10"));
    let outcome = judge(&report, LONG);
    assert_eq!(
        (outcome.status, outcome.score),
        (JobStatus::Passed, Some(321.0))
    );
}

#[tokio::test]
async fn failures_garbage_and_crashes_are_failed_with_a_reason() {
    let failed = judge(
        &run(&sh("echo '{\"score\": 5}'; echo oops >&2; exit 2", LONG)).await,
        LONG,
    );
    assert_eq!(
        (failed.status, failed.score),
        (JobStatus::Failed, Some(5.0))
    );
    assert!(failed
        .reason
        .as_deref()
        .is_some_and(|r| r.contains("status 2") && r.contains("oops")));

    let garbage = judge(
        &run(&sh("head -c 3000 /dev/urandom; exit 0", LONG)).await,
        LONG,
    );
    assert_eq!(garbage.status, JobStatus::Failed);

    let silent = judge(&run(&sh("exit 0", LONG)).await, LONG);
    assert!(silent
        .reason
        .as_deref()
        .is_some_and(|r| r.contains("printed nothing")));

    let crashed = run(&sh("kill -SEGV $$", LONG)).await;
    assert_eq!(crashed.exit, Exit::Signal(11));
    assert_eq!(judge(&crashed, LONG).status, JobStatus::Failed);

    let missing = run(&RunSpec {
        argv: vec!["/nonexistent/bench".into()],
        ..sh("", LONG)
    })
    .await;
    assert!(matches!(missing.exit, Exit::SpawnFailed(_)));
}

#[tokio::test]
async fn a_run_past_its_deadline_is_terminated() {
    let deadline = Duration::from_secs(2);
    let started = Instant::now();
    let report = run(&sh("echo started; sleep 30", deadline)).await;
    assert_eq!(report.exit, Exit::TimedOut);
    assert!(started.elapsed() < deadline + Duration::from_secs(6));
    assert_eq!(judge(&report, deadline).status, JobStatus::Timeout);
}

#[tokio::test]
async fn sigterm_is_followed_by_sigkill_for_the_whole_group() {
    let deadline = Duration::from_secs(1);
    let pidfile = tempfile_path();
    // The shell ignores SIGTERM and so does its background child, which would outlive it.
    let script = format!("trap '' TERM; (trap '' TERM; sleep 60) & echo $! > {pidfile}; while true; do sleep 1; done");
    let started = Instant::now();
    let report = run(&sh(&script, deadline)).await;
    assert_eq!(report.exit, Exit::TimedOut);
    assert!(started.elapsed() < deadline + Duration::from_secs(6));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("pid")
        .trim()
        .parse()
        .expect("a pid");
    // The grandchild is gone too (or a zombie reaped by init shortly): never still sleeping.
    std::thread::sleep(Duration::from_millis(200));
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false);
    assert!(!alive, "the background process outlived the run");
    let _ = std::fs::remove_file(pidfile);
}

#[tokio::test]
async fn a_flood_of_output_keeps_only_the_tail() {
    let report = run(&sh(
        "yes 'line of noise' | head -n 200000; echo '{\"score\": 9}'",
        LONG,
    ))
    .await;
    assert!(report.stdout_tail.len() <= TAIL_BYTES);
    assert_eq!(judge(&report, LONG).score, Some(9.0));
}

#[tokio::test]
async fn a_leftover_background_process_does_not_hold_the_run() {
    let started = Instant::now();
    let report = run(&sh("sleep 60 & echo '{\"score\": 1}'", LONG)).await;
    assert_eq!(report.exit, Exit::Code(0));
    assert!(started.elapsed() < Duration::from_secs(30));
}

fn tempfile_path() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_nanos();
    std::env::temp_dir()
        .join(format!("rc-bench-{}-{nanos}.pid", std::process::id()))
        .display()
        .to_string()
}
