//! Benchmark: 20,000 deliveries through the engine with durable state (a
//! real SQLite file in WAL mode, a JSON-lines ledger), the simulated
//! messenger, no pacing. Target: under 2 s on 2 cores. Then, for the record,
//! the cost of writing each intent power-safe, as for a real account.
//!
//! `cargo bench -p blastdesk-core --bench engine`

use std::sync::Arc;
use std::time::Instant;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::clock::SystemClock;
use blastdesk_core::engine::{Engine, RetryPolicy, RunEnd};
use blastdesk_core::messenger::{
    Accepted, Faults, Messenger, Outgoing, SendError, SimulatedMessenger, read_ledger,
};
use blastdesk_core::phone::Phone;
use blastdesk_core::store::AccountKind;

const DELIVERIES: usize = 20_000;
const RUNS: usize = 3;
/// Power-safe intents cost an fsync each: fewer, to keep the run short.
const POWER_SAFE_DELIVERIES: usize = 2_000;

/// The simulated messenger, presented as a real one: the engine then writes
/// each intent to send so that it survives a power cut (an fsync a message).
struct AsIfReal(SimulatedMessenger<SystemClock>);

impl Messenger for AsIfReal {
    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        self.0.send(message).await
    }

    async fn check_numbers(&self, phones: &[Phone]) -> Result<Vec<bool>, SendError> {
        self.0.check_numbers(phones).await
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let (median, best) = measure(&runtime, DELIVERIES, false)?;
    println!(
        "{DELIVERIES} deliveries (create + send + record): median {median:.3} s, best {best:.3} s over {RUNS} runs"
    );
    let (median, best) = measure(&runtime, POWER_SAFE_DELIVERIES, true)?;
    println!(
        "{POWER_SAFE_DELIVERIES} deliveries with power-safe intents (as for a real account): median {median:.3} s, best {best:.3} s over {RUNS} runs"
    );
    Ok(())
}

/// Creates and sends a blast of `n`, `RUNS` times; the median and best seconds.
fn measure(
    runtime: &tokio::runtime::Runtime,
    n: usize,
    as_if_real: bool,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let name: Arc<str> = Arc::from("nama");
    let recipients: Vec<Recipient> = (0..n)
        .map(|i| Recipient {
            phone: Phone::from_e164_unchecked(format!("+62812{i:08}")),
            fields: Fields::new(vec![(name.clone(), format!("Customer {i}"))]),
            source: Source::Audience {
                audience: Arc::from("Members"),
            },
        })
        .collect();
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let dir = tempfile::tempdir()?;
        let store = Store::open_in(dir.path())?;
        let account = store.add_account("Bench", AccountKind::Simulated, "Asia/Jakarta", 0)?;
        let started = Instant::now();
        let blast = blast::create(
            &store,
            &NewBlast {
                name: "Bench",
                template: "Hi {nama}, {promo|sale} today!",
                sender: Sender::Account(account),
                recipients: &recipients,
                options: BlastOptions::default(),
                attach: None,
            },
            0,
        )?
        .blast_id;
        let ledger = dir.path().join("ledger.jsonl");
        let simulated = SimulatedMessenger::open(&ledger, Faults::default(), SystemClock)?;
        let mut events = 0usize;
        let end = if as_if_real {
            let engine = Engine::new(
                store.clone(),
                AsIfReal(simulated),
                SystemClock,
                RetryPolicy::default(),
            );
            runtime.block_on(engine.run_blast(blast, &mut |_| events += 1))?
        } else {
            let engine = Engine::new(
                store.clone(),
                simulated,
                SystemClock,
                RetryPolicy::default(),
            );
            runtime.block_on(engine.run_blast(blast, &mut |_| events += 1))?
        };
        times.push(started.elapsed().as_secs_f64());
        assert_eq!(end, RunEnd::Completed);
        assert_eq!(read_ledger(&ledger)?.len(), n);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[RUNS / 2], times[0]))
}
