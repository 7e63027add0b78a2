//! The meeting's rules as pure functions: which status changes are legal, and which
//! LiveKit grants each participant gets in each state (the grant matrix).

use app::meetings::{MeetingStatus, ParticipantRole, ParticipantState};

/// Whether `from → to` is a legal lifecycle step. Ending is legal from any live status;
/// nothing leaves `ended`; a clinician joining (`ringing`) or an admitted patient
/// arriving (`in_call`) only moves forward.
pub fn can_move(from: MeetingStatus, to: MeetingStatus) -> bool {
    use MeetingStatus::*;
    matches!(
        (from, to),
        (Waiting, Ringing)
            | (Waiting, InCall)
            | (Ringing, InCall)
            | (Waiting | Ringing | InCall, Ended)
    )
}

/// What a participant may do in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaRights {
    /// Publish camera, microphone, screen.
    pub publish: bool,
    /// Receive others' media.
    pub subscribe: bool,
    /// Send data (chat).
    pub data: bool,
    /// Invisible to the others.
    pub hidden: bool,
    /// Room admin (the room's own, never another's).
    pub admin: bool,
}

/// The grant matrix. Clinicians: everything, room admin. Admitted (or in-call) guests:
/// publish, subscribe, data. Guests not yet admitted: connected but hidden, no publish,
/// no data, and no subscribe unless the workspace allows a subscribe-only preview.
/// Rejected participants and ended meetings get no token at all (`None`).
pub fn media_rights(
    role: ParticipantRole,
    state: ParticipantState,
    meeting: MeetingStatus,
    preview_allowed: bool,
) -> Option<MediaRights> {
    if meeting == MeetingStatus::Ended || state == ParticipantState::Rejected {
        return None;
    }
    if role.is_staff() {
        return Some(MediaRights {
            publish: true,
            subscribe: true,
            data: true,
            hidden: false,
            admin: true,
        });
    }
    let admitted = matches!(state, ParticipantState::Admitted | ParticipantState::InCall);
    Some(MediaRights {
        publish: admitted,
        subscribe: admitted || preview_allowed,
        data: admitted,
        hidden: !admitted,
        admin: false,
    })
}

#[cfg(test)]
#[path = "model_test.rs"]
mod tests;
