//! Benchmark: 20,000 deliveries through the engine with durable state (a
//! real SQLite file in WAL mode, a JSON-lines ledger), the simulated
//! messenger, no pacing. Target: under 2 s on 2 cores.
//!
//! `cargo bench -p blastdesk-core --bench engine`

use std::sync::Arc;
use std::time::Instant;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::clock::SystemClock;
use blastdesk_core::engine::{Engine, RetryPolicy, RunEnd};
use blastdesk_core::messenger::{Faults, SimulatedMessenger, read_ledger};
use blastdesk_core::phone::Phone;
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::blasts::NewBlast;

const DELIVERIES: usize = 20_000;
const RUNS: usize = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name: Arc<str> = Arc::from("nama");
    let recipients: Vec<Recipient> = (0..DELIVERIES)
        .map(|i| Recipient {
            phone: Phone::from_e164_unchecked(format!("+62812{i:08}")),
            fields: Fields::new(vec![(name.clone(), format!("Customer {i}"))]),
            source: Source::Audience {
                audience: Arc::from("Members"),
            },
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let dir = tempfile::tempdir()?;
        let store = Store::open_in(dir.path())?;
        let account = store.add_account("Bench", AccountKind::Simulated, "Asia/Jakarta", 0)?;
        let started = Instant::now();
        let blast = store.create_blast(
            &NewBlast {
                account_id: account,
                name: "Bench",
                template: "Hi {nama}, {promo|sale} today!",
                options: serde_json::json!({}),
                simulated: true,
                recipients: &recipients,
            },
            0,
        )?;
        let ledger = dir.path().join("ledger.jsonl");
        let engine = Engine::new(
            store.clone(),
            SimulatedMessenger::open(&ledger, Faults::default(), SystemClock)?,
            SystemClock,
            RetryPolicy::default(),
        );
        let mut events = 0usize;
        let end = runtime.block_on(engine.run_blast(blast, &mut |_| events += 1))?;
        times.push(started.elapsed().as_secs_f64());
        assert_eq!(end, RunEnd::Completed);
        assert_eq!(read_ledger(&ledger)?.len(), DELIVERIES);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{DELIVERIES} deliveries (create + send + record): median {:.3} s, best {:.3} s over {RUNS} runs",
        times[RUNS / 2],
        times[0]
    );
    Ok(())
}
