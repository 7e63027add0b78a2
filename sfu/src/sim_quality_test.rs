//! Simulation tests of connection quality (`ConnectionQualityUpdate`): graded from what
//! the links really lose, told to the room, steady, and kept from those who may not see
//! a hidden participant.

use super::*;

use proto::ConnectionQuality;

/// The grades `listener` was told of `about`'s connection, in order.
fn told(sim: &Sim, listener: usize, about: usize) -> Vec<ConnectionQuality> {
    let sid = sid_of(sim, about);
    sim.clients[listener]
        .signals
        .iter()
        .filter_map(|s| match s {
            proto::signal_response::Message::ConnectionQuality(u) => Some(u.updates.clone()),
            _ => None,
        })
        .flatten()
        .filter(|u| u.participant_sid == sid)
        .filter_map(|u| ConnectionQuality::try_from(u.quality).ok())
        .collect()
}

fn sid_of(sim: &Sim, index: usize) -> String {
    sim.core.participants[&sim.clients[index].conn].sid.clone()
}

fn last_told(sim: &Sim, listener: usize, about: usize) -> Option<ConnectionQuality> {
    told(sim, listener, about).last().copied()
}

#[test]
fn everyone_in_a_clean_call_is_told_that_both_connections_are_excellent() {
    for mode in MODES {
        let mut sim = Sim::new(41);
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, true);
        wait_for_media(&mut sim, bob, "bob receives");
        sim.run(6 * SECOND);
        for (listener, about) in [(alice, bob), (bob, alice), (alice, alice), (bob, bob)] {
            assert_eq!(
                told(&sim, listener, about),
                [ConnectionQuality::Excellent],
                "{mode:?}: {listener} is told once that {about}'s connection is excellent"
            );
        }
    }
}

#[test]
fn a_subscriber_losing_a_fifth_of_what_it_is_sent_is_poor_to_the_room_until_its_link_recovers() {
    for mode in MODES {
        let mut sim = Sim::new(42);
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "bob receives");

        sim.lose_downlink(bob, 0.2);
        sim.run_until(10 * SECOND, "alice is told bob's connection is poor", |s| {
            last_told(s, alice, bob) == Some(ConnectionQuality::Poor)
        });
        assert_eq!(
            last_told(&sim, bob, bob),
            Some(ConnectionQuality::Poor),
            "{mode:?}: bob is told too"
        );
        assert_eq!(
            last_told(&sim, alice, alice),
            Some(ConnectionQuality::Excellent),
            "{mode:?}: alice's own links are not blamed for bob's"
        );

        sim.lose_downlink(bob, 0.0);
        sim.run_until(
            30 * SECOND,
            "alice is told bob's connection is better",
            |s| {
                matches!(
                    last_told(s, alice, bob),
                    Some(ConnectionQuality::Good | ConnectionQuality::Excellent)
                )
            },
        );
    }
}

#[test]
fn a_link_at_the_edge_of_a_grade_does_not_flip_the_indicator_every_report() {
    for mode in MODES {
        let mut sim = Sim::new(43);
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "bob receives");
        // About 4% lost sits at the line between excellent and good.
        sim.lose_downlink(bob, 0.04);
        sim.run(40 * SECOND);
        let changes = told(&sim, alice, bob).len();
        assert!(
            changes <= 5,
            "{mode:?}: 20 reports in 40 s change the grade a few times, not {changes}: {:?}",
            told(&sim, alice, bob)
        );
    }
}

#[test]
fn a_participant_whose_signaling_drops_is_lost_to_the_room_at_once_and_back_when_it_resumes() {
    for mode in MODES {
        let mut sim = Sim::new(44);
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, true);
        wait_for_media(&mut sim, bob, "bob receives");
        // Alice has been told the room's grades (two seconds after her media connected).
        sim.run_until(4 * SECOND, "alice is told bob's grade", |s| {
            last_told(s, alice, bob).is_some()
        });
        let sid = sid_of(&sim, bob);
        sim.drop_signal(bob);
        sim.run_until(2 * SECOND, "alice is told bob's connection is lost", |s| {
            last_told(s, alice, bob) == Some(ConnectionQuality::Lost)
        });
        sim.resume(bob, "visit", &sid);
        // One evaluation (stats come every 2 s), not a run of them.
        sim.run_until(4 * SECOND, "alice is told bob is back", |s| {
            last_told(s, alice, bob) == Some(ConnectionQuality::Excellent)
        });
    }
}

#[test]
fn a_patient_in_the_waiting_room_hears_their_own_grade_and_nobody_hears_it_before_admission() {
    for mode in MODES {
        let mut sim = Sim::new(45);
        let clinician = sim.join("clinician", "visit", mode, true);
        let patient = sim.join_waiting("patient", "visit", mode);
        sim.run(6 * SECOND);
        assert_eq!(
            told(&sim, patient, patient),
            [ConnectionQuality::Excellent],
            "{mode:?}: the patient hears their own grade"
        );
        assert!(
            told(&sim, clinician, patient).is_empty(),
            "{mode:?}: a hidden participant's grade is not told to the room"
        );
    }
}
