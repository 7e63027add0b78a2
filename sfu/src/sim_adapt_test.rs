//! Simulation tests of layer choice on thin links: layers chosen by what they really
//! send rather than what their publisher announced, and video that pauses (and says so)
//! when even the lowest layer cannot get through, then resumes.

use super::*;

/// `StreamStateUpdate` states `index` was told, in order (`Paused`/`Active`).
fn stream_states(sim: &Sim, index: usize) -> Vec<proto::StreamState> {
    sim.clients[index]
        .signals
        .iter()
        .filter_map(|s| match s {
            proto::signal_response::Message::StreamStateUpdate(u) => Some(u.stream_states.clone()),
            _ => None,
        })
        .flatten()
        .filter_map(|s| proto::StreamState::try_from(s.state).ok())
        .collect()
}

/// A publisher whose encoder announces three times what each layer really sends.
fn overstating_publisher(sim: &mut Sim, mode: PeerMode) -> usize {
    let alice = sim.join("alice", "visit", mode, false);
    sim.clients[alice].announce_factor = 3;
    sim.publish(alice);
    alice
}

#[test]
fn layers_are_chosen_by_what_they_really_send_not_by_what_was_announced() {
    let (q, h) = (LAYERS[0].1, LAYERS[1].1);
    for mode in MODES {
        let mut sim = Sim::new(31);
        overstating_publisher(&mut sim, mode);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "bob receives");
        // 1 Mbit/s: the medium layer announced at 1.95 Mbit/s really sends 0.7.
        sim.limit_downlink(bob, Some(1_000_000));
        sim.run(12 * SECOND);
        let sizes = last_sizes(&sim, bob, 20);
        assert!(
            sizes.iter().all(|s| *s == h),
            "{mode:?}: bob gets the medium layer it has room for, not the low one: {sizes:?}"
        );
        let _ = q;
    }
}

#[test]
fn video_the_link_cannot_carry_pauses_with_a_stream_state_update_and_resumes_when_it_can() {
    for mode in MODES {
        let mut sim = Sim::new(32);
        sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "bob receives");
        assert!(
            stream_states(&sim, bob).is_empty(),
            "{mode:?}: nothing paused yet"
        );

        // 90 kbit/s: audio gets through, the 150 kbit/s low layer cannot.
        sim.limit_downlink(bob, Some(90_000));
        sim.run_until(10 * SECOND, "bob is told his video paused", |s| {
            stream_states(s, bob) == [proto::StreamState::Paused]
        });
        // What was already queued for the link drains first.
        sim.run(4 * SECOND);
        let (video, audio) = (
            sim.clients[bob].frames(MediaKind::Video).len(),
            sim.clients[bob].frames(MediaKind::Audio).len(),
        );
        sim.run(3 * SECOND);
        assert_eq!(
            sim.clients[bob].frames(MediaKind::Video).len(),
            video,
            "{mode:?}: no video is sent into the thin link"
        );
        assert!(
            sim.clients[bob].frames(MediaKind::Audio).len() > audio + 100,
            "{mode:?}: audio keeps flowing"
        );

        // The link recovers: bob is told, and video starts again (on a keyframe).
        sim.limit_downlink(bob, None);
        sim.run_until(20 * SECOND, "bob's video resumes", |s| {
            stream_states(s, bob) == [proto::StreamState::Paused, proto::StreamState::Active]
                && s.clients[bob].frames(MediaKind::Video).len() > video + 30
        });
    }
}

#[test]
fn dynacast_keeps_only_the_layers_someone_watches() {
    for mode in MODES {
        let mut sim = Sim::new(33);
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "bob receives");
        sim.run(10 * SECOND);
        assert_eq!(
            dynacast(&sim, alice),
            Some(vec![false, false, true]),
            "{mode:?}: bob watches the high layer"
        );

        // 600 kbit/s: bob settles on the low layer, so the two above it stop.
        sim.limit_downlink(bob, Some(600_000));
        sim.run(8 * SECOND);
        assert_eq!(
            dynacast(&sim, alice),
            Some(vec![true, false, false]),
            "{mode:?}: only the low layer is watched"
        );

        // The limit lifts: bob climbs back, and only the high layer is encoded again.
        sim.limit_downlink(bob, None);
        sim.run(20 * SECOND);
        assert_eq!(
            dynacast(&sim, alice),
            Some(vec![false, false, true]),
            "{mode:?}: the high layer is watched again"
        );
    }
}

#[test]
fn a_subscriber_with_little_room_on_its_link_is_sent_paced_video_and_unpaced_again_when_it_widens()
{
    for mode in MODES {
        let mut sim = Sim::new(34);
        sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "bob receives");
        let paced = |s: &Sim| s.core.participants[&s.clients[bob].conn].paced_downlink;
        sim.run_until(10 * SECOND, "bob's wide link is sent unpaced", |s| {
            !paced(s)
        });

        // 1 Mbit/s: the h layer fits, with little to spare, so a frame's burst is spread.
        sim.limit_downlink(bob, Some(1_000_000));
        sim.run_until(12 * SECOND, "bob's thin link is paced", paced);
        sim.run(4 * SECOND);
        assert!(
            paced(&sim),
            "{mode:?}: it stays paced while the link is thin"
        );
        let frames = sim.clients[bob].frames(MediaKind::Video).len();
        sim.run(2 * SECOND);
        assert!(
            sim.clients[bob].frames(MediaKind::Video).len() > frames + 40,
            "{mode:?}: paced video keeps flowing"
        );

        sim.limit_downlink(bob, None);
        sim.run_until(20 * SECOND, "bob's widened link is unpaced again", |s| {
            !paced(s)
        });
    }
}

#[test]
fn video_starting_on_a_link_that_carried_only_audio_is_sent_before_its_estimate_can_pause_it() {
    for mode in MODES {
        let mut sim = Sim::new(33);
        let alice = sim.join("alice", "visit", mode, false);
        sim.clients[alice].camera_off = true;
        sim.publish(alice);
        let bob = sim.join("bob", "visit", mode, false);
        // A 90 kbit/s link, carrying alice's audio alone: bob's estimate settles near
        // what the audio uses, below the 150 kbit/s low layer.
        sim.limit_downlink(bob, Some(90_000));
        sim.run_until(10 * SECOND, "bob hears alice", |s| {
            s.clients[bob].frames(MediaKind::Audio).len() > 50
        });
        sim.run(6 * SECOND);
        assert!(
            sim.clients[bob].frames(MediaKind::Video).is_empty(),
            "{mode:?}: no video yet"
        );
        // Alice's camera comes on. An estimate made with no video on the link cannot
        // say the low layer does not fit: it is sent, and judged once it was.
        sim.clients[alice].camera_off = false;
        sim.run_until(10 * SECOND, "bob is told the video paused", |s| {
            stream_states(s, bob).contains(&proto::StreamState::Paused)
        });
        assert!(
            !sim.clients[bob].frames(MediaKind::Video).is_empty(),
            "{mode:?}: bob received video before it was paused"
        );
        assert!(
            sim.clients[bob].frames(MediaKind::Audio).len() > 100,
            "{mode:?}: audio flows throughout"
        );
    }
}
