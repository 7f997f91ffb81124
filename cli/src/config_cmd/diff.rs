//! `config diff OLD NEW [--json]`: the semantic diff of [`rc_core::diff`], printed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rc_core::diff::{ConfigDiff, FieldChange};
use serde_json::Value;

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The config as it is (e.g. deployed).
    old: PathBuf,
    /// The config as it would be.
    new: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Exit status when a file cannot be read or is invalid (1 means "changed").
const INVALID: u8 = 2;

pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let (old, new) = match (parse_file(&args.old), parse_file(&args.new)) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            for problems in [old.err(), new.err()].into_iter().flatten() {
                print!("{problems}");
            }
            return Ok(ExitCode::from(INVALID));
        }
    };
    let diff = rc_core::diff::diff(&old, &new);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&diff)?);
    } else {
        print!("{}", render(&diff));
    }
    Ok(if diff.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Parses a file, or returns its problems as `FILE:LINE:COL: message` lines.
fn parse_file(path: &Path) -> Result<rc_config::Config, String> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{shown}:1:1: cannot read file: {e}\n"))?;
    rc_config::parse(&text).map_err(|problems| problems.render(&shown))
}

/// The diff as text, one change per line, or a single line saying nothing changed.
pub fn render(diff: &ConfigDiff) -> String {
    if diff.is_empty() {
        return "no changes that matter (routing, classes and settings are the same)\n".into();
    }
    let mut out = String::new();
    for name in &diff.classes_added {
        writeln!(out, "+ class {name}").expect("write to String");
    }
    for name in &diff.classes_removed {
        writeln!(out, "- class {name}").expect("write to String");
    }
    for r in &diff.classes_renamed {
        writeln!(out, "~ class {} renamed to {} (same labels)", r.from, r.to)
            .expect("write to String");
    }
    for class in &diff.classes_changed {
        writeln!(out, "~ class {}", class.class).expect("write to String");
        fields(&mut out, &class.changes);
    }
    for (section, changes) in [("manager", &diff.manager), ("github", &diff.github)] {
        if !changes.is_empty() {
            writeln!(out, "~ {section}").expect("write to String");
            fields(&mut out, changes);
        }
    }
    if !diff.routing.is_empty() {
        writeln!(out, "routing changes:").expect("write to String");
    }
    for m in &diff.routing {
        let name = |c: &Option<String>| c.as_deref().unwrap_or("(none)").to_string();
        let examples: Vec<String> = m
            .examples
            .iter()
            .map(|e| format!("[{}]", e.join(", ")))
            .collect();
        writeln!(
            out,
            "  {} -> {}: {} label set{}, e.g. {}",
            name(&m.from),
            name(&m.to),
            m.label_sets,
            if m.label_sets == 1 { "" } else { "s" },
            examples.join(" ")
        )
        .expect("write to String");
    }
    out
}

fn fields(out: &mut String, changes: &[FieldChange]) {
    for c in changes {
        let line = match (&c.old, &c.new) {
            (Value::Array(old), Value::Array(new))
                if old.iter().chain(new.iter()).all(is_scalar) =>
            {
                let gone: Vec<String> = old.iter().filter(|v| !new.contains(v)).map(show).collect();
                let came: Vec<String> = new.iter().filter(|v| !old.contains(v)).map(show).collect();
                let mut parts = Vec::new();
                if !came.is_empty() {
                    parts.push(format!("+{}", came.join(" +")));
                }
                if !gone.is_empty() {
                    parts.push(format!("-{}", gone.join(" -")));
                }
                parts.join(" ")
            }
            (old, new) => format!("{} -> {}", show(old), show(new)),
        };
        writeln!(out, "    {}: {line}", c.field).expect("write to String");
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// Strings bare, absent values as `(none)`, everything else as compact JSON.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}
