//! Per-room and per-participant counters in Prometheus' text format, IDs only (room and
//! participant sids; never names or identities). str0m's stats events supply traffic,
//! NACK and PLI counts; the forwarder counts layer switches and keyframe requests.

use std::collections::HashMap;
use std::fmt::Write as _;

use str0m::media::{Mid, Rid};

use super::core::Core;
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

struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    samples: Vec<(String, u64)>,
}

impl Core {
    /// All metrics, in Prometheus text exposition format.
    pub fn metrics_text(&self) -> String {
        let mut families = [
            (
                "bedside_sfu_participant_received_bytes_total",
                "Bytes received from the participant.",
                "counter",
            ),
            (
                "bedside_sfu_participant_sent_bytes_total",
                "Bytes sent to the participant.",
                "counter",
            ),
            (
                "bedside_sfu_participant_sent_packets_total",
                "Media packets sent to the participant.",
                "counter",
            ),
            (
                "bedside_sfu_participant_nacks_total",
                "NACKs received from the participant.",
                "counter",
            ),
            (
                "bedside_sfu_participant_plis_total",
                "PLI/FIR keyframe requests received from the participant.",
                "counter",
            ),
            (
                "bedside_sfu_participant_keyframe_requests_total",
                "Keyframe requests the SFU sent the participant.",
                "counter",
            ),
            (
                "bedside_sfu_participant_layer_switches_total",
                "Simulcast layer switches of the participant's subscriptions.",
                "counter",
            ),
            (
                "bedside_sfu_participant_downlink_estimate_bps",
                "Estimated downlink to the participant (TWCC).",
                "gauge",
            ),
        ]
        .map(|(name, help, kind)| Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        });
        let mut rooms = Vec::new();
        for room in self.rooms.values() {
            rooms.push((format!("room=\"{}\"", room.sid), room.members.len() as u64));
            for p in room.members.iter().filter_map(|c| self.participants.get(c)) {
                let labels = format!("room=\"{}\",participant=\"{}\"", room.sid, p.sid);
                let m = &p.metrics;
                let (rx, tx) = m
                    .peer_bytes
                    .values()
                    .fold((0, 0), |(r, t), (pr, pt)| (r + pr, t + pt));
                let egress = m.egress.values().fold([0u64; 4], |mut sum, e| {
                    for (s, v) in sum.iter_mut().zip(e) {
                        *s += v;
                    }
                    sum
                });
                let values = [
                    rx,
                    tx,
                    egress[0],
                    egress[2],
                    egress[3],
                    m.keyframe_requests,
                    m.layer_switches,
                    p.downlink_bps.unwrap_or_default(),
                ];
                for (family, value) in families.iter_mut().zip(values) {
                    family.samples.push((labels.clone(), value));
                }
            }
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP bedside_sfu_rooms Open rooms.\n# TYPE bedside_sfu_rooms gauge"
        );
        let _ = writeln!(out, "bedside_sfu_rooms {}", self.rooms.len());
        let _ = writeln!(
            out,
            "# HELP bedside_sfu_room_participants Participants per room.\n# TYPE bedside_sfu_room_participants gauge"
        );
        for (labels, value) in rooms {
            let _ = writeln!(out, "bedside_sfu_room_participants{{{labels}}} {value}");
        }
        for family in families {
            let _ = writeln!(
                out,
                "# HELP {} {}\n# TYPE {} {}",
                family.name, family.help, family.name, family.kind
            );
            for (labels, value) in family.samples {
                let _ = writeln!(out, "{}{{{labels}}} {value}", family.name);
            }
        }
        out
    }
}
