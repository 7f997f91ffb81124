//! `runner-controller simulate`: run the simulator on a bundled scenario or a trace, once per
//! policy on the same seeded workload, and print the comparison (text, `--json`, or an HTML
//! `--report`).
//!
//! Without `--config` it runs on the bundled DeNA-like example (the contest example for
//! `--scenario contest`), so the command works on a fresh checkout.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::builder::PossibleValuesParser;
use rc_core::Timestamp;
use rc_sim::tradeoff::Setting;
use rc_sim::{compare, PolicyKind, Scenario, Workload, WorldParams};

/// The bundled DeNA-like example config.
const DEFAULT_CONFIG: &str = include_str!("../../config/examples/dena.yaml");
/// The bundled contest example config: the pool settings of `--scenario contest`.
const CONTEST_CONFIG: &str = include_str!("../../config/examples/contest.yaml");

/// Arguments of `simulate`.
#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Config file [default: the bundled DeNA-like example].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run our policy under two configs on the same workload (drawn from OLD) and print the
    /// deltas.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"], conflicts_with_all = ["config", "policy"])]
    compare: Option<Vec<PathBuf>>,
    /// Replay a JSON-lines trace: {"at": secs, "labels": [...], "duration": secs, "repo": "owner/name"} per line.
    #[arg(long, value_name = "FILE.jsonl", conflicts_with = "scenario")]
    trace: Option<PathBuf>,
    /// A bundled scenario [default: business-day]; `contest` compares benchmark worker pools.
    #[arg(long, value_name = "NAME", value_parser = PossibleValuesParser::new(Scenario::ALL.map(Scenario::name)))]
    scenario: Option<String>,
    /// Run only this policy [default: all, side by side].
    #[arg(long, value_name = "NAME", value_parser = PossibleValuesParser::new(PolicyKind::ALL.map(PolicyKind::name)))]
    policy: Option<String>,
    /// Seed of the workload and of every world; same seed, same output.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Run every seed of a range (`1-5`) or list (`1,2,3`) and print each figure's mean and
    /// range.
    #[arg(long, value_name = "LIST", conflicts_with_all = ["seed", "compare"], value_parser = parse_seeds)]
    seeds: Option<Seeds>,
    /// When a trace's `at = 0` is, RFC 3339 [default: 2026-11-18T00:00:00+09:00, a Tokyo Wednesday].
    #[arg(long, value_name = "RFC3339", requires = "trace")]
    start: Option<String>,
    /// Print one JSON object instead of the text summary.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML report with charts.
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
}

/// Runs `simulate`.
///
/// # Errors
///
/// An unreadable or invalid config or trace, or a report that cannot be written.
pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    if args.scenario.as_deref() == Some(Scenario::Contest.name()) {
        return contest(&args);
    }
    let compare_with = match &args.compare {
        Some(paths) => Some(crate::load_config(&paths[1])?),
        None => None,
    };
    let config = match args
        .compare
        .as_ref()
        .map(|p| &p[0])
        .or(args.config.as_ref())
    {
        Some(path) => crate::load_config(path)?,
        None => bundled(DEFAULT_CONFIG, "dena.yaml")?,
    };
    if let Some(seeds) = &args.seeds {
        return across_seeds(&args, &config, &seeds.0);
    }
    let workload = workload(&args, &config, args.seed)?;
    if let Some(new) = compare_with {
        let versus = rc_sim::versus::versus(
            &config,
            &new,
            &workload,
            &WorldParams::default(),
            args.seed,
            &mut |_, _| {},
        );
        return emit(&args, &versus, |v| v.to_json(), || versus.html());
    }
    let policies = policies(&args);
    let mut bar = Progress::new(std::io::stderr().is_terminal());
    let comparison = compare(
        &config,
        &workload,
        &policies,
        &WorldParams::default(),
        args.seed,
        &mut |p, f| bar.show(p.name(), f),
    );
    bar.finish();

    emit(
        &args,
        &comparison,
        |c| c.to_json(),
        || {
            let settings = settings(&args, &policies, &config, &workload, args.seed, &mut bar);
            rc_sim::html::render_with(&comparison, &settings)
        },
    )
}

/// The seeds of `--seeds`.
#[derive(Clone, Debug)]
struct Seeds(Vec<u64>);

/// Reads `1-5` or `1,2,3` (or a mix: `1-3,7`).
fn parse_seeds(text: &str) -> Result<Seeds, String> {
    let mut seeds = Vec::new();
    for part in text.split(',') {
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("{s:?} is not a seed"))
        };
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (number(from)?, number(to)?);
                if from > to {
                    return Err(format!("{part:?} is an empty range"));
                }
                seeds.extend(from..=to);
            }
            None => seeds.push(number(part)?),
        }
    }
    Ok(Seeds(seeds))
}

/// The policies to run: `--policy`, or all of them.
fn policies(args: &SimulateArgs) -> Vec<PolicyKind> {
    match &args.policy {
        Some(name) => vec![PolicyKind::from_name(name).expect("clap only accepts known policies")],
        None => PolicyKind::ALL.to_vec(),
    }
}

/// The workload of `seed`: the trace (the same for every seed) or the bundled scenario.
fn workload(
    args: &SimulateArgs,
    config: &rc_config::Config,
    seed: u64,
) -> anyhow::Result<Workload> {
    Ok(match &args.trace {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let start = match &args.start {
                Some(at) => Timestamp::from_datetime(
                    chrono::DateTime::parse_from_rfc3339(at)
                        .with_context(|| format!("--start {at} is not RFC 3339"))?
                        .to_utc(),
                ),
                None => rc_sim::scenario::tokyo(0),
            };
            Workload::from_trace(&text, start)
                .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.line, e.message))?
        }
        None => {
            let name = args.scenario.as_deref().unwrap_or("business-day");
            Scenario::from_name(name)
                .expect("clap only accepts known scenarios")
                .workload(config, seed)
        }
    })
}

/// Our policy's warm-pool settings for the report's cost chart, when the report has our policy.
fn settings(
    args: &SimulateArgs,
    policies: &[PolicyKind],
    config: &rc_config::Config,
    workload: &Workload,
    seed: u64,
    bar: &mut Progress,
) -> Vec<Setting> {
    if args.report.is_none() || !policies.contains(&PolicyKind::Ours) {
        return Vec::new();
    }
    let settings = rc_sim::tradeoff::settings(
        config,
        workload,
        &WorldParams::default(),
        seed,
        &mut |label, f| bar.show(&format!("ours {label}"), f),
    );
    bar.finish();
    settings
}

/// `--seeds`: every policy on every seed, summarized.
fn across_seeds(
    args: &SimulateArgs,
    config: &rc_config::Config,
    seeds: &[u64],
) -> anyhow::Result<ExitCode> {
    let policies = policies(args);
    let mut bar = Progress::new(std::io::stderr().is_terminal());
    let mut runs = Vec::new();
    let mut settings = Vec::new();
    for &seed in seeds {
        let workload = workload(args, config, seed)?;
        runs.push(compare(
            config,
            &workload,
            &policies,
            &WorldParams::default(),
            seed,
            &mut |p, f| bar.show(&format!("{seed}: {}", p.name()), f),
        ));
        bar.finish();
        let ours = self::settings(args, &policies, config, &workload, seed, &mut bar);
        if !ours.is_empty() {
            settings.push(ours);
        }
    }
    let summary = rc_sim::seeds::Seeds::of(&runs, &settings);
    emit(
        args,
        &summary,
        |s| s.to_json(),
        || rc_sim::html::render_seeds(&summary),
    )
}

/// `--scenario contest`: our benchmark pool against fixed pools, on the config's pool settings.
fn contest(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    if args.compare.is_some() || args.policy.is_some() || args.seeds.is_some() {
        anyhow::bail!("--compare, --policy and --seeds do not apply to the contest scenario, which compares worker pools");
    }
    let config = match &args.config {
        Some(path) => crate::load_config(path)?,
        None => bundled(CONTEST_CONFIG, "contest.yaml")?,
    };
    let mut bar = Progress::new(std::io::stderr().is_terminal());
    let comparison = rc_sim::contest::compare(
        &config,
        &rc_sim::contest::Pool::ALL,
        &WorldParams::default(),
        args.seed,
        &mut |pool, f| bar.show(&pool.name(), f),
    )?;
    bar.finish();
    emit(
        args,
        &comparison,
        |c| c.to_json(),
        || rc_sim::html::render_contest(&comparison),
    )
}

fn bundled(text: &str, name: &str) -> anyhow::Result<rc_config::Config> {
    rc_config::parse(text).map_err(|problems| {
        anyhow::anyhow!(
            "bundled example config is invalid:\n{}",
            problems.render(name)
        )
    })
}

/// Writes the HTML report when `--report` asks for one (`html` runs only then: a report may
/// simulate more), then prints `result` as JSON or text.
fn emit<R: std::fmt::Display>(
    args: &SimulateArgs,
    result: &R,
    to_json: impl FnOnce(&R) -> String,
    html: impl FnOnce() -> String,
) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.report {
        std::fs::write(path, html()).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    let text = if args.json {
        to_json(result) + "\n"
    } else {
        result.to_string()
    };
    print_out(&text)
}

fn print_out(text: &str) -> anyhow::Result<ExitCode> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
struct Progress {
    enabled: bool,
    shown: Option<(String, u32)>,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            shown: None,
        }
    }

    fn show(&mut self, name: &str, fraction: f64) {
        let percent = (fraction * 100.0).round() as u32;
        let same = |(n, p): &(String, u32)| n == name && *p == percent;
        if !self.enabled || self.shown.as_ref().is_some_and(same) {
            return;
        }
        self.shown = Some((name.to_owned(), percent));
        let filled = (percent / 4) as usize;
        eprint!(
            "\r{name:<17} [{}{}] {percent:3}%",
            "#".repeat(filled),
            "-".repeat(25 - filled)
        );
    }

    fn finish(&self) {
        if self.enabled && self.shown.is_some() {
            eprint!("\r{:60}\r", "");
        }
    }
}
