//! The `validate` and `explain` contracts, run as the binary.

use std::process::Command;

use super::support::{repo_file, BIN};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run runner-controller");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8 output");
    (
        out.status.code().expect("exit code"),
        text(out.stdout),
        text(out.stderr),
    )
}

#[test]
fn validate_accepts_the_examples() {
    let (code, stdout, _) = run(&[
        "validate",
        &repo_file("config/examples/dena.yaml"),
        &repo_file("config/examples/minimal.yaml"),
    ]);
    assert_eq!(code, 0);
    assert!(
        stdout.is_empty(),
        "nothing on stdout for valid files: {stdout}"
    );
}

#[test]
fn validate_reports_every_problem_as_file_line_col() {
    let broken = repo_file("config/tests/data/broken.yaml");
    let (code, stdout, _) = run(&[
        "validate",
        &broken,
        &repo_file("config/examples/minimal.yaml"),
    ]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 10, "{stdout}");
    for line in &lines {
        let rest = line
            .strip_prefix(&format!("{broken}:"))
            .unwrap_or_else(|| panic!("not FILE:LINE:COL: {line}"));
        let mut parts = rest.splitn(3, ':');
        let line_no: usize = parts
            .next()
            .and_then(|p| p.parse().ok())
            .expect("line number");
        let col: usize = parts.next().and_then(|p| p.parse().ok()).expect("column");
        assert!(line_no >= 1 && col >= 1 && parts.next().is_some_and(|m| !m.trim().is_empty()));
    }
    assert!(stdout.contains(&format!(
        "{broken}:4:3: unknown key `api_ur` in github; did you mean `api_url`?"
    )));
}

#[test]
fn validate_reports_a_missing_file() {
    let (code, stdout, _) = run(&["validate", "no-such-file.yaml"]);
    assert_eq!(code, 1);
    assert!(stdout.starts_with("no-such-file.yaml:1:1: cannot read file"));
}

#[test]
fn explain_names_the_class_and_why() {
    let config = repo_file("config/examples/dena.yaml");
    let (code, stdout, _) = run(&[
        "explain",
        "--config",
        &config,
        "self-hosted",
        "ARM64",
        "large",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("class: large-arm64"), "{stdout}");
    assert!(stdout.contains("8192 cpu / 16384 MiB"), "{stdout}");
}

#[test]
fn explain_json_for_an_unroutable_job() {
    let config = repo_file("config/examples/dena.yaml");
    let (code, stdout, _) = run(&[
        "explain",
        "--config",
        &config,
        "--json",
        "self-hosted",
        "gpu",
    ]);
    assert_eq!(code, 2);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(doc["route"]["outcome"], "unmatched");
    assert_eq!(
        doc["route"]["missing"]
            .as_array()
            .expect("per-class misses")
            .len(),
        8
    );
    assert!(doc.get("class").is_none());

    let (code, stdout, _) = run(&["explain", "--config", &config, "--json", "ubuntu-latest"]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("self-hosted"),
        "the reason names the missing label: {stdout}"
    );
}
