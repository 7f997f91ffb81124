//! `explain --config FILE LABEL...`: which class a job with these labels gets, or why none.

use std::path::PathBuf;
use std::process::ExitCode;

use rc_core::routing::{route, Route};
use serde::Serialize;

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// Config file.
    #[arg(long)]
    config: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// The job's `runs-on` labels.
    #[arg(required = true)]
    labels: Vec<String>,
}

#[derive(Serialize)]
struct Explanation<'a> {
    labels: &'a [String],
    route: &'a Route<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<&'a rc_config::RunnerClass>,
}

pub fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let config = crate::load_config(&args.config)?;
    let route = route(&config, &args.labels);
    let class = route.class();
    if args.json {
        let explanation = Explanation {
            labels: &args.labels,
            route: &route,
            class,
        };
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        print!("{}", describe(&args.labels, &route));
    }
    Ok(if class.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn describe(labels: &[String], route: &Route) -> String {
    let mut out = format!("labels: {}\n", labels.join(", "));
    match route {
        Route::Matched { class, index } => {
            out += &format!(
                "class: {} (entry {} in file order: the first whose labels [{}] contain every job label)\n",
                class.name,
                index + 1,
                class.labels.join(", ")
            );
            out += &format!(
                "task: {} container {} ({}) on capacity provider {}\n",
                class.task_definition, class.container, class.size, class.capacity_provider
            );
            out += &format!(
                "limits: at most {} runners; idle runners above the warm target stop after {}\n",
                class.max_runners,
                humantime::format_duration(class.idle_timeout)
            );
        }
        Route::Unmatched { reason, missing } => {
            out += &format!("class: none ({reason})\n");
            for miss in missing {
                out += &format!(
                    "  {} lacks {}\n",
                    miss.class,
                    miss.missing_labels.join(", ")
                );
            }
        }
    }
    out
}
