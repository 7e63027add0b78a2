//! Simulation tests of speaker detection (`SpeakersChanged`) from the audio levels
//! publishers' packets carry.

use super::*;

/// Every `SpeakersChanged` entry `listener` was told about `about`: active or not.
fn speaking_told(sim: &Sim, listener: usize, about: usize) -> Vec<bool> {
    let sid = sim.core.participants[&sim.clients[about].conn].sid.clone();
    sim.clients[listener]
        .signals
        .iter()
        .filter_map(|s| match s {
            proto::signal_response::Message::SpeakersChanged(u) => Some(u.speakers.clone()),
            _ => None,
        })
        .flatten()
        .filter(|s| s.sid == sid)
        .map(|s| s.active)
        .collect()
}

#[test]
fn the_room_is_told_when_someone_starts_and_stops_speaking() {
    for mode in MODES {
        let mut sim = Sim::new(51);
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, true);
        wait_for_media(&mut sim, bob, "bob receives");
        sim.clients[alice].voice_dbov = Some(-127);
        sim.run(2 * SECOND);
        assert!(
            speaking_told(&sim, bob, alice).is_empty(),
            "{mode:?}: silence is not speech"
        );

        sim.clients[alice].voice_dbov = Some(-20);
        sim.run_until(2 * SECOND, "bob is told alice speaks", |s| {
            speaking_told(s, bob, alice) == [true]
        });
        assert_eq!(
            speaking_told(&sim, alice, alice),
            [true],
            "{mode:?}: alice is told too"
        );
        sim.run(2 * SECOND);
        assert_eq!(
            speaking_told(&sim, bob, alice),
            [true],
            "{mode:?}: told once while she speaks"
        );

        sim.clients[alice].voice_dbov = Some(-127);
        sim.run_until(2 * SECOND, "bob is told alice stopped", |s| {
            speaking_told(s, bob, alice) == [true, false]
        });
        assert!(
            speaking_told(&sim, alice, bob).is_empty(),
            "{mode:?}: bob never spoke"
        );
    }
}

#[test]
fn a_hidden_participant_speaking_is_not_told_to_the_room() {
    for mode in MODES {
        let mut sim = Sim::new(52);
        let clinician = sim.join("clinician", "visit", mode, true);
        let grant = crate::JoinGrant {
            hidden: true,
            ..harness::test_grant("observer", "visit", true)
        };
        let observer = sim.join_granted(grant, mode, true);
        sim.clients[observer].voice_dbov = Some(-10);
        sim.run(6 * SECOND);
        assert!(
            speaking_told(&sim, clinician, observer).is_empty(),
            "{mode:?}: a hidden participant's speech is not told"
        );
    }
}

#[test]
fn someone_who_joins_while_another_speaks_is_told_at_once() {
    for mode in MODES {
        let mut sim = Sim::new(53);
        let alice = sim.join("alice", "visit", mode, true);
        sim.clients[alice].voice_dbov = Some(-20);
        sim.run(3 * SECOND);
        let bob = sim.join("bob", "visit", mode, false);
        sim.run_until(4 * SECOND, "bob hears alice is speaking", |s| {
            speaking_told(s, bob, alice) == [true]
        });
    }
}
