//! `simulate --scenario contest`: our pool against fixed pools on the bundled contest config,
//! deterministic under a seed, and refused on a config without a pool.

use std::process::Command;

use super::support::{repo_file, BIN};

fn simulate(extra: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(["simulate", "--scenario", "contest", "--seed", "2"])
        .args(extra)
        .output()
        .expect("run simulate")
}

#[test]
fn pools_side_by_side_and_deterministic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("contest.html");
    let report = report.to_str().expect("utf-8 path");
    let first = simulate(&["--json", "--report", report]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        first.stdout,
        simulate(&["--json"]).stdout,
        "same seed, same bytes"
    );
    let doc: serde_json::Value = serde_json::from_slice(&first.stdout).expect("one JSON object");
    for pool in ["ours", "fixed-5", "fixed-20"] {
        let p = &doc["pools"][pool];
        assert_eq!(p["unfinished"], 0, "{pool}");
        assert!(p["wait_s"]["p95"].as_f64().is_some(), "{pool}");
        assert!(p["fairness"].as_f64().expect("fairness") >= 1.0, "{pool}");
        assert!(p["cost_usd"].as_f64().expect("cost") > 0.0, "{pool}");
    }
    assert_eq!(doc["pools"]["fixed-5"]["peak_workers"], 5);
    let html = std::fs::read_to_string(report).expect("report written");
    assert!(html.contains("Queue wait by request time") && html.contains("fixed-20"));

    let text = simulate(&[]);
    let text = String::from_utf8(text.stdout).expect("utf-8");
    assert!(
        text.contains("wait p95") && text.contains("fairness"),
        "{text}"
    );
}

#[test]
fn a_config_without_benchmarks_is_refused() {
    let out = simulate(&["--config", &repo_file("config/examples/dena.yaml")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("benchmarks"), "{stderr}");
}
