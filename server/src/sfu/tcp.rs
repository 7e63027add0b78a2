//! ICE over TCP, for clients on networks that block UDP: the SFU offers a passive TCP
//! host candidate (RFC 6544) next to the UDP one, and browsers connect to it. Packets
//! travel RFC 4571-framed (a 2-byte length before each). This is IO only: connections
//! report frames to the driver, which feeds them to the core like datagrams.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};

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

/// What the ICE-TCP port tolerates. A TCP connection costs a task, buffers and a
/// descriptor before it has proved anything, so there are at most `max_connections`;
/// each must start with a STUN message within `handshake` and then never fall silent
/// for `idle` (ICE consent checks arrive every few seconds).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TcpLimits {
    /// Most connections open at once; further ones are closed on accept.
    pub max_connections: usize,
    /// Time to the first (STUN) frame.
    pub handshake: Duration,
    /// Longest silence after it.
    pub idle: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            handshake: Duration::from_secs(10),
            idle: Duration::from_secs(30),
        }
    }
}

/// Accepts connections until the driver goes away.
pub(crate) async fn accept(
    listener: TcpListener,
    events: mpsc::Sender<TcpEvent>,
    limits: TcpLimits,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut backoff = Duration::from_millis(10);
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                backoff = Duration::from_millis(10);
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::debug!("sfu tcp connection refused: at capacity");
                    continue; // dropping the stream closes it
                };
                let _ = stream.set_nodelay(true);
                let events = events.clone();
                tokio::spawn(async move {
                    connection(stream, remote, events, limits).await;
                    drop(slot);
                });
            }
            Err(error) => {
                // Out of descriptors (EMFILE) and the like: wait instead of spinning.
                tracing::debug!(%error, "sfu tcp accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
        if events.is_closed() {
            return;
        }
    }
}

/// Whether a frame is a STUN message (RFC 5389: top bits zero, the magic cookie).
fn is_stun(frame: &[u8]) -> bool {
    frame.len() >= 20 && frame[0] & 0xC0 == 0 && frame[4..8] == [0x21, 0x12, 0xA4, 0x42]
}

/// Reads one RFC 4571 frame, or `None` on close, error or `deadline` passing.
async fn read_frame(reader: &mut OwnedReadHalf, deadline: Duration) -> Option<Vec<u8>> {
    let read = async {
        let mut len = [0u8; 2];
        reader.read_exact(&mut len).await.ok()?;
        let mut data = vec![0u8; usize::from(u16::from_be_bytes(len))];
        reader.read_exact(&mut data).await.ok()?;
        Some(data)
    };
    tokio::time::timeout(deadline, read).await.ok().flatten()
}

async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    events: mpsc::Sender<TcpEvent>,
    limits: TcpLimits,
) {
    let (mut reader, mut writer) = stream.into_split();
    // Nothing reaches the driver until the peer has spoken STUN.
    let Some(first) = read_frame(&mut reader, limits.handshake).await else {
        return;
    };
    if !is_stun(&first) {
        return tracing::debug!("sfu tcp connection closed: not ICE");
    }
    let (frames, mut outgoing) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    let open = TcpEvent::Open {
        remote,
        writer: frames,
    };
    if events.send(open).await.is_err() {
        return;
    }
    let first = TcpEvent::Frame {
        remote,
        data: first,
    };
    if events.send(first).await.is_err() {
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
    while let Some(data) = read_frame(&mut reader, limits.idle).await {
        if events.send(TcpEvent::Frame { remote, data }).await.is_err() {
            break;
        }
    }
    write.abort();
    let _ = events.send(TcpEvent::Closed { remote }).await;
}

#[cfg(test)]
#[path = "tcp_test.rs"]
mod tests;
