//! Where the core meets the send path beside str0m (`fast_tx.rs`): the subscriber's
//! RTCP read beside str0m, the estimate handed to layer selection, and the pacer's and
//! probes' timers.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use super::core::{Core, CoreOutput};
use super::participant::{Participant, Side};

/// Whether `data` is RTCP (RFC 5761 4: version 2, packet type 192 to 223).
fn is_rtcp(data: &[u8]) -> bool {
    data.len() >= 8 && data[0] >> 6 == 2 && (192..=223).contains(&data[1])
}

impl Core {
    /// An RTCP packet from a subscriber whose transport sends beside str0m: its
    /// feedback and NACKs are read here, and a changed estimate re-runs layer
    /// selection. Returns whether str0m must read it as well (keyframe requests,
    /// receiver reports): all but transport-wide feedback alone
    /// (`FastSend::read_rtcp`).
    pub(crate) fn read_rtcp_beside_str0m(
        &mut self,
        now: Instant,
        remote: (str0m::net::Protocol, SocketAddr, SocketAddr),
        data: &[u8],
    ) -> bool {
        if !is_rtcp(data) {
            return true;
        }
        let Some(&(conn, side)) = self.routes.get(&remote.2) else {
            return true;
        };
        let Some(p) = self.participants.get_mut(&conn) else {
            return true;
        };
        if p.down_side() != side {
            return true;
        }
        let Some(send) = p.peer_mut(side).and_then(|peer| peer.send.as_mut()) else {
            return true;
        };
        let (estimate, for_str0m) = send.read_rtcp(now, remote, data, &mut self.outputs);
        if let Some(estimate) = estimate {
            let (acked_bps, loss, queued, sent) = send.state();
            tracing::debug!(
                conn,
                estimate,
                ?acked_bps,
                loss,
                queued,
                sent_packets = sent.0,
                "sfu downlink estimate beside str0m"
            );
            p.downlink_bps = Some(estimate);
            self.reselect_layers(now, conn);
        }
        for_str0m
    }
}

impl Participant {
    /// Runs the pacers and probes of its transports sending beside str0m that are due.
    pub(crate) fn send_timers(&mut self, now: Instant, outputs: &mut VecDeque<CoreOutput>) {
        for side in [Side::Publisher, Side::Subscriber] {
            let Some(send) = self.peer_mut(side).and_then(|peer| peer.send.as_mut()) else {
                continue;
            };
            if send.poll_timeout().is_some_and(|at| at <= now) {
                send.on_timeout(now, outputs);
            }
        }
    }
}
