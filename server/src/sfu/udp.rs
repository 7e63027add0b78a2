//! The media UDP socket, with the local address each datagram arrived at.
//!
//! A socket bound to `0.0.0.0` (or `::`) on a host with several addresses receives on
//! all of them, but a plain `send_to` leaves the reply's *source* address to the routing
//! table, which may pick another address than the one the client sent to. ICE (RFC 8445
//! §7.2.5.2.1) drops a response whose source is not the address it checked, so the
//! advertised candidate never connects. This socket reads the destination of each
//! datagram (`IP_PKTINFO`, through `quinn-udp`) and sends replies to that peer from
//! that same address. Behind a 1:1 NAT the advertised address is not local at all;
//! replies then leave from the private address the NAT forwarded to, which the NAT maps
//! back. A socket bound to one address needs none of this.
//!
//! Receives are batched (`recvmmsg`, and GRO within each buffer), and consecutive
//! equal-size datagrams to one peer leave in one segmented write (GSO): per-packet
//! system calls were the largest share of the SFU's time (docs/sfu.md).

use std::collections::HashMap;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};

use quinn_udp::{RecvMeta, Transmit, UdpSocketState};
use tokio::io::Interest;

/// Peers remembered with the local address they reach us at. Past this many the map
/// starts over (it refills from the next packet of each live peer).
const MAX_REMEMBERED_PEERS: usize = 65_536;

/// One received buffer from `source`, split into datagrams of `stride` bytes (more than
/// one when the kernel coalesced them, GRO).
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Size of each datagram in it (the last may be shorter).
    pub stride: usize,
    /// The sender.
    pub source: SocketAddr,
    /// Our address the datagrams were sent to, when the OS tells it.
    pub local_ip: Option<IpAddr>,
    /// When the kernel received them, since the Unix epoch (`SO_TIMESTAMPNS`, which
    /// quinn-udp turns on).
    pub kernel_time: Option<std::time::Duration>,
}

/// Buffers of one batched receive and what arrived in them.
#[derive(Debug)]
pub struct RecvBatch {
    bufs: Vec<Vec<u8>>,
    meta: Vec<RecvMeta>,
    count: usize,
}

impl RecvBatch {
    /// What the last receive read: each buffer with where it came from.
    pub fn received(&self) -> impl Iterator<Item = (Received, &[u8])> {
        self.meta[..self.count]
            .iter()
            .zip(&self.bufs)
            .map(|(meta, buf)| {
                let received = Received {
                    stride: meta.stride.max(1),
                    source: meta.addr,
                    local_ip: meta.dst_ip,
                    kernel_time: meta.timestamp,
                };
                (received, &buf[..meta.len])
            })
    }
}

/// Datagrams queued for one segmented send ([`MediaSocket::queue`]).
#[derive(Debug)]
pub struct SendBatch {
    destination: SocketAddr,
    source_ip: Option<IpAddr>,
    segment: usize,
    bytes: Vec<u8>,
    count: usize,
    /// Ended by a shorter datagram: nothing more may join.
    closed: bool,
}

impl Default for SendBatch {
    fn default() -> Self {
        Self {
            destination: SocketAddr::from(([0, 0, 0, 0], 0)),
            source_ip: None,
            segment: 0,
            bytes: Vec::with_capacity(64 * 1024),
            count: 0,
            closed: false,
        }
    }
}

/// The most one segmented write may carry: a UDP datagram's 65,535 bytes less the
/// IPv4 and UDP headers. The kernel refuses a larger GSO write whole (`EMSGSIZE`), so
/// before this cap a burst of 55 or more 1,200-byte packets to one peer in one turn (a
/// 720p keyframe forwarded unpaced, a probe cluster) was lost entire, and unseen.
const MAX_SEGMENTED_BYTES: usize = 65_535 - 20 - 8;

/// What the media socket asks the kernel to buffer each way.
const SOCKET_BUFFER_BYTES: usize = 8 * 1024 * 1024;

/// The SFU's UDP socket.
#[derive(Debug)]
pub struct MediaSocket {
    socket: tokio::net::UdpSocket,
    state: UdpSocketState,
    /// Bound to a wildcard address: replies need an explicit source.
    wildcard: bool,
}

impl MediaSocket {
    /// Binds `addr` (port 0 picks one).
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        let socket = tokio::net::UdpSocket::bind(addr).await?;
        // One socket carries every peer of the shard: at thousands of packets a second,
        // the kernel's default buffer (about 200 kB) fills within milliseconds of a busy
        // turn and drops media. Ask for more (the kernel caps it at `net.core.rmem_max`
        // / `wmem_max`; raise those on a media host, as for LiveKit).
        let sock = socket2::SockRef::from(&socket);
        for (what, result) in [
            ("receive", sock.set_recv_buffer_size(SOCKET_BUFFER_BYTES)),
            ("send", sock.set_send_buffer_size(SOCKET_BUFFER_BYTES)),
        ] {
            if let Err(error) = result {
                tracing::warn!(%error, "sfu udp {what} buffer not enlarged");
            }
        }
        let state = UdpSocketState::new((&socket).into())?;
        Ok(Self {
            socket,
            state,
            wildcard: addr.ip().is_unspecified(),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Buffers for one batched receive.
    pub fn receive_batch(&self) -> RecvBatch {
        let slots = quinn_udp::BATCH_SIZE;
        RecvBatch {
            bufs: vec![vec![0u8; 2048 * self.state.gro_segments().max(1)]; slots],
            meta: vec![RecvMeta::default(); slots],
            count: 0,
        }
    }

    /// Waits for datagrams and reads as many as are queued, up to the batch's size, in
    /// one system call where the OS allows (`recvmmsg`, and GRO within each buffer).
    pub async fn recv(&self, batch: &mut RecvBatch) -> io::Result<()> {
        loop {
            self.socket.readable().await?;
            if self.try_recv(batch)? {
                return Ok(());
            }
        }
    }

    /// Reads what is queued, as [`MediaSocket::recv`] does, without waiting: false
    /// when nothing was.
    pub fn try_recv(&self, batch: &mut RecvBatch) -> io::Result<bool> {
        let RecvBatch { bufs, meta, count } = &mut *batch;
        let received = self.socket.try_io(Interest::READABLE, || {
            let mut slices: Vec<IoSliceMut> = bufs.iter_mut().map(|b| IoSliceMut::new(b)).collect();
            self.state.recv((&self.socket).into(), &mut slices, meta)
        });
        match received {
            Ok(n) => {
                *count = n;
                Ok(n > 0)
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                *count = 0;
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }

    /// Queues a datagram in `batch`, sending what was queued first when this one
    /// cannot join it. Consecutive datagrams to one peer of one size (a video frame's
    /// packets) leave in one segmented write (UDP GSO) instead of one call each.
    pub fn queue(
        &self,
        batch: &mut SendBatch,
        contents: &[u8],
        destination: SocketAddr,
        source_ip: Option<IpAddr>,
    ) {
        let joins = batch.count > 0
            && batch.destination == destination
            && batch.source_ip == source_ip
            && batch.count < self.state.max_gso_segments()
            && batch.bytes.len() + contents.len() <= MAX_SEGMENTED_BYTES
            && contents.len() <= batch.segment
            && !batch.closed;
        if !joins {
            self.flush(batch);
            batch.destination = destination;
            batch.source_ip = source_ip;
            batch.segment = contents.len();
        }
        // A shorter datagram may end a segmented write, never sit inside one.
        batch.closed = contents.len() < batch.segment;
        batch.bytes.extend_from_slice(contents);
        batch.count += 1;
    }

    /// Sends what `batch` holds.
    pub fn flush(&self, batch: &mut SendBatch) {
        if batch.count == 0 {
            return;
        }
        let segment = (batch.count > 1).then_some(batch.segment);
        self.send_segments(&batch.bytes, segment, batch.destination, batch.source_ip);
        batch.bytes.clear();
        batch.count = 0;
        batch.closed = false;
    }

    /// One write of `contents` (split into `segment_size` datagrams if given) from
    /// `source_ip` (ignored unless bound to a wildcard). A full socket buffer drops it,
    /// as UDP would; any other failure is logged (without the address), so a write the
    /// kernel refuses is never lost unseen again.
    fn send_segments(
        &self,
        contents: &[u8],
        segment_size: Option<usize>,
        destination: SocketAddr,
        source_ip: Option<IpAddr>,
    ) {
        let transmit = Transmit {
            destination,
            ecn: None,
            contents,
            segment_size,
            src_ip: source_ip.filter(|_| self.wildcard),
        };
        let sent = self.socket.try_io(Interest::WRITABLE, || {
            self.state.try_send((&self.socket).into(), &transmit)
        });
        match sent {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => tracing::warn!(
                %error,
                bytes = contents.len(),
                segment_size,
                "sfu udp send failed"
            ),
        }
    }

    /// Whether replies need their source chosen (bound to a wildcard address).
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }
}

/// The local address each peer reaches the SFU at, learned from what it sends.
#[derive(Debug, Default)]
pub struct ReplySources {
    by_peer: HashMap<SocketAddr, IpAddr>,
}

impl ReplySources {
    /// Records that `peer` sent to our `local_ip`.
    pub fn learn(&mut self, peer: SocketAddr, local_ip: IpAddr) {
        if self.by_peer.get(&peer) == Some(&local_ip) {
            return;
        }
        if self.by_peer.len() >= MAX_REMEMBERED_PEERS {
            self.by_peer.clear();
        }
        self.by_peer.insert(peer, local_ip);
    }

    /// The address to reply to `peer` from, if known.
    pub fn for_peer(&self, peer: SocketAddr) -> Option<IpAddr> {
        self.by_peer.get(&peer).copied()
    }
}

#[cfg(test)]
#[path = "udp_test.rs"]
mod tests;
