//! One module per command.

pub mod account;
pub mod backup;
pub mod blast;
pub mod contacts;
pub mod import;
pub mod schedule;
pub mod settings;
pub mod status;

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Claims the data folder for a command that sends, links, logs out,
/// restores or recovers (`words` name it, e.g. `blast run 7`): refused,
/// changing nothing, while the app, the daemon or another such command
/// holds it.
pub fn claim(
    data_dir: &std::path::Path,
    words: &str,
) -> anyhow::Result<blastdesk_core::owner::Owner> {
    let holder = blastdesk_core::owner::Holder::Command {
        command: words.to_owned(),
    };
    Ok(blastdesk_core::owner::Owner::claim(data_dir, holder)?)
}

/// `--missing`: "skip" leaves out a recipient without the value; any other
/// text (empty by default) is put in its place.
pub fn missing_value(words: &str) -> blastdesk_core::template::MissingValue {
    use blastdesk_core::template::MissingValue;
    match words {
        "drop" => MissingValue::Drop,
        "skip" => MissingValue::Skip,
        text => MissingValue::Fallback {
            text: text.to_owned(),
        },
    }
}
