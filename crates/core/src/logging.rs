//! Logging: a daily-rotated file in the data directory, and stderr in development.
//!
//! Privacy rule for every `tracing` call in Blastdesk: phone numbers and message
//! text never appear at `info` level or above. Log ids (blast id, delivery id),
//! counts and error codes instead; where a number helps a support case, log
//! [`masked_phone`] of it.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
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
    // Our own records keep to the privacy rule by construction; a library's
    // (whatsapp-rust logs through `log`, bridged into tracing) may name a
    // number anywhere, for instance in a JID: its lines are redacted.
    let file_layer = fmt::layer()
        .with_writer(writer.clone())
        .with_ansi(false)
        .with_filter(filter().and(filter_fn(|meta| ours(meta.target()))));
    let library_layer = fmt::layer()
        .with_writer(Redacted(writer))
        .with_ansi(false)
        .with_filter(filter().and(filter_fn(|meta| !ours(meta.target()))));
    let stderr_layer = (echo == Echo::FileAndStderr).then(|| {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter())
    });
    // A second init (tests, or the CLI inside a test harness) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(library_layer)
        .with(stderr_layer)
        .try_init();
    Ok(LogGuard { _file: guard })
}

/// Whether a record comes from Blastdesk's own code.
fn ours(target: &str) -> bool {
    target.starts_with("blastdesk")
}

/// A writer whose every line has its phone numbers masked.
#[derive(Clone)]
struct Redacted<W>(W);

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Redacted<W> {
    type Writer = RedactedWriter<W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedWriter(self.0.make_writer())
    }
}

struct RedactedWriter<W>(W);

impl<W: std::io::Write> std::io::Write for RedactedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // The formatter hands over whole records; each is masked as a whole.
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact_numbers(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Masks every run of 7 to 15 digits (with a leading `+` if there is one)
/// as [`masked_phone`] does: phone numbers in any form, including inside a
/// WhatsApp JID (`6281234567890@s.whatsapp.net`). Longer runs (hashes, ids)
/// are left alone; a millisecond timestamp (13 digits) is masked too, which
/// costs a library's lines a little detail and never leaks a number.
pub fn redact_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.trim_start_matches('+').len();
        if (7..=15).contains(&digits) {
            out.push_str(&masked_phone(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || (c == '+' && run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
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
    use super::{masked_phone, redact_numbers};

    #[test]
    fn numbers_in_library_lines_are_masked_wherever_they_are() {
        let cases = [
            (
                "send to 6281234567890@s.whatsapp.net failed",
                "send to 62•••••••7890@s.whatsapp.net failed",
            ),
            ("pn=+6281234567890,", "pn=+62•••••••7890,"),
            (
                "attempt 3 of 5 after 2000 ms",
                "attempt 3 of 5 after 2000 ms",
            ),
            (
                "device 6281234567890:12@s.whatsapp.net",
                "device 62•••••••7890:12@s.whatsapp.net",
            ),
            ("hash 12345678901234567890", "hash 12345678901234567890"),
            ("a+b 1+2", "a+b 1+2"),
        ];
        for (line, expected) in cases {
            assert_eq!(redact_numbers(line), expected, "{line:?}");
        }
    }

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
