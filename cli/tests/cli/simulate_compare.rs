//! `simulate --compare`: the DeNA example against a copy with doubled warm pools, side by side,
//! deterministic under a seed.

use std::process::Command;

use super::support::{repo_file, BIN};

fn compare(old: &str, new: &str, extra: &[&str]) -> String {
    let out = Command::new(BIN)
        .args([
            "simulate",
            "--compare",
            old,
            new,
            "--scenario",
            "business-day",
            "--seed",
            "3",
        ])
        .args(extra)
        .output()
        .expect("run simulate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn doubled_warm_pools_side_by_side_and_deterministic() {
    let dena = repo_file("config/examples/dena.yaml");
    let dir = tempfile::tempdir().expect("temp dir");
    let doubled = dir.path().join("doubled.yaml");
    let text = std::fs::read_to_string(&dena).expect("read dena.yaml");
    let text = text
        .lines()
        .map(|line| match line.trim_start().strip_prefix("idle: ") {
            Some(n) => {
                let n: u32 = n.parse().expect("idle count");
                line.replace(&format!("idle: {n}"), &format!("idle: {}", n * 2))
            }
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&doubled, text).expect("write doubled.yaml");
    let doubled = doubled.to_str().expect("utf-8 path");

    let report = dir.path().join("compare.html");
    let report = report.to_str().expect("utf-8 path");
    let first = compare(&dena, doubled, &["--json", "--report", report]);
    assert_eq!(
        first,
        compare(&dena, doubled, &["--json"]),
        "same seed, same bytes"
    );
    let doc: serde_json::Value = serde_json::from_str(&first).expect("one JSON object");
    let row = |metric: &str| {
        doc["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["metric"] == metric)
            .unwrap_or_else(|| panic!("no {metric} row"))
            .clone()
    };
    let idle = row("idle runner-minutes");
    assert!(
        idle["delta"].as_f64().expect("delta") > 0.0,
        "more warm runners idle more: {idle}"
    );
    let cost = row("cost (USD)");
    assert!(cost["new"].as_f64() > cost["old"].as_f64(), "{cost}");
    assert!(
        row("business-hours pickup p95 (s)")["old"]
            .as_f64()
            .expect("old")
            > 0.0
    );
    assert!(row("small-amd64 pickup p95 (s)")["delta"].is_number());

    let text = compare(&dena, doubled, &[]);
    assert!(text.contains("old vs new config"), "{text}");
    let idle_line = text
        .lines()
        .find(|l| l.starts_with("idle runner-minutes"))
        .expect("idle line");
    assert!(
        idle_line.contains('+') && idle_line.ends_with('%'),
        "{idle_line}"
    );

    let report = dir.path().join("compare.html");
    compare(
        &dena,
        doubled,
        &["--report", report.to_str().expect("utf-8 path")],
    );
    let html = std::fs::read_to_string(&report).expect("report written");
    assert!(html.contains("<h1>Config comparison</h1>") && html.contains("background:#fee2e2"));
}
