//! The subscribers' send path beside str0m (`fast_tx.rs`), with str0m peers as
//! browsers: forwarded media leaves through `bedside-media`'s sender, and str0m's
//! receivers take it as they took str0m's own.

use str0m::media::MediaKind;

use super::harness::Sim;
use super::{MODES, SECOND, wait_for_media};
use crate::participants::MOST_DUE_PER_TURN;

/// Packets the SFU sent to client `index`'s transports beside str0m.
fn sent_beside(sim: &Sim, index: usize) -> u64 {
    let identity = &sim.clients[index].identity;
    sim.core
        .participants
        .values()
        .filter(|p| &p.grant.identity == identity)
        .flat_map(|p| std::iter::once(&p.publisher).chain(p.subscriber.as_ref()))
        .filter_map(|peer| peer.send.as_ref())
        .map(|send| send.sent.0)
        .sum()
}

#[test]
fn media_sent_beside_str0m_reaches_the_subscriber_in_both_connection_modes() {
    for mode in MODES {
        let mut sim = Sim::new(31);
        let alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, true);
        wait_for_media(&mut sim, bob, "media flows");
        let (video, audio) = (
            sim.clients[bob].frames(MediaKind::Video).len(),
            sim.clients[bob].frames(MediaKind::Audio).len(),
        );
        let sent_before = sent_beside(&sim, bob);
        sim.run(3 * SECOND);
        let got_video = sim.clients[bob].frames(MediaKind::Video).len() - video;
        let got_audio = sim.clients[bob].frames(MediaKind::Audio).len() - audio;
        assert!(
            got_video >= 40,
            "{mode:?}: video keeps playing: {got_video} frames in 3 s"
        );
        assert!(
            got_audio >= 100,
            "{mode:?}: audio keeps playing: {got_audio} frames in 3 s"
        );
        assert!(
            sent_beside(&sim, bob) > sent_before + 100,
            "{mode:?}: the packets left beside str0m"
        );
        assert!(sent_beside(&sim, alice) > 0, "{mode:?}: both ways");
    }
}

#[test]
fn a_subscriber_losing_packets_beside_str0m_is_repaired_from_what_the_sfu_kept() {
    for mode in MODES {
        let mut sim = Sim::new(32);
        let _alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, false);
        wait_for_media(&mut sim, bob, "media flows");
        sim.run(SECOND);
        sim.lose_downlink(bob, 0.05);
        let (sent_before, got_before) = (
            sim.clients[0].sent_video_frames,
            sim.clients[bob].frames(MediaKind::Video).len(),
        );
        sim.run(10 * SECOND);
        sim.lose_downlink(bob, 0.0);
        sim.run(SECOND / 2);
        let sent = sim.clients[0].sent_video_frames - sent_before;
        let got = (sim.clients[bob].frames(MediaKind::Video).len() - got_before) as u64;
        assert!(
            got * 100 >= sent * 97,
            "{mode:?}: the SFU's repairs reached bob: {got} of {sent} frames"
        );
    }
}

#[test]
fn with_sending_beside_str0m_turned_off_str0m_sends_and_media_still_flows() {
    for mode in MODES {
        let mut sim = Sim::new(33);
        sim.core.config.send_beside_str0m = false;
        let _alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, true);
        wait_for_media(&mut sim, bob, "media flows");
        let video = sim.clients[bob].frames(MediaKind::Video).len();
        sim.run(2 * SECOND);
        let got = sim.clients[bob].frames(MediaKind::Video).len() - video;
        assert!(
            got >= 30,
            "{mode:?}: video keeps playing: {got} frames in 2 s"
        );
        assert_eq!(
            sent_beside(&sim, bob),
            0,
            "{mode:?}: nothing left beside str0m"
        );
    }
}

#[test]
fn every_participant_s_timer_is_queued_as_it_would_work_it_out_through_a_call() {
    for mode in MODES {
        let mut sim = Sim::new(33);
        let _alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, true);
        let mut checked = 0;
        for _ in 0..400 {
            sim.run(SECOND / 100);
            assert_eq!(
                sim.core.participants.mis_scheduled(),
                Vec::<u64>::new(),
                "{mode:?}: queued timers match each participant's own"
            );
            checked += sim.core.participants.len();
        }
        assert!(checked >= 800, "{mode:?}: both were in the call throughout");
        wait_for_media(&mut sim, bob, "media flows with the queued timers");
    }
}

#[test]
fn transport_wide_feedback_alone_is_read_beside_str0m_and_kept_from_it_while_media_flows() {
    for mode in MODES {
        let mut sim = Sim::new(34);
        let _alice = sim.join("alice", "visit", mode, true);
        let bob = sim.join("bob", "visit", mode, true);
        wait_for_media(&mut sim, bob, "media flows");
        let kept = |sim: &Sim| -> u64 {
            sim.core
                .participants
                .values()
                .flat_map(|p| std::iter::once(&p.publisher).chain(p.subscriber.as_ref()))
                .filter_map(|peer| peer.send.as_ref())
                .map(|send| send.feedback_only)
                .sum()
        };
        let (kept_before, video) = (kept(&sim), sim.clients[bob].frames(MediaKind::Video).len());
        sim.run(3 * SECOND);
        assert!(
            kept(&sim) > kept_before + 10,
            "{mode:?}: str0m's peers' feedback packets were read beside str0m alone"
        );
        let got_video = sim.clients[bob].frames(MediaKind::Video).len() - video;
        assert!(
            got_video >= 40,
            "{mode:?}: video keeps playing: {got_video} frames in 3 s"
        );
    }
}

#[test]
fn a_timer_turn_serves_sixteen_participants_and_leaves_the_rest_due_for_the_next() {
    let mut sim = Sim::new(35);
    for visit in 0..9 {
        let room = format!("visit-{visit}");
        for name in ["clinician", "patient"] {
            sim.join(&format!("{name}-{visit}"), &room, MODES[0], true);
        }
    }
    sim.run(SECOND);
    // Every participant's feedback and peers fall due within this.
    let later = sim.now + SECOND / 5;
    let due = |sim: &Sim| {
        sim.core
            .participants
            .values()
            .filter(|p| p.next_timeout().is_some_and(|at| at <= later))
            .count()
    };
    let before = due(&sim);
    assert!(before > MOST_DUE_PER_TURN, "{before} participants due");
    sim.core.handle_timeout(later);
    while sim.core.poll_output().is_some() {}
    let after_one = due(&sim);
    assert!(
        after_one >= before - MOST_DUE_PER_TURN && after_one > 0,
        "one turn served {} of {before}",
        before - after_one
    );
    assert!(sim.core.poll_timeout().is_some_and(|at| at <= later));
    assert!(
        sim.core.timers_left_due(),
        "the driver is told to come back"
    );
    for _ in 0..4 {
        sim.core.handle_timeout(later);
        while sim.core.poll_output().is_some() {}
    }
    assert_eq!(due(&sim), 0, "the next turns served the rest");
    assert!(!sim.core.timers_left_due());
}
