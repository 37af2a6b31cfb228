//! The real whatsapp-rust client, built as `session::connect_once` builds
//! it, against the fake WhatsApp server (`wa-test-server`) in memory: it
//! shows a QR code, the simulated phone scans it, the client pairs, restarts
//! as WhatsApp asks (stream error 515) and logs in; and a client started
//! again on the same session store logs in without pairing.
//!
//! Time is Tokio's paused clock: the client's own waits (the 10 s grace for
//! app-state keys after pairing) pass at once, and a test that hangs fails
//! at its timeout instead of sleeping.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use blastdesk_whatsapp::version;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::task::JoinHandle;
use wa_test_server::{Intent, TestServer};
use whatsapp_rust::Client;
use whatsapp_rust::prelude::{Bot, Event, SqliteStore};
use whatsapp_rust::wacore_binary::Node;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const PHONE: &str = "+6281234567890";
/// How long any one step may take, on the paused clock.
const STEP: Duration = Duration::from_secs(300);

/// A running client and the events it reported.
struct Running {
    client: Arc<Client>,
    run: JoinHandle<()>,
    events: UnboundedReceiver<Arc<Event>>,
}

/// Starts a client on the session store `file`, as the adapter does: the
/// same builder calls, and the library's own reconnecting turned off (the
/// adapter starts a new client instead, as [`restart`] does here).
async fn start(server: &TestServer, file: &Path) -> TestResult<Running> {
    let backend = SqliteStore::new(&file.to_string_lossy()).await?;
    let (sender, events) = unbounded_channel();
    let bot = Bot::builder()
        .with_backend(backend)
        .with_transport_factory(server.factory())
        .with_version(version::PINNED.tuple())
        .skip_history_sync()
        .on_event(move |event: Arc<Event>, _client| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(event);
            }
        })
        .build()
        .await?;
    let client = bot.client();
    client.enable_auto_reconnect.store(false, Ordering::SeqCst);
    let run = tokio::spawn(bot.run());
    Ok(Running {
        client,
        run,
        events,
    })
}

impl Running {
    /// The first event `pick` accepts, skipping the others.
    async fn wait_for<T>(
        &mut self,
        server: &TestServer,
        what: &str,
        pick: impl Fn(&Event) -> Option<T>,
    ) -> TestResult<T> {
        let mut seen = Vec::new();
        let found = tokio::time::timeout(STEP, async {
            while let Some(event) = self.events.recv().await {
                if let Some(found) = pick(&event) {
                    return Some(found);
                }
                seen.push(format!("{event:?}").chars().take(80).collect::<String>());
            }
            None
        })
        .await;
        match found {
            Ok(Some(found)) => Ok(found),
            _ => Err(format!(
                "no {what} within {STEP:?}; events: {seen:#?}; server: {:#?}",
                server.connections()
            )
            .into()),
        }
    }

    /// Waits for the client's run to end by itself (as after the 515), and
    /// for its state to be on disk: the library saves the device in the
    /// background, so a client started on the same store right away could
    /// read it from before the pairing.
    async fn ended(self) -> TestResult {
        tokio::time::timeout(STEP, self.run).await??;
        self.client.persistence_manager().flush().await?;
        Ok(())
    }

    async fn stop(self) -> TestResult {
        self.client.disconnect().await;
        self.ended().await
    }
}

/// Links a new client with the phone and waits until it is connected:
/// returns the running client (on its second connection).
async fn link(server: &TestServer, file: &Path) -> TestResult<Running> {
    let mut client = start(server, file).await?;
    let qr = client
        .wait_for(server, "QR code", |event| match event {
            Event::PairingQrCode(qr) => Some(qr.code.clone()),
            _ => None,
        })
        .await?;
    let linked = server.scan(&qr, PHONE)?;
    assert_eq!(linked.phone, "6281234567890");

    let paired = client
        .wait_for(server, "pair success", |event| match event {
            Event::PairSuccess(success) => Some(success.id.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(paired.user, "6281234567890");
    assert_eq!(paired.device, linked.device);
    // WhatsApp ends the pairing connection (515); the adapter then starts
    // the client again.
    client.ended().await?;
    assert!(server.is_registered(PHONE));

    let mut client = start(server, file).await?;
    client
        .wait_for(server, "Connected", |event| {
            matches!(event, Event::Connected(_)).then_some(())
        })
        .await?;
    Ok(client)
}

fn intents(server: &TestServer) -> Vec<Option<Intent>> {
    server
        .connections()
        .into_iter()
        .map(|connection| connection.intent)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_new_device_links_with_the_qr_code_and_logs_in() -> TestResult {
    let dir = tempfile::tempdir()?;
    let server = TestServer::new();
    let client = link(&server, &dir.path().join("session.db")).await?;

    let login = Intent::Login {
        phone: "6281234567890".into(),
        device: 1,
    };
    assert_eq!(intents(&server), [Some(Intent::Register), Some(login)]);
    assert!(server.connections().iter().all(|c| c.error.is_none()));
    // The client confirmed the pairing on the first connection, and synced
    // its app state (as after every pairing) on the second.
    let stanzas = server.stanzas();
    let sent = |connection: usize, found: &dyn Fn(&Node) -> bool| {
        stanzas
            .iter()
            .any(|stanza| stanza.connection == connection && found(&stanza.node))
    };
    assert!(sent(0, &|node| node
        .get_optional_child("pair-device-sign")
        .is_some()));
    assert!(sent(1, &|node| node
        .attrs
        .get("xmlns")
        .is_some_and(|xmlns| xmlns.as_str() == "w:sync:app:state")));
    client.stop().await
}

#[tokio::test(start_paused = true)]
async fn a_linked_device_logs_in_again_without_pairing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("session.db");
    let server = TestServer::new();
    link(&server, &file).await?.stop().await?;

    let mut client = start(&server, &file).await?;
    client
        .wait_for(&server, "Connected", |event| match event {
            Event::PairingQrCode(_) => Some(Err("asked to pair again")),
            Event::Connected(_) => Some(Ok(())),
            _ => None,
        })
        .await??;
    let intents = intents(&server);
    assert_eq!(intents.len(), 3, "{intents:?}");
    assert_eq!(intents[1], intents[2]);
    client.stop().await
}
