//! The media UDP socket, with the local address each datagram arrived at.
//!
//! A socket bound to `0.0.0.0` (or `::`) on a host with several addresses receives on
//! all of them, but a plain `send_to` leaves the reply's *source* address to the routing
//! table, which may pick another address than the one the client sent to. ICE (RFC 8445
//! §7.2.5.2.1) drops a response whose source is not the address it checked, so the
//! advertised candidate never connects. This socket reads the destination of each
//! datagram (`IP_PKTINFO`, through `quinn-udp`, which also batches receives) and sends
//! replies to that peer from that same address. Behind a 1:1 NAT the advertised address
//! is not local at all; replies then leave from the private address the NAT forwarded
//! to, which the NAT maps back. A socket bound to one address needs none of this.

use std::collections::HashMap;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};

use quinn_udp::{RecvMeta, Transmit, UdpSocketState};
use tokio::io::Interest;

/// Peers remembered with the local address they reach us at. Past this many the map
/// starts over (it refills from the next packet of each live peer).
const MAX_REMEMBERED_PEERS: usize = 65_536;

/// One received buffer: `len` bytes from `source`, split into datagrams of `stride`
/// bytes (more than one when the kernel coalesced them, GRO).
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Bytes in the buffer.
    pub len: usize,
    /// Size of each datagram in it (the last may be shorter).
    pub stride: usize,
    /// The sender.
    pub source: SocketAddr,
    /// Our address the datagrams were sent to, when the OS tells it.
    pub local_ip: Option<IpAddr>,
}

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

    /// A buffer large enough for one coalesced receive.
    pub fn receive_buffer(&self) -> Vec<u8> {
        vec![0u8; 2048 * self.state.gro_segments().max(1)]
    }

    /// Waits for the next buffer of datagrams.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        loop {
            self.socket.readable().await?;
            let mut meta = [RecvMeta::default()];
            let received = self.socket.try_io(Interest::READABLE, || {
                let mut slices = [IoSliceMut::new(buf)];
                self.state
                    .recv((&self.socket).into(), &mut slices, &mut meta)
            });
            match received {
                Ok(0) => continue,
                Ok(_) => {
                    let meta = meta[0];
                    return Ok(Received {
                        len: meta.len,
                        stride: meta.stride.max(1),
                        source: meta.addr,
                        local_ip: meta.dst_ip,
                    });
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Err(error),
            }
        }
    }

    /// Sends one datagram from `source_ip` (ignored unless bound to a wildcard). A full
    /// socket buffer drops it, as UDP would.
    pub fn try_send(&self, contents: &[u8], destination: SocketAddr, source_ip: Option<IpAddr>) {
        let transmit = Transmit {
            destination,
            ecn: None,
            contents,
            segment_size: None,
            src_ip: source_ip.filter(|_| self.wildcard),
        };
        let _ = self.socket.try_io(Interest::WRITABLE, || {
            self.state.try_send((&self.socket).into(), &transmit)
        });
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
