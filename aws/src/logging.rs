//! JSON logs, set up the same way by every Lambda and by the CLI.
//!
//! One JSON object per line is what CloudWatch Logs Insights queries field by field; the
//! Lambda runtime stamps each line itself, so the time is left out there.

use tracing_subscriber::EnvFilter;

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    /// A Lambda function: stdout, which the runtime ships to CloudWatch Logs (with its own
    /// timestamp), next to the EMF metric lines.
    Lambda,
    /// The command line: stderr with timestamps, so stdout stays for the command's output.
    Terminal,
}

/// Installs the global JSON subscriber; `RUST_LOG` filters (default `info`).
///
/// # Panics
///
/// If a global subscriber is already installed (call it once, first thing in `main`).
pub fn init_json_logs(target: LogTarget) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false);
    match target {
        LogTarget::Lambda => builder.without_time().init(),
        LogTarget::Terminal => builder.with_writer(std::io::stderr).init(),
    }
}
