//! Simulation tests of a participant changing its own name, metadata and attributes
//! (`UpdateParticipantMetadata`), as livekit-client's `setName` and friends do.

use std::collections::HashMap;

use super::*;
use crate::JoinGrant;
use proto::request_response::Reason;

/// The answers `index` got to its requests: (request id, reason).
fn responses(sim: &Sim, index: usize) -> Vec<(u32, i32)> {
    sim.clients[index]
        .signals
        .iter()
        .filter_map(|s| match s {
            proto::signal_response::Message::RequestResponse(r) => Some((r.request_id, r.reason)),
            _ => None,
        })
        .collect()
}

fn rename(name: &str, request_id: u32) -> signal_request::Message {
    signal_request::Message::UpdateMetadata(proto::UpdateParticipantMetadata {
        name: name.into(),
        attributes: HashMap::from([("role".to_string(), "interpreter".to_string())]),
        request_id,
        ..Default::default()
    })
}

fn join_allowed(sim: &mut Sim, identity: &str, mode: PeerMode) -> usize {
    let grant = JoinGrant {
        can_update_metadata: true,
        ..harness::test_grant(identity, "visit", true)
    };
    sim.join_granted(grant, mode, false)
}

#[test]
fn a_participant_allowed_to_renames_itself_and_the_room_and_it_are_told() {
    for mode in MODES {
        let mut sim = Sim::new(61);
        let alice = sim.join("alice", "visit", mode, false);
        let bob = join_allowed(&mut sim, "bob", mode);
        sim.run(2 * SECOND);
        sim.signal(bob, rename("Bob (interpreter)", 7));
        sim.run(SECOND);
        assert_eq!(responses(&sim, bob), [(7, Reason::Ok as i32)], "{mode:?}");
        for listener in [alice, bob] {
            let last = sim.clients[listener].updates_about("bob").last().cloned();
            let last = last.unwrap_or_else(|| panic!("{mode:?}: {listener} was told of bob"));
            assert_eq!(last.name, "Bob (interpreter)", "{mode:?}");
            assert_eq!(
                last.attributes.get("role").map(String::as_str),
                Some("interpreter")
            );
        }
    }
}

#[test]
fn a_participant_without_the_grant_is_refused_and_nothing_changes() {
    for mode in MODES {
        let mut sim = Sim::new(62);
        let alice = sim.join("alice", "visit", mode, false);
        let bob = sim.join("bob", "visit", mode, false);
        sim.run(2 * SECOND);
        sim.signal(bob, rename("Someone else", 8));
        sim.run(SECOND);
        assert_eq!(
            responses(&sim, bob),
            [(8, Reason::NotAllowed as i32)],
            "{mode:?}"
        );
        assert!(
            sim.clients[alice]
                .updates_about("bob")
                .iter()
                .all(|p| p.name == "bob"),
            "{mode:?}: the room still knows bob as bob"
        );
    }
}

#[test]
fn a_name_past_the_limit_is_refused() {
    for mode in MODES {
        let mut sim = Sim::new(63);
        let bob = join_allowed(&mut sim, "bob", mode);
        sim.run(2 * SECOND);
        sim.signal(bob, rename(&"b".repeat(300), 9));
        sim.run(SECOND);
        assert_eq!(
            responses(&sim, bob),
            [(9, Reason::LimitExceeded as i32)],
            "{mode:?}"
        );
        assert_eq!(
            sim.core.participants[&sim.clients[bob].conn].grant.name,
            "bob"
        );
    }
}
