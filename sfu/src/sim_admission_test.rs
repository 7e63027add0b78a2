//! Simulation tests of admission with send sections negotiated ahead: a patient in the
//! waiting room offers its microphone and camera sections with nothing announced, and
//! admission only announces the tracks.

use super::*;

#[test]
fn tracks_announced_after_their_sections_were_negotiated_reach_the_clinician() {
    let mut sim = Sim::new(31);
    let clinician = sim.join("clinician", "visit", PeerMode::Single, true);
    sim.run(SECOND);
    let patient = sim.join_waiting("patient", "visit", PeerMode::Single);
    sim.run(SECOND);
    sim.prepare_sections(patient);
    sim.run(SECOND);
    assert!(
        sim.clients[patient].video_mid.is_some(),
        "the waiting patient's send sections are negotiated"
    );

    sim.admit("patient");
    sim.announce(patient);
    sim.run_until(
        5 * SECOND,
        "the clinician receives the admitted patient's audio and video",
        |s| {
            let c = &s.clients[clinician];
            c.frames(MediaKind::Audio).len() > 10 && c.frames(MediaKind::Video).len() > 10
        },
    );
    let published = &sim.core.snapshot("visit")[1].published;
    assert_eq!(published.len(), 2, "both tracks are published");
}

#[test]
fn media_sent_on_negotiated_sections_before_admission_reaches_nobody() {
    let mut sim = Sim::new(32);
    let clinician = sim.join("clinician", "visit", PeerMode::Single, true);
    sim.run(SECOND);
    let patient = sim.join_waiting("patient", "visit", PeerMode::Single);
    sim.prepare_sections(patient);
    sim.run(SECOND);
    // A client that sends without being allowed, and announces its tracks anyway.
    sim.start_sending(patient);
    sim.announce(patient);
    sim.run(2 * SECOND);
    assert!(
        sim.clients[patient].sent_video_frames > 10,
        "the patient did send"
    );
    let c = &sim.clients[clinician];
    assert!(
        c.frames(MediaKind::Video).is_empty() && c.frames(MediaKind::Audio).is_empty(),
        "nothing of the waiting patient's reached the clinician"
    );
}
