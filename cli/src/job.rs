//! `job JOB_ID --log-group G...`: when each step of one job happened and where the wait went,
//! from the controller's own logs in CloudWatch Logs.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::timeline::{assemble, Timeline};

#[derive(clap::Args)]
pub struct JobArgs {
    /// The GitHub workflow job id (`job_id` in the logs).
    job_id: u64,
    /// Log groups the webhook and manager write to (repeat for each).
    #[arg(long = "log-group", required = true)]
    log_groups: Vec<String>,
    /// How far back to search.
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    since: Duration,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: JobArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let start_ms = (Utc::now() - chrono::Duration::from_std(args.since)?).timestamp_millis();
    let events = runtime.block_on(async {
        let aws = aws_config::load_from_env().await;
        let client = aws_sdk_cloudwatchlogs::Client::new(&aws);
        let pattern = rc_aws::logs::job_pattern(args.job_id);
        let mut events = Vec::new();
        for group in &args.log_groups {
            events.extend(rc_aws::logs::filter_events(&client, group, &pattern, start_ms).await?);
        }
        anyhow::Ok(events)
    })?;
    let timeline = assemble(
        args.job_id,
        events.iter().map(|e| (e.timestamp_ms, e.message.as_str())),
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&timeline)?);
    } else {
        print!("{}", render(&timeline));
    }
    Ok(if timeline.steps.is_empty() {
        eprintln!(
            "no log lines for job {} in {} over the last {}",
            args.job_id,
            args.log_groups.join(", "),
            humantime::format_duration(args.since)
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn render(timeline: &Timeline) -> String {
    let mut out = String::new();
    let Some(last) = timeline.steps.last() else {
        return out;
    };
    writeln!(
        out,
        "job {}: {} steps over {}",
        timeline.job_id,
        timeline.steps.len(),
        millis(last.offset_ms)
    )
    .expect("write to String");
    for step in &timeline.steps {
        let at = DateTime::<Utc>::from_timestamp_millis(step.at_ms)
            .map(|t| t.format("%H:%M:%S%.3f").to_string())
            .unwrap_or_default();
        let fields: Vec<String> = step
            .fields
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        writeln!(
            out,
            "  {at}  +{:<9} (wait {:>9})  {:<16} {}",
            millis(step.offset_ms),
            millis(step.gap_ms),
            step.message,
            fields.join(" ")
        )
        .expect("write to String");
    }
    if let Some(i) = timeline.longest {
        let step = &timeline.steps[i];
        writeln!(
            out,
            "longest step: {} after {} (the wait after {})",
            step.message,
            millis(step.gap_ms),
            timeline.steps[i - 1].message
        )
        .expect("write to String");
    }
    out
}

fn millis(ms: i64) -> String {
    if ms < 1_000 {
        format!("{ms}ms")
    } else {
        format!("{:.3}s", ms as f64 / 1_000.0)
    }
}
