use super::*;
use MeetingStatus::*;

#[test]
fn the_lifecycle_moves_forward_and_nothing_leaves_ended() {
    let all = [Waiting, Ringing, InCall, Ended];
    let legal: Vec<(MeetingStatus, MeetingStatus)> = all
        .iter()
        .flat_map(|from| all.iter().map(move |to| (*from, *to)))
        .filter(|(from, to)| can_move(*from, *to))
        .collect();
    assert_eq!(
        legal,
        [
            (Waiting, Ringing),
            (Waiting, InCall),
            (Waiting, Ended),
            (Ringing, InCall),
            (Ringing, Ended),
            (InCall, Ended)
        ]
    );
}

#[test]
fn a_waiting_patient_is_hidden_and_has_no_media_rights_unless_preview_is_allowed() {
    let waiting = media_rights(
        ParticipantRole::Patient,
        ParticipantState::Waiting,
        Ringing,
        false,
    )
    .unwrap();
    assert_eq!(
        waiting,
        MediaRights {
            publish: false,
            subscribe: false,
            data: false,
            hidden: true,
            admin: false
        }
    );
    let preview = media_rights(
        ParticipantRole::Patient,
        ParticipantState::Waiting,
        Ringing,
        true,
    )
    .unwrap();
    assert!(preview.subscribe && !preview.publish && preview.hidden);
}

#[test]
fn admitted_guests_publish_subscribe_and_send_data_but_never_administer() {
    for role in [
        ParticipantRole::Patient,
        ParticipantRole::Caregiver,
        ParticipantRole::Interpreter,
    ] {
        for state in [ParticipantState::Admitted, ParticipantState::InCall] {
            let rights = media_rights(role, state, InCall, false).unwrap();
            assert_eq!(
                rights,
                MediaRights {
                    publish: true,
                    subscribe: true,
                    data: true,
                    hidden: false,
                    admin: false
                }
            );
        }
    }
}

#[test]
fn clinicians_administer_their_room_and_rejected_or_ended_get_nothing() {
    let clinician = media_rights(
        ParticipantRole::Clinician,
        ParticipantState::Invited,
        Waiting,
        false,
    )
    .unwrap();
    assert!(clinician.admin && clinician.publish && !clinician.hidden);
    assert_eq!(
        media_rights(
            ParticipantRole::Patient,
            ParticipantState::Rejected,
            Ringing,
            true
        ),
        None
    );
    assert_eq!(
        media_rights(
            ParticipantRole::Clinician,
            ParticipantState::InCall,
            Ended,
            false
        ),
        None
    );
}
