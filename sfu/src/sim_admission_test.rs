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

    admit_until_heard(&mut sim, patient, clinician);
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

#[test]
fn with_open_sections_an_admitted_patient_reaches_the_clinician_without_a_new_offer() {
    let mut sim = Sim::new(33);
    let clinician = sim.join_with_open_sections("clinician", "visit", true);
    sim.run(SECOND);
    let patient = sim.join_waiting("patient", "visit", PeerMode::Single);
    sim.prepare_sections(patient);
    sim.run(SECOND);
    let signals_before = sim.clients[clinician].signals.len();

    admit_until_heard(&mut sim, patient, clinician);

    let c = &sim.clients[clinician];
    let rounds = c.signals[signals_before..].iter().filter(|m| {
        matches!(
            m,
            proto::signal_response::Message::MediaSectionsRequirement(_)
                | proto::signal_response::Message::Answer(_)
        )
    });
    assert_eq!(rounds.count(), 0, "no offer or answer came between");
    let published = &sim.core.snapshot("visit")[1].published;
    let mut bound: Vec<&String> = c.assigned.iter().map(|a| &a.track_sid).collect();
    let mut expected: Vec<&String> = published.iter().collect();
    bound.sort_unstable();
    expected.sort_unstable();
    assert_eq!(
        bound, expected,
        "each of the patient's tracks was bound to a section"
    );
    let mids = |kind| {
        let mut mids: Vec<String> = c.frames(kind).iter().map(|f| f.mid.to_string()).collect();
        mids.dedup();
        mids
    };
    let (audio, video) = (mids(MediaKind::Audio), mids(MediaKind::Video));
    assert!(
        audio.len() == 1 && video.len() == 1 && audio != video,
        "one section each"
    );
    let named: Vec<&String> = c.assigned.iter().map(|a| &a.mid).collect();
    assert!(
        named.contains(&&audio[0]) && named.contains(&&video[0]),
        "the media arrives on the sections named for it"
    );
}

#[test]
fn without_open_sections_spare_sections_carry_nothing_until_an_answer_names_a_track() {
    let mut sim = Sim::new(34);
    let clinician = sim.join("clinician", "visit", PeerMode::Single, true);
    sim.run(SECOND);
    let patient = sim.join_waiting("patient", "visit", PeerMode::Single);
    sim.prepare_sections(patient);
    sim.run(SECOND);

    sim.admit("patient");
    sim.announce(patient);
    sim.run_until(
        5 * SECOND,
        "the clinician receives the patient's video",
        |s| s.clients[clinician].frames(MediaKind::Video).len() > 10,
    );
    let c = &sim.clients[clinician];
    assert!(
        c.assigned.is_empty(),
        "no open-section frame to a client that did not ask"
    );
    let answered = c
        .signals
        .iter()
        .filter_map(|m| match m {
            proto::signal_response::Message::Answer(a) => Some(a),
            _ => None,
        })
        .any(|a| a.mid_to_track_id.len() == 2);
    assert!(answered, "an answer named both tracks' sections");
}

/// Admits the waiting `patient`, who announces their tracks, and runs until `clinician`
/// receives their audio and video.
fn admit_until_heard(sim: &mut Sim, patient: usize, clinician: usize) {
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
}
