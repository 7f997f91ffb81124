//! `simulate --seeds`: every policy on several seeds, summarized as means and ranges, with the
//! cost-vs-p95 chart and the cost breakdown in the report.

use std::process::Command;

fn simulate(extra: &[&str]) -> std::process::Output {
    Command::new(super::support::BIN)
        .args(["simulate", "--scenario", "night"])
        .args(extra)
        .output()
        .expect("run simulate")
}

#[test]
fn means_over_seeds_with_chart_and_breakdown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("seeds.html");
    let report = report.to_str().expect("utf-8 path");
    let out = simulate(&["--seeds", "1-2", "--json", "--report", report]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["seeds"], serde_json::json!([1, 2]));
    let policies = json["policies"].as_object().expect("policies");
    // serde_json's map is sorted; the report keeps run order.
    let mut names: Vec<&str> = policies.keys().map(String::as_str).collect();
    names.sort_unstable();
    let expected = [
        "dena-baseline",
        "oracle",
        "ours",
        "philips-baseline",
        "philips-retry",
    ];
    assert_eq!(names, expected);
    let ours = &policies["ours"];
    let p95 = &ours["pickup_p95_s"];
    assert!(p95["min"].as_f64() <= p95["mean"].as_f64());
    assert!(p95["mean"].as_f64() <= p95["max"].as_f64());
    assert!(
        ours["cost_breakdown"]["empty"]["usd"]
            .as_f64()
            .expect("usd")
            > 0.0
    );
    // Nine warm-pool settings of ours, for the chart: five scaled idle counts, four targets.
    let settings = json["settings"].as_array().expect("settings");
    let curve = |name: &str| settings.iter().filter(|s| s["curve"] == name).count();
    assert_eq!((curve("idle_counts"), curve("pickup_target")), (5, 4));
    let html = std::fs::read_to_string(report).expect("report written");
    assert!(html.contains("Cost against business-hours pickup p95"));
    assert!(html.contains("Where the cost goes"));
    assert_eq!(html.matches("<circle").count(), 5 + 9);

    let text = simulate(&["--seeds", "1,2"]);
    let text = String::from_utf8(text.stdout).expect("utf-8");
    assert!(text.contains("seeds 1,2") && text.contains("philips-retry"));
    assert!(text.contains("runner-minutes ×oracle"));
}

#[test]
fn seeds_conflict_with_seed_and_need_numbers() {
    assert!(!simulate(&["--seeds", "1-2", "--seed", "3"])
        .status
        .success());
    assert!(!simulate(&["--seeds", "3-1"]).status.success());
    assert!(!simulate(&["--seeds", "x"]).status.success());
}
