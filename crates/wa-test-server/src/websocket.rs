//! The server on a loopback socket, for a client in another process: each
//! accepted TCP connection is upgraded to WebSocket (plain `ws://`, no TLS)
//! and served as a [`Link`], as the in-memory transport's are.
//!
//! whatsapp-rust's `TokioWebSocketTransportFactory` writes each chunk as one
//! binary message; the server's chunks go back the same way. A close on
//! either side ends the other: the client's close frame (or a dropped
//! socket) closes the link's input, and the server ending the stream sends a
//! close frame.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Weak};

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_websockets::{CloseCode, Message, ServerBuilder};
use whatsapp_rust::async_channel;
use whatsapp_rust::bytes::Bytes;

use crate::Shared;
use crate::connection::{self, Link};

/// Binds 127.0.0.1 on a free port and spawns the accept loop; returns the
/// address bound. The loop holds the server weakly: it ends when the
/// server is dropped (and is aborted then, see `Shared`'s listeners).
pub(crate) async fn listen(shared: &Arc<Shared>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(accept_loop(listener, Arc::downgrade(shared)));
    shared.add_listener(task.abort_handle());
    Ok(addr)
}

async fn accept_loop(listener: TcpListener, shared: Weak<Shared>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::debug!("test server: accept: {error}");
                continue;
            }
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        tokio::spawn(bridge(shared, stream));
    }
}

/// Upgrades `stream` and serves it as a new connection until either side
/// closes.
async fn bridge(shared: Arc<Shared>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut socket = match ServerBuilder::new().accept(stream).await {
        Ok((_request, socket)) => socket,
        Err(error) => {
            tracing::debug!("test server: WebSocket upgrade: {error}");
            return;
        }
    };
    let (to_server, from_client) = async_channel::unbounded();
    let (to_client, from_server) = async_channel::unbounded::<Bytes>();
    let index = shared.open_connection();
    let served = tokio::spawn(connection::serve(
        shared,
        index,
        Link {
            from_client,
            to_client,
        },
    ));
    loop {
        tokio::select! {
            message = socket.next() => match message {
                Some(Ok(message)) if message.is_binary() => {
                    let chunk = Bytes::from(message.into_payload());
                    if to_server.send(chunk).await.is_err() {
                        break;
                    }
                }
                // Pings are answered by tokio-websockets; text is not ours.
                Some(Ok(message)) if !message.is_close() => {}
                // A close frame, a read error or the end of the socket.
                _ => {
                    to_server.close();
                    break;
                }
            },
            chunk = from_server.recv() => match chunk {
                Ok(chunk) => {
                    if socket.send(Message::binary(chunk)).await.is_err() {
                        to_server.close();
                        break;
                    }
                }
                // The server ended the stream.
                Err(_) => {
                    let _ = socket.send(Message::close(Some(CloseCode::NORMAL_CLOSURE), "")).await;
                    break;
                }
            },
        }
    }
    to_server.close();
    let _ = socket.close().await;
    let _ = served.await;
}
