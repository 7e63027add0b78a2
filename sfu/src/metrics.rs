//! Per-room and per-participant counters, as data ([`SfuStats`]), IDs only (room and
//! participant sids; never names or identities). str0m's stats events supply traffic,
//! NACK and PLI counts; the forwarder counts layer switches and keyframe requests. The
//! server's driver turns them into Prometheus text.

use std::collections::HashMap;

use str0m::media::{Mid, Rid};

use super::core::Core;
use super::delay::ForwardDelays;
use super::participant::Side;

/// Counters of one participant.
#[derive(Debug, Default, Clone)]
pub(crate) struct ParticipantMetrics {
    /// Bytes received and sent per peer connection (str0m `PeerStats`).
    pub(crate) peer_bytes: HashMap<Side, (u64, u64)>,
    /// Per sending m-section and layer: packets, bytes, NACKs and PLI/FIRs received.
    pub(crate) egress: HashMap<(Side, Mid, Option<Rid>), [u64; 4]>,
    /// Simulcast layer switches of its down tracks.
    pub(crate) layer_switches: u64,
    /// Keyframe requests the SFU sent it as a publisher.
    pub(crate) keyframe_requests: u64,
}

/// What the SFU counts, as data: rooms with their participants' counters. The driver
/// formats it (Prometheus text in the server); the core never formats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SfuStats {
    /// Open rooms.
    pub rooms: Vec<RoomStats>,
    /// Sampled time forwarded packets spent in the SFU, arrival to departure.
    pub forward_delay: ForwardDelays,
}

/// One room's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomStats {
    /// The room's sid (never its name).
    pub sid: String,
    /// Its participants (their sids; never names or identities).
    pub participants: Vec<ParticipantStats>,
}

/// One participant's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipantStats {
    /// The participant's sid.
    pub sid: String,
    /// Bytes received from it.
    pub received_bytes: u64,
    /// Media packets received from it on the path beside str0m (`fast_rx.rs`).
    pub received_packets_beside_str0m: u64,
    /// Bytes sent to it.
    pub sent_bytes: u64,
    /// Media packets sent to it.
    pub sent_packets: u64,
    /// NACKs it sent.
    pub nacks: u64,
    /// PLI/FIR keyframe requests it sent.
    pub plis: u64,
    /// Keyframe requests the SFU sent it as a publisher.
    pub keyframe_requests: u64,
    /// Simulcast layer switches of its subscriptions.
    pub layer_switches: u64,
    /// Estimated downlink to it (TWCC), bit/s; 0 before the first estimate.
    pub downlink_estimate_bps: u64,
    /// Its connection's grade as it was last told: 0 lost, 1 poor, 2 good, 3 excellent.
    pub connection_quality: u64,
}

impl Core {
    /// Every room's and participant's counters now.
    pub fn stats(&self) -> SfuStats {
        let rooms = self
            .rooms
            .values()
            .map(|room| RoomStats {
                sid: room.sid.clone(),
                participants: room
                    .members
                    .iter()
                    .filter_map(|c| self.participants.get(c))
                    .map(|p| {
                        let m = &p.metrics;
                        let (received_bytes, sent_bytes) = m
                            .peer_bytes
                            .values()
                            .fold((0, 0), |(r, t), (pr, pt)| (r + pr, t + pt));
                        let egress = m.egress.values().fold([0u64; 4], |mut sum, e| {
                            for (s, v) in sum.iter_mut().zip(e) {
                                *s += v;
                            }
                            sum
                        });
                        let beside = p.publisher.fast.as_ref().map_or((0, 0), |f| f.received());
                        ParticipantStats {
                            sid: p.sid.clone(),
                            received_bytes: received_bytes + beside.1,
                            received_packets_beside_str0m: beside.0,
                            sent_bytes,
                            sent_packets: egress[0],
                            nacks: egress[2],
                            plis: egress[3],
                            keyframe_requests: m.keyframe_requests,
                            layer_switches: m.layer_switches,
                            downlink_estimate_bps: p.downlink_bps.unwrap_or_default(),
                            connection_quality: u64::from(super::quality::rank(p.quality.shown)),
                        }
                    })
                    .collect(),
            })
            .collect();
        SfuStats {
            rooms,
            forward_delay: self.forward_delay.delays.clone(),
        }
    }
}
