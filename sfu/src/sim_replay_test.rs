//! A simulation run is reproducible from its seed: the same names, the same datagrams at
//! the same times. A test that fails is then a test that fails for that seed, every time.

use str0m::media::MediaKind;

use super::harness::{Sim, TracedDatagram};
use super::{SECOND, wait_for_media};
use crate::core::PeerMode;

#[test]
fn the_same_seed_names_every_room_participant_and_track_the_same() {
    // Rooms and participants are kept in ordered maps and sids come from the seeded
    // generator, so one seed gives one run's names.
    let names = |seed: u64| {
        let mut sim = Sim::new(seed);
        sim.join("alice", "visit", PeerMode::Single, true);
        let bob = sim.join("bob", "visit", PeerMode::Dual, true);
        wait_for_media(&mut sim, bob, "bob receives");
        sim.core.snapshot("visit")
    };
    let first = names(41);
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|p| p.published.len() == 2), "{first:?}");
    assert_eq!(names(41), first, "the same seed, the same sids");
    assert_ne!(names(42)[0].sid, first[0].sid, "another seed, other sids");
}

/// A call in both modes, traced from the first datagram (joins, ICE, DTLS, media), then
/// over a lossy network with one thin downlink (NACKs, estimates, layer switches).
///
/// On str0m's path only: with publishers' packets beside str0m (`fast_rx.rs`) they no
/// longer run their peer's timers on arrival, and str0m's send side then picks among
/// streams due at the same instant in `HashMap` order, which differs from run to run, so
/// departures can move by a few milliseconds. What the SFU takes and forwards stays the
/// same (`the_same_seed_takes_the_same_packets_beside_str0m`).
fn traced_call(seed: u64) -> Vec<TracedDatagram> {
    let mut sim = Sim::new(seed);
    sim.core.config.media_beside_str0m = false;
    sim.record_trace();
    let alice = sim.join("alice", "visit", PeerMode::Single, true);
    let bob = sim.join("bob", "visit", PeerMode::Dual, true);
    wait_for_media(&mut sim, bob, "bob receives");
    wait_for_media(&mut sim, alice, "alice receives");
    // Losses start once the handshakes are done: DTLS's own retransmission timing is
    // drawn by aws-lc and differs from run to run.
    sim.loss = 0.02;
    let before = sim.clients[alice].frames(MediaKind::Video).len();
    sim.limit_downlink(alice, Some(400_000));
    sim.run(4 * SECOND);
    assert!(
        sim.clients[alice].frames(MediaKind::Video).len() > before + 10,
        "alice still receives video"
    );
    let mut trace = sim.trace().to_vec();
    trace.sort_by_key(|d| (d.sent_at, d.from, d.to, d.len, d.lost));
    trace
}

/// Where two traces first differ, to say in a failure.
fn first_difference(a: &[TracedDatagram], b: &[TracedDatagram]) -> Option<usize> {
    let common = a.len().min(b.len());
    (0..common)
        .find(|&i| a[i] != b[i])
        .or((a.len() != b.len()).then_some(common))
}

#[test]
fn the_same_seed_sends_the_same_datagrams_at_the_same_times() {
    let first = traced_call(7);
    assert!(
        first.len() > 3_000,
        "the call ran: {} datagrams",
        first.len()
    );
    assert!(first.iter().any(|d| d.lost), "the network lost some");
    let again = traced_call(7);
    if let Some(i) = first_difference(&first, &again) {
        panic!(
            "runs of one seed differ at datagram {i} of {}: {:?} against {:?}",
            first.len(),
            first.get(i),
            again.get(i)
        );
    }
    let other = traced_call(8);
    assert!(
        first_difference(&first, &other).is_some(),
        "another seed, another run"
    );
}

/// What the SFU took beside str0m from each participant, by identity, in a call over a
/// lossy uplink.
fn taken_beside(seed: u64) -> Vec<(String, u64, usize)> {
    let mut sim = Sim::new(seed);
    let alice = sim.join("alice", "visit", PeerMode::Single, true);
    let bob = sim.join("bob", "visit", PeerMode::Dual, true);
    wait_for_media(&mut sim, bob, "bob receives");
    wait_for_media(&mut sim, alice, "alice receives");
    sim.lose_uplink(alice, 0.03);
    sim.lose_uplink(bob, 0.03);
    sim.run(3 * SECOND);
    let snapshot = sim.core.snapshot("visit");
    let stats = sim.core.stats();
    snapshot
        .iter()
        .map(|p| {
            let beside = stats
                .rooms
                .iter()
                .flat_map(|r| &r.participants)
                .filter(|s| s.sid == p.sid)
                .map(|s| s.received_packets_beside_str0m)
                .sum();
            (p.identity.clone(), beside, p.subscribed.len())
        })
        .collect()
}

#[test]
fn the_same_seed_takes_the_same_packets_beside_str0m() {
    let first = taken_beside(9);
    assert!(
        first.iter().all(|(_, beside, _)| *beside > 500),
        "{first:?}"
    );
    assert_eq!(taken_beside(9), first);
}
