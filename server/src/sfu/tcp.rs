//! ICE over TCP, for clients on networks that block UDP: the SFU offers a passive TCP
//! host candidate (RFC 6544) next to the UDP one, and browsers connect to it. Packets
//! travel RFC 4571-framed (a 2-byte length before each). This is IO only: connections
//! report frames to the driver, which feeds them to the core like datagrams.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Frames queued towards one TCP peer before further ones are dropped (like UDP).
const WRITE_QUEUE: usize = 512;

/// What the TCP side tells the driver.
#[derive(Debug)]
pub(crate) enum TcpEvent {
    /// A peer connected; frames for it go to `writer`.
    Open {
        remote: SocketAddr,
        writer: mpsc::Sender<Vec<u8>>,
    },
    /// One framed packet from a peer.
    Frame { remote: SocketAddr, data: Vec<u8> },
    /// The peer is gone.
    Closed { remote: SocketAddr },
}

/// Accepts connections until the driver goes away.
pub(crate) async fn accept(listener: TcpListener, events: mpsc::Sender<TcpEvent>) {
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, remote, events.clone()));
            }
            Err(error) => tracing::debug!(%error, "sfu tcp accept failed"),
        }
        if events.is_closed() {
            return;
        }
    }
}

async fn connection(stream: TcpStream, remote: SocketAddr, events: mpsc::Sender<TcpEvent>) {
    let (mut reader, mut writer) = stream.into_split();
    let (frames, mut outgoing) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    let open = TcpEvent::Open {
        remote,
        writer: frames,
    };
    if events.send(open).await.is_err() {
        return;
    }
    let write = tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            let Ok(len) = u16::try_from(frame.len()) else {
                continue;
            };
            let mut framed = Vec::with_capacity(frame.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(&frame);
            if writer.write_all(&framed).await.is_err() {
                return;
            }
        }
    });
    loop {
        let mut len = [0u8; 2];
        if reader.read_exact(&mut len).await.is_err() {
            break;
        }
        let mut data = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if reader.read_exact(&mut data).await.is_err() {
            break;
        }
        if events.send(TcpEvent::Frame { remote, data }).await.is_err() {
            break;
        }
    }
    write.abort();
    let _ = events.send(TcpEvent::Closed { remote }).await;
}
