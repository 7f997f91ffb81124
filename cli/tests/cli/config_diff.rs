//! `config diff`: semantic changes named, routing moves shown, exit 0/1/2.

use std::process::Command;

use super::support::{repo_file, BIN};

fn diff(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("config")
        .arg("diff")
        .args(args)
        .output()
        .expect("run runner-controller");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("utf-8 output"),
    )
}

/// The DeNA example with `edit` applied (text replaced once), written to a temporary file.
fn edited_dena(dir: &tempfile::TempDir, name: &str, edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(repo_file("config/examples/dena.yaml")).expect("read");
    for (from, to) in edits {
        assert!(text.contains(from), "{from:?} not in dena.yaml");
        text = text.replacen(from, to, 1);
    }
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write edited config");
    path.display().to_string()
}

#[test]
fn unchanged_config_exits_0() {
    let dena = repo_file("config/examples/dena.yaml");
    let (code, stdout) = diff(&[&dena, &dena]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.starts_with("no changes"), "{stdout}");
}

#[test]
fn minimal_vs_dena_names_classes_settings_and_routing() {
    let (code, stdout) = diff(&[
        &repo_file("config/examples/minimal.yaml"),
        &repo_file("config/examples/dena.yaml"),
        "--json",
    ]);
    assert_eq!(code, 1, "{stdout}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(doc["classes_removed"], serde_json::json!(["default"]));
    assert_eq!(doc["classes_added"].as_array().expect("added").len(), 8);
    assert!(doc["github"]
        .as_array()
        .expect("github changes")
        .iter()
        .any(|c| c["field"] == "scope.name" && c["old"] == "acme" && c["new"] == "dena"));
    // Every subset of [self-hosted, linux, x64] went to `default`; the first x64 class takes them.
    let moves = doc["routing"].as_array().expect("routing moves");
    let to_small = moves
        .iter()
        .find(|m| m["from"] == "default" && m["to"] == "small-amd64")
        .expect("default's jobs move to small-amd64");
    assert_eq!(to_small["label_sets"], 4);
    assert_eq!(
        to_small["examples"][2],
        serde_json::json!(["self-hosted", "x64"])
    );
}

#[test]
fn hand_edits_are_each_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = repo_file("config/examples/dena.yaml");
    let new = edited_dena(
        &dir,
        "edited.yaml",
        &[
            ("max_runners: 30", "max_runners: 60"),
            ("name: xlarge-arm64", "name: huge-arm64"),
            ("recheck_delay: 2m", "recheck_delay: 90s"),
            ("        idle: 4", "        idle: 8"),
            // `medium` on arm64 becomes `mid`: [self-hosted, arm64, medium] now routes nowhere.
            (
                "labels: [self-hosted, linux, arm64, medium]",
                "labels: [self-hosted, linux, arm64, mid]",
            ),
        ],
    );
    let (code, stdout) = diff(&[&old, &new]);
    assert_eq!(code, 1, "{stdout}");
    for expected in [
        "~ class large-amd64\n    max_runners: 30 -> 60\n",
        "~ class xlarge-arm64 renamed to huge-arm64 (same labels)\n",
        "~ manager\n    recheck_delay: 2m -> 1m 30s\n",
        "~ class medium-arm64\n    labels: +mid -medium\n",
        "routing changes:\n",
        "  medium-arm64 -> (none): ",
        "[arm64, medium, self-hosted]",
        "  (none) -> medium-arm64: ",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("~ class small-amd64\n    warm: "),
        "{stdout}"
    );
    // A rename alone moves no job: huge-arm64 appears in no routing line.
    assert!(!stdout.contains("-> huge-arm64"), "{stdout}");
}

#[test]
fn invalid_file_exits_2_with_located_problems() {
    let broken = repo_file("config/tests/data/broken.yaml");
    let (code, stdout) = diff(&[&repo_file("config/examples/minimal.yaml"), &broken]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.lines().count() >= 10, "{stdout}");
    assert!(
        stdout.lines().all(|l| l.starts_with(&format!("{broken}:"))),
        "{stdout}"
    );
}
