//! The publishers' media path beside str0m (`fast_rx.rs`), with str0m peers as browsers:
//! their streams are handed over after the first packets, and the publisher hop's repair
//! (NACKs written by the SFU, answered by the publisher's RTX) still works.

use std::time::Duration;

use str0m::media::MediaKind;

use super::harness::Sim;
use super::{MODES, SECOND, wait_for_media};

/// Packets the SFU took from client `index` on the path beside str0m.
fn received_beside(sim: &Sim, index: usize) -> u64 {
    let identity = &sim.clients[index].identity;
    let snapshot = sim.core.snapshot("visit");
    let Some(sid) = snapshot
        .iter()
        .find(|p| &p.identity == identity)
        .map(|p| &p.sid)
    else {
        return 0;
    };
    sim.core
        .stats()
        .rooms
        .iter()
        .flat_map(|r| &r.participants)
        .filter(|p| &p.sid == sid)
        .map(|p| p.received_packets_beside_str0m)
        .sum()
}

#[test]
fn a_publishers_media_comes_beside_str0m_and_its_lost_uplink_packets_are_asked_for_again() {
    for mode in MODES {
        let mut sim = Sim::new(21);
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "media flows");
        sim.run(SECOND);
        let beside_before = received_beside(&sim, alice);
        assert!(beside_before > 0, "{mode:?}: streams were handed over");
        // Only alice's uplink loses: what bob misses, the SFU must have asked alice for.
        sim.lose_uplink(alice, 0.05);
        let (sent_before, got_before) = (
            sim.clients[alice].sent_video_frames,
            sim.clients[bob].frames(MediaKind::Video).len(),
        );
        sim.run(10 * SECOND);
        sim.lose_uplink(alice, 0.0);
        sim.run(SECOND / 2);
        let sent = sim.clients[alice].sent_video_frames - sent_before;
        let got = (sim.clients[bob].frames(MediaKind::Video).len() - got_before) as u64;
        // Frames of several packets, 5% of packets lost: without repair about one frame
        // in six would be incomplete.
        assert!(
            got * 100 >= sent * 97,
            "{mode:?}: the SFU's NACKs repaired alice's uplink: {got} of {sent} frames"
        );
        let beside = received_beside(&sim, alice) - beside_before;
        assert!(
            beside > 3 * sent,
            "{mode:?}: alice's packets came beside str0m: {beside} for {sent} frames"
        );
    }
}

#[test]
fn a_forged_or_replayed_publisher_packet_is_dropped_beside_str0m() {
    let mut sim = Sim::new(22);
    let alice = sim.join("alice", "visit", crate::core::PeerMode::Single, true);
    let bob = sim.join("bob", "visit", crate::core::PeerMode::Single, false);
    wait_for_media(&mut sim, bob, "media flows");
    sim.run(SECOND);
    let from = sim.clients[alice].addr;
    sim.capture_from(from);
    sim.run(SECOND / 5);
    let (_, copies) = sim.captured.take().expect("captured");
    let rtp: Vec<Vec<u8>> = copies
        .into_iter()
        .filter(|d| crate::fast_streams::is_rtp(d))
        .collect();
    assert!(rtp.len() > 20, "alice sent media: {}", rtp.len());
    let taken = received_beside(&sim, alice);
    for datagram in &rtp {
        let mut forged = datagram.clone();
        let last = forged.len() - 1;
        forged[last] ^= 0x01;
        sim.core.handle_datagram(sim.now, from, &forged);
        sim.core.handle_datagram(sim.now, from, datagram);
    }
    assert_eq!(
        received_beside(&sim, alice),
        taken,
        "neither a forged packet nor a replay of a real one was taken"
    );
    let frames = sim.clients[bob].frames(MediaKind::Video).len();
    sim.run(SECOND);
    assert!(
        sim.clients[bob].frames(MediaKind::Video).len() > frames + 10,
        "alice's stream carries on"
    );
}

#[test]
fn on_a_lossless_network_a_publisher_hears_every_packet_reported_received() {
    // str0m sees only the packets the path beside it does not take: its own feedback
    // would call the rest lost, and a browser's estimate would fall (fast_rx.rs).
    for mode in MODES {
        let mut sim = Sim::new(23);
        sim.raw_packets = true;
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "media flows");
        sim.run(2 * SECOND);
        let (received, lost) = sim.clients[alice].feedback_statuses;
        assert!(received > 500, "{mode:?}: alice heard feedback: {received}");
        assert_eq!(lost, 0, "{mode:?}: every packet reported arrived");
    }
}

#[test]
fn a_publisher_hears_when_its_packets_reached_the_host_not_when_a_busy_shard_read_them() {
    // The shard reads every 50 ms, as a loaded one might: feedback stamped with its
    // read would put all of a read's packets at one instant (two or three per 100 ms
    // report), and a browser's delay trend would read the shard's turns as a queue
    // on its link (docs/sfu.md, "What publishers hear").
    for mode in MODES {
        let mut sim = Sim::new(29);
        sim.raw_packets = true;
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "media flows");
        sim.server_reads_every = Some(Duration::from_millis(50));
        sim.run(SECOND);
        sim.clients[alice].feedback_arrival_times = (0, 0);
        sim.run(3 * SECOND);
        let (reports, times) = sim.clients[alice].feedback_arrival_times;
        assert!(
            reports >= 20,
            "{mode:?}: alice heard {reports} feedback reports"
        );
        let per_report = times as f64 / reports as f64;
        assert!(
            per_report >= 5.0,
            "{mode:?}: {per_report:.1} arrival times per report"
        );
    }
}
