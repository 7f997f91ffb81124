//! `validate FILE...`: exit 0 when every file is valid, else one `FILE:LINE:COL: message` line
//! per problem and exit 1.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Config files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let mut all_valid = true;
    for path in &args.files {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Err(e) => {
                println!("{shown}:1:1: cannot read file: {e}");
                all_valid = false;
            }
            Ok(text) => match rc_config::parse(&text) {
                Ok(config) => eprintln!("{shown}: ok ({} classes)", config.classes.len()),
                Err(problems) => {
                    print!("{}", problems.render(&shown));
                    all_valid = false;
                }
            },
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
