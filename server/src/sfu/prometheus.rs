//! The SFU's counters ([`bedside_sfu::SfuStats`]) in Prometheus' text exposition format,
//! for `/metrics`. Labels are sids only: never names, identities or addresses.

use std::fmt::Write as _;

use bedside_sfu::delay::BUCKET_BOUNDS_US;
use bedside_sfu::{ForwardDelays, ParticipantStats, SfuStats};

/// One per-participant family: name, help, type, and how to read it.
type Family = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ParticipantStats) -> u64,
);

const FAMILIES: [Family; 10] = [
    (
        "bedside_sfu_participant_received_bytes_total",
        "Bytes received from the participant.",
        "counter",
        |p| p.received_bytes,
    ),
    (
        "bedside_sfu_participant_received_packets_beside_str0m_total",
        "Media packets received from the participant on the path beside str0m.",
        "counter",
        |p| p.received_packets_beside_str0m,
    ),
    (
        "bedside_sfu_participant_sent_bytes_total",
        "Bytes sent to the participant.",
        "counter",
        |p| p.sent_bytes,
    ),
    (
        "bedside_sfu_participant_sent_packets_total",
        "Media packets sent to the participant.",
        "counter",
        |p| p.sent_packets,
    ),
    (
        "bedside_sfu_participant_nacks_total",
        "NACKs received from the participant.",
        "counter",
        |p| p.nacks,
    ),
    (
        "bedside_sfu_participant_plis_total",
        "PLI/FIR keyframe requests received from the participant.",
        "counter",
        |p| p.plis,
    ),
    (
        "bedside_sfu_participant_keyframe_requests_total",
        "Keyframe requests the SFU sent the participant.",
        "counter",
        |p| p.keyframe_requests,
    ),
    (
        "bedside_sfu_participant_layer_switches_total",
        "Simulcast layer switches of the participant's subscriptions.",
        "counter",
        |p| p.layer_switches,
    ),
    (
        "bedside_sfu_participant_downlink_estimate_bps",
        "Estimated downlink to the participant (TWCC).",
        "gauge",
        |p| p.downlink_estimate_bps,
    ),
    (
        "bedside_sfu_participant_connection_quality",
        "The participant's connection grade: 0 lost, 1 poor, 2 good, 3 excellent.",
        "gauge",
        |p| p.connection_quality,
    ),
];

/// `stats` as Prometheus text.
pub fn format(stats: &SfuStats) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP bedside_sfu_rooms Open rooms.\n# TYPE bedside_sfu_rooms gauge"
    );
    let _ = writeln!(out, "bedside_sfu_rooms {}", stats.rooms.len());
    let _ = writeln!(
        out,
        "# HELP bedside_sfu_room_participants Participants per room.\n# TYPE bedside_sfu_room_participants gauge"
    );
    for room in &stats.rooms {
        let _ = writeln!(
            out,
            "bedside_sfu_room_participants{{room=\"{}\"}} {}",
            room.sid,
            room.participants.len()
        );
    }
    for (name, help, kind, read) in FAMILIES {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for room in &stats.rooms {
            for p in &room.participants {
                let _ = writeln!(
                    out,
                    "{name}{{room=\"{}\",participant=\"{}\"}} {}",
                    room.sid,
                    p.sid,
                    read(p)
                );
            }
        }
    }
    format_delay(&mut out, &stats.forward_delay);
    out
}

/// The forwarding delay as a Prometheus histogram (cumulative buckets, seconds), one
/// series per media kind.
fn format_delay(out: &mut String, delays: &ForwardDelays) {
    let name = "bedside_sfu_forward_delay_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Time a forwarded packet spent in the SFU, arrival to departure (sampled).\n# TYPE {name} histogram"
    );
    for (kind, delay) in [("audio", &delays.audio), ("video", &delays.video)] {
        let mut cumulative = 0;
        for (bound, count) in BUCKET_BOUNDS_US.iter().zip(delay.buckets) {
            cumulative += count;
            let le = *bound as f64 / 1e6;
            let _ = writeln!(
                out,
                "{name}_bucket{{kind=\"{kind}\",le=\"{le}\"}} {cumulative}"
            );
        }
        let count = delay.count();
        let _ = writeln!(out, "{name}_bucket{{kind=\"{kind}\",le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum{{kind=\"{kind}\"}} {}",
            delay.sum_us as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count{{kind=\"{kind}\"}} {count}");
    }
}
