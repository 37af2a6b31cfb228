//! The log file, as a support case would read it: a blast sent, a library
//! logging through `log` with numbers in its lines, and not one phone
//! number in the file.

use std::sync::Arc;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::clock::TokioClock;
use blastdesk_core::engine::{Engine, RetryPolicy, RunEnd};
use blastdesk_core::logging::{self, Echo};
use blastdesk_core::messenger::{Faults, SimulatedMessenger};
use blastdesk_core::phone::Phone;
use blastdesk_core::store::AccountKind;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Every run of digits in `text` long enough to be a phone number.
fn numbers(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 8)
        .map(str::to_owned)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn no_phone_number_reaches_the_log_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let logs = dir.path().join("logs");
    let guard = logging::init(&logs, Echo::FileOnly)?;

    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", 0)?;
    let recipients: Vec<Recipient> = (0..3)
        .map(|i| Recipient {
            phone: Phone::from_e164_unchecked(format!("+62812345678{i:02}")),
            fields: Fields::new(vec![(Arc::from("Nama"), format!("Pelanggan {i}"))]),
            source: Source::Audience {
                audience: Arc::from("Pelanggan"),
            },
        })
        .collect();
    let created = blast::create(
        &store,
        &NewBlast {
            name: "Promo",
            template: "Halo {Nama}",
            sender: Sender::Account(account),
            recipients: &recipients,
            options: BlastOptions::default(),
            attach: None,
        },
        0,
    )?;
    let clock = TokioClock::starting_at(0);
    let messenger =
        SimulatedMessenger::open(&dir.path().join("ledger.jsonl"), Faults::default(), clock)?;
    let engine = Engine::new(store.clone(), messenger, clock, RetryPolicy::default());
    assert_eq!(
        engine.run_blast(created.blast_id, &mut |_| {}).await?,
        RunEnd::Completed
    );
    // What whatsapp-rust writes: numbers inside JIDs, in its own words.
    log::warn!(target: "whatsapp_rust::send", "retry receipt from 6281234567800:3@s.whatsapp.net");
    log::info!(target: "whatsapp_rust::usync", "device list for +6281234567801 updated");
    tracing::info!(target: "wacore::signal", jid = "6281234567802@s.whatsapp.net", "session");
    drop(guard);

    let mut text = String::new();
    for entry in std::fs::read_dir(&logs)? {
        text.push_str(&std::fs::read_to_string(entry?.path())?);
    }
    assert!(
        text.contains("retry receipt from"),
        "the library's lines are kept: {text}"
    );
    assert!(text.contains("blast created"), "{text}");
    assert_eq!(numbers(&text), Vec::<String>::new(), "{text}");
    Ok(())
}
