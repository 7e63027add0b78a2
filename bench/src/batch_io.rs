//! The generator's socket calls, batched: a peer's packets of one loop turn leave in one
//! `sendmmsg`, and what arrived is read with `recvmmsg` and UDP GRO.
//!
//! Why: the generator pays a system call per datagram it sends or reads, and so did the
//! SFU before its socket was batched (`server/src/sfu/udp.rs`). At 128 visits the
//! generator's core was as busy as the SFU's, so the benchmark reached the generator's
//! ceiling before the SFU's (docs/sfu.md, "A generator that can keep up").
//!
//! What the SFU sees does not change: `sendmmsg` still sends each packet as its own
//! datagram (no segmentation offload towards the SFU, whose receive cost per datagram is
//! what is measured). The other way, GRO lets a segmented write of the SFU's arrive here
//! whole, as a receiver on another host would cost the SFU nothing; on loopback the
//! sender's CPU otherwise pays for every segment's delivery into this socket.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use quinn_udp::{RecvMeta, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Buffers one batched read fills (each as large as a GRO batch can be).
const RECEIVE_SLOTS: usize = 4;

/// Receive buffers and the socket state that reads into them.
pub struct RecvSlots {
    state: UdpSocketState,
    bufs: Vec<Vec<u8>>,
    meta: Vec<RecvMeta>,
    count: usize,
}

impl RecvSlots {
    /// Turns GRO on for `socket` and sets up the buffers.
    pub fn new(socket: &UdpSocket) -> io::Result<Self> {
        let state = UdpSocketState::new(socket.into())?;
        let size = 2048 * state.gro_segments().max(1);
        Ok(Self {
            bufs: vec![vec![0u8; size]; RECEIVE_SLOTS],
            meta: vec![RecvMeta::default(); RECEIVE_SLOTS],
            count: 0,
            state,
        })
    }

    /// Reads what is queued on `socket` (without waiting); `Ok(false)` when nothing was.
    pub fn try_recv(&mut self, socket: &UdpSocket) -> io::Result<bool> {
        let Self {
            state,
            bufs,
            meta,
            count,
        } = self;
        let read = socket.try_io(Interest::READABLE, || {
            let mut slices: Vec<IoSliceMut> = bufs.iter_mut().map(|b| IoSliceMut::new(b)).collect();
            state.recv(socket.into(), &mut slices, meta)
        });
        match read {
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

    /// The datagrams the last read took, each with its sender.
    pub fn received(&self) -> impl Iterator<Item = (SocketAddr, &[u8])> {
        self.meta[..self.count]
            .iter()
            .zip(&self.bufs)
            .flat_map(|(meta, buf)| {
                buf[..meta.len]
                    .chunks(meta.stride.max(1))
                    .map(move |datagram| (meta.addr, datagram))
            })
    }
}

/// Sealed packets waiting for one `sendmmsg` (their buffers are kept for reuse).
#[derive(Debug, Default)]
pub struct Outbox {
    packets: Vec<Vec<u8>>,
    queued: usize,
}

impl Outbox {
    /// An empty buffer to seal the next packet into; it is sent by the next
    /// [`Outbox::flush`].
    pub fn next_buffer(&mut self, capacity: usize) -> &mut Vec<u8> {
        if self.queued == self.packets.len() {
            self.packets.push(Vec::with_capacity(capacity));
        }
        let buffer = &mut self.packets[self.queued];
        buffer.clear();
        self.queued += 1;
        buffer
    }

    /// Takes back the buffer [`Outbox::next_buffer`] handed out last (sealing failed).
    pub fn unqueue_last(&mut self) {
        self.queued = self.queued.saturating_sub(1);
    }

    /// Sends every queued packet to `to`, each its own datagram, in as few system calls
    /// as the kernel takes. What the socket cannot take now is dropped, as
    /// `try_send_to` would.
    pub fn flush(&mut self, socket: &UdpSocket, to: SocketAddr) {
        let packets = &self.packets[..self.queued];
        self.queued = 0;
        if packets.is_empty() {
            return;
        }
        let address = socket2::SockAddr::from(to);
        let mut iovecs: Vec<libc::iovec> = packets
            .iter()
            .map(|p| libc::iovec {
                iov_base: p.as_ptr() as *mut libc::c_void,
                iov_len: p.len(),
            })
            .collect();
        let mut headers: Vec<libc::mmsghdr> = iovecs
            .iter_mut()
            .map(|iov| {
                // SAFETY: an all-zero `mmsghdr` is valid (null pointers, zero lengths).
                let mut header: libc::mmsghdr = unsafe { std::mem::zeroed() };
                header.msg_hdr.msg_name = address.as_ptr() as *mut libc::c_void;
                header.msg_hdr.msg_namelen = address.len();
                header.msg_hdr.msg_iov = iov;
                header.msg_hdr.msg_iovlen = 1;
                header
            })
            .collect();
        let mut sent = 0;
        while sent < headers.len() {
            let rest = &mut headers[sent..];
            // SAFETY: every header points at a live iovec, a live packet buffer and the
            // address above, all borrowed until this call returns.
            let n = unsafe {
                libc::sendmmsg(socket.as_raw_fd(), rest.as_mut_ptr(), rest.len() as u32, 0)
            };
            if n <= 0 {
                break;
            }
            sent += n as usize;
        }
    }
}
