//! The client's transport to the server, in memory: no sockets.
//!
//! Each `create_transport` opens a new [`Link`] and spawns the server's side
//! of it. The client's `send` feeds the link; what the server writes comes
//! back as `TransportEvent::DataReceived`, after a first `Connected`; when the
//! server ends the stream the client gets `Disconnected`.

use std::sync::Arc;

use whatsapp_rust::anyhow;
use whatsapp_rust::async_channel::{self, Receiver, Sender};
use whatsapp_rust::async_trait;
use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::transport::{DisconnectReason, Transport, TransportEvent, TransportFactory};

use crate::Shared;
use crate::connection::{self, Link};

pub(crate) struct MemoryFactory {
    shared: Arc<Shared>,
}

impl MemoryFactory {
    pub(crate) fn new(shared: Arc<Shared>) -> MemoryFactory {
        MemoryFactory { shared }
    }
}

#[async_trait]
impl TransportFactory for MemoryFactory {
    async fn create_transport(
        &self,
    ) -> Result<(Arc<dyn Transport>, Receiver<TransportEvent>), anyhow::Error> {
        let (to_server, from_client) = async_channel::unbounded();
        let (to_client, from_server) = async_channel::unbounded();
        let (events, client_events) = async_channel::unbounded();
        events.try_send(TransportEvent::Connected)?;
        let index = self.shared.open_connection();
        tokio::spawn(relay(from_server, events));
        tokio::spawn(connection::serve(
            Arc::clone(&self.shared),
            index,
            Link {
                from_client,
                to_client,
            },
        ));
        Ok((Arc::new(MemoryTransport { to_server }), client_events))
    }
}

/// What the server writes, as the client's transport events.
async fn relay(from_server: Receiver<Bytes>, events: Sender<TransportEvent>) {
    while let Ok(chunk) = from_server.recv().await {
        if events
            .send(TransportEvent::DataReceived(chunk))
            .await
            .is_err()
        {
            return;
        }
    }
    let _ = events
        .send(TransportEvent::Disconnected(DisconnectReason::StreamEnded))
        .await;
}

struct MemoryTransport {
    to_server: Sender<Bytes>,
}

#[async_trait]
impl Transport for MemoryTransport {
    async fn send(&self, data: Bytes) -> Result<(), anyhow::Error> {
        self.to_server
            .send(data)
            .await
            .map_err(|_| anyhow::anyhow!("the test server closed the connection"))
    }

    async fn disconnect(&self) {
        self.to_server.close();
    }
}
