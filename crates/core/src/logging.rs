//! Logging: a daily-rotated file in the data directory, and stderr in development.
//!
//! Privacy rule for every `tracing` call in Blastdesk: phone numbers and message
//! text never appear at `info` level or above. Log ids (blast id, delivery id),
//! counts and error codes instead; where a number helps a support case, log
//! [`masked_phone`] of it.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{EnvFilter, Layer, fmt, layer::SubscriberExt, util::SubscriberInitExt};

/// Environment variable holding a `tracing` filter, e.g. `blastdesk=debug`.
pub const FILTER_ENV_VAR: &str = "BLASTDESK_LOG";

/// How many daily log files are kept.
const KEEP_DAYS: usize = 14;

/// Keeps the log file writer alive; drop it last, at exit, to flush.
#[must_use = "dropping the guard stops writing the log file"]
pub struct LogGuard {
    _file: WorkerGuard,
}

/// Where logs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Only the log file.
    FileOnly,
    /// The log file and stderr (development builds, `--verbose`).
    FileAndStderr,
}

/// Starts logging into `logs_dir/blastdesk.YYYY-MM-DD.log`.
///
/// Fails only if the log directory cannot be created. Installing the global
/// subscriber twice (as tests may) is not an error: the first one stays.
pub fn init(logs_dir: &Path, echo: Echo) -> std::io::Result<LogGuard> {
    std::fs::create_dir_all(logs_dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("blastdesk")
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .build(logs_dir)
        .map_err(std::io::Error::other)?;
    let (writer, guard) = tracing_appender::non_blocking(appender);

    let filter =
        || EnvFilter::try_from_env(FILTER_ENV_VAR).unwrap_or_else(|_| EnvFilter::new("info"));
    let file_layer = fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_filter(filter());
    let stderr_layer = (echo == Echo::FileAndStderr).then(|| {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter())
    });
    // A second init (tests, or the CLI inside a test harness) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    Ok(LogGuard { _file: guard })
}

/// A phone number with all but its country prefix and last four digits hidden,
/// for logs: `+6281234567890` becomes `+62•••••••7890`.
pub fn masked_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let prefix = if chars.first() == Some(&'+') { 3 } else { 2 };
    if chars.len() <= prefix + 4 {
        return "•".repeat(chars.len());
    }
    let hidden = chars.len() - prefix - 4;
    let mut out: String = chars[..prefix].iter().collect();
    out.extend(std::iter::repeat_n('•', hidden));
    out.extend(&chars[chars.len() - 4..]);
    out
}

#[cfg(test)]
mod tests {
    use super::masked_phone;

    #[test]
    fn masked_phone_keeps_only_prefix_and_last_four() {
        let cases = [
            ("+6281234567890", "+62•••••••7890"),
            ("+442071838750", "+44••••••8750"),
            ("081234567890", "08••••••7890"),
            ("12345", "•••••"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(masked_phone(input), expected, "input {input:?}");
        }
    }
}
