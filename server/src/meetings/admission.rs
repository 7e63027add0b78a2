//! The waiting room and admission: arrivals, the clinician's decisions, and presence in
//! the room as the media plane reports it (webhooks). Admission changes a connected
//! patient's rights live through the room service (no reconnect); rejection removes
//! them from the room.

use std::net::IpAddr;

use app::meetings::{MeetingStatus, ParticipantState};
use app::types::CurrentUser;
use livekit_protocol as proto;
use serde_json::json;
use uuid::Uuid;

use super::media::Applied;
use super::model::media_rights;
use super::service::{
    advance, announce, audit_participant, load_for_staff, require_clinician, require_live,
};
use super::store::{self, MeetingRow, ParticipantRow};
use crate::db::WorkspaceTx;
use crate::error::{Error, Result};
use crate::state::Services;
use crate::waiting_room::{Decision, MeetingEvent};

/// How long a heartbeat keeps a participant present.
pub const PRESENCE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

fn participant_event(p: Uuid, state: ParticipantState) -> MeetingEvent {
    MeetingEvent::Participant {
        participant_id: p,
        state: state.as_str().into(),
    }
}

/// Admits a waiting (or invited) participant: recorded, then their rights change live.
/// Returns how the change reached them.
pub async fn admit(
    services: &Services,
    user: &CurrentUser,
    meeting_id: Uuid,
    participant_id: Uuid,
) -> Result<Applied> {
    decide(
        services,
        user,
        meeting_id,
        participant_id,
        Decision::Admitted,
        None,
    )
    .await
}

/// Rejects a participant (optionally with a reason shown to them); they are removed
/// from the room and their tokens are refused from now on.
pub async fn reject(
    services: &Services,
    user: &CurrentUser,
    meeting_id: Uuid,
    participant_id: Uuid,
    reason: Option<String>,
) -> Result<Applied> {
    decide(
        services,
        user,
        meeting_id,
        participant_id,
        Decision::Rejected,
        reason,
    )
    .await
}

async fn decide(
    services: &Services,
    user: &CurrentUser,
    meeting_id: Uuid,
    participant_id: Uuid,
    decision: Decision,
    reason: Option<String>,
) -> Result<Applied> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let loaded = load_for_staff(&mut tx, user, meeting_id).await?;
    require_clinician(&loaded, user)?;
    let meeting = store::lock(&mut tx, meeting_id)
        .await?
        .ok_or(Error::NotFound)?;
    require_live(&meeting)?;
    let participant = loaded
        .participants
        .iter()
        .find(|p| p.participant_id == participant_id)
        .ok_or(Error::NotFound)?
        .clone();
    if participant.role().is_staff() {
        return Err(Error::field(
            "participant_id",
            "Staff are not admitted or rejected.",
        ));
    }
    let state = participant.state();
    let new_state = match (decision, state) {
        // `left` before any admission: a waiting patient between two connections (a
        // reload, a network change). Admitted now, they join the call when back.
        (
            Decision::Admitted,
            ParticipantState::Invited | ParticipantState::Waiting | ParticipantState::Left,
        ) if participant.admitted_at.is_none() => ParticipantState::Admitted,
        (Decision::Admitted, ParticipantState::Left) => return Ok(Applied::NotInRoom),
        (Decision::Admitted, ParticipantState::Admitted | ParticipantState::InCall) => {
            return Ok(Applied::Live);
        }
        (Decision::Rejected, ParticipantState::Rejected) => return Ok(Applied::NotInRoom),
        (Decision::Rejected, _) => ParticipantState::Rejected,
        (Decision::Admitted, _) => {
            return Err(Error::State("This participant cannot be admitted now."));
        }
    };
    store::set_state(&mut tx, participant_id, new_state, reason.as_deref()).await?;
    let action = match decision {
        Decision::Admitted => "meeting.participant_admitted",
        Decision::Rejected => "meeting.participant_rejected",
    };
    audit_participant(
        &mut tx,
        user.workspace_id,
        Some(user.id),
        action,
        (meeting_id, participant_id),
        json!({}),
    )
    .await?;
    let applied = match decision {
        // The grant goes live before the commit, so the patient's media does not wait
        // for the database's flush to disk (the slowest step of an admission here, up
        // to 150 ms). The decision is locked in this transaction meanwhile; should the
        // commit fail, the grant is taken back and the clinician sees the error.
        Decision::Admitted => {
            // An admitted guest's rights do not depend on the preview setting.
            let rights = media_rights(participant.role(), new_state, meeting.status(), false)
                .ok_or(Error::State("This visit has ended."))?;
            let applied = services
                .media
                .apply_rights(&meeting.room_name, participant_id, rights)
                .await?;
            if let Err(error) = tx.commit().await {
                revoke_admission(services, &meeting, &participant, applied).await;
                return Err(error.into());
            }
            applied
        }
        // A rejection is recorded first: the participant is only removed once their
        // tokens are refused, so they cannot rejoin in between.
        Decision::Rejected => {
            tx.commit().await?;
            services
                .media
                .remove(&meeting.room_name, participant_id)
                .await?;
            Applied::Live
        }
    };
    services
        .waiting_room
        .decide(meeting_id, participant_id, decision)
        .await?;
    announce(
        services,
        meeting_id,
        participant_event(participant_id, new_state),
    )
    .await;
    tracing::info!(meeting_id = %meeting_id, participant_id = %participant_id, decision = decision.as_str(), "admission decided");
    // Admitted while connected: they are in the call now, and so may be the meeting.
    if decision == Decision::Admitted && applied == Applied::Live {
        let mut tx = services.db.begin_for(user.workspace_id).await?;
        store::set_state(&mut tx, participant_id, ParticipantState::InCall, None).await?;
        tx.commit().await?;
        announce(
            services,
            meeting_id,
            participant_event(participant_id, ParticipantState::InCall),
        )
        .await;
        refresh_status(services, user.workspace_id, meeting_id).await?;
    }
    Ok(applied)
}

/// Takes back a grant whose admission was not recorded (its commit failed): the
/// participant is back to waiting rights (no preview, the narrowest).
async fn revoke_admission(
    services: &Services,
    meeting: &MeetingRow,
    participant: &ParticipantRow,
    applied: Applied,
) {
    let waiting = media_rights(
        participant.role(),
        ParticipantState::Waiting,
        meeting.status(),
        false,
    );
    let (Applied::Live, Some(rights)) = (applied, waiting) else {
        return;
    };
    if let Err(error) = services
        .media
        .apply_rights(&meeting.room_name, participant.participant_id, rights)
        .await
    {
        tracing::error!(meeting_id = %meeting.meeting_id, participant_id = %participant.participant_id, error = %error, "admission not recorded and its grant not taken back");
    }
}

/// A guest is here (heartbeat from the waiting page, or the room reports them): they
/// are present, and an invited one becomes `waiting` (announced, audited once).
pub async fn arrive(
    services: &Services,
    workspace_id: Uuid,
    meeting_id: Uuid,
    participant_id: Uuid,
) -> Result<ParticipantState> {
    services
        .waiting_room
        .heartbeat(meeting_id, participant_id, PRESENCE_TTL)
        .await?;
    let mut tx = services.db.begin_for(workspace_id).await?;
    let participant = store::participant(&mut tx, meeting_id, participant_id)
        .await?
        .ok_or(Error::NotFound)?;
    let state = participant.state();
    if matches!(state, ParticipantState::Invited | ParticipantState::Left)
        && !participant.role().is_staff()
        && participant.admitted_at.is_none()
    {
        store::set_state(&mut tx, participant_id, ParticipantState::Waiting, None).await?;
        audit_participant(
            &mut tx,
            workspace_id,
            None,
            "meeting.patient_waiting",
            (meeting_id, participant_id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        announce(
            services,
            meeting_id,
            participant_event(participant_id, ParticipantState::Waiting),
        )
        .await;
        return Ok(ParticipantState::Waiting);
    }
    tx.commit().await?;
    Ok(state)
}

/// The room reports that `identity` joined, as media session `session`.
pub async fn joined(
    services: &Services,
    workspace_id: Uuid,
    meeting: &MeetingRow,
    participant_id: Uuid,
    session: &proto::ParticipantInfo,
) -> Result<()> {
    let mut tx = services.db.begin_for(workspace_id).await?;
    let Some(participant) = store::participant(&mut tx, meeting.meeting_id, participant_id).await?
    else {
        return Ok(()); // Not ours (a recorder, an agent).
    };
    access_log(
        &mut tx,
        workspace_id,
        meeting.meeting_id,
        &participant,
        "join",
    )
    .await?;
    if session.sid.len() <= MAX_SESSION_SID {
        store::set_session(&mut tx, participant_id, &session.sid).await?;
    }
    let state = participant.state();
    let new_state = match (participant.role().is_staff(), state) {
        (true, _) => Some(ParticipantState::InCall),
        (false, ParticipantState::Admitted | ParticipantState::Left)
            if participant.admitted_at.is_some() =>
        {
            Some(ParticipantState::InCall)
        }
        _ => None,
    };
    if let Some(new_state) = new_state {
        store::set_state(&mut tx, participant_id, new_state, None).await?;
    }
    tx.commit().await?;
    if let Some(new_state) = new_state {
        if !participant.role().is_staff() {
            grant_if_stale(services, meeting, &participant, session).await?;
        }
        announce(
            services,
            meeting.meeting_id,
            participant_event(participant_id, new_state),
        )
        .await;
    } else if !participant.role().is_staff() && state != ParticipantState::Rejected {
        arrive(services, workspace_id, meeting.meeting_id, participant_id).await?;
    }
    refresh_status(services, workspace_id, meeting.meeting_id).await
}

/// Longest media session id kept (LiveKit's are `PA_` and 12 characters).
const MAX_SESSION_SID: usize = 128;

/// An admitted guest whose session joined with the rights of an older token (minted
/// while they waited, then admitted while their page reloaded or before it connected)
/// gets the admitted rights now, live.
async fn grant_if_stale(
    services: &Services,
    meeting: &MeetingRow,
    participant: &ParticipantRow,
    session: &proto::ParticipantInfo,
) -> Result<()> {
    let Some(rights) = media_rights(
        participant.role(),
        ParticipantState::InCall,
        meeting.status(),
        false,
    ) else {
        return Ok(());
    };
    let has = session.permission.as_ref();
    let current = has.is_some_and(|p| {
        p.can_publish == rights.publish
            && p.can_subscribe == rights.subscribe
            && p.can_publish_data == rights.data
            && p.hidden == rights.hidden
    });
    if !current {
        tracing::info!(meeting_id = %meeting.meeting_id, participant_id = %participant.participant_id, "admitted rights given to a session that joined without them");
        services
            .media
            .apply_rights(&meeting.room_name, participant.participant_id, rights)
            .await?;
    }
    Ok(())
}

/// The room reports that `identity`'s media session `session_sid` left.
pub async fn left(
    services: &Services,
    workspace_id: Uuid,
    meeting: &MeetingRow,
    participant_id: Uuid,
    session_sid: &str,
) -> Result<()> {
    let mut tx = services.db.begin_for(workspace_id).await?;
    let Some(participant) = store::participant(&mut tx, meeting.meeting_id, participant_id).await?
    else {
        return Ok(());
    };
    access_log(
        &mut tx,
        workspace_id,
        meeting.meeting_id,
        &participant,
        "leave",
    )
    .await?;
    // A session that a newer one replaced (the page reloaded, the visit moved to another
    // device) leaves nothing: the participant is still here.
    let replaced = participant
        .session_sid
        .as_deref()
        .is_some_and(|current| current != session_sid);
    if replaced {
        tx.commit().await?;
        return Ok(());
    }
    services
        .waiting_room
        .depart(meeting.meeting_id, participant_id)
        .await?;
    let moved = !matches!(
        participant.state(),
        ParticipantState::Rejected | ParticipantState::Left | ParticipantState::Invited
    );
    if moved {
        store::set_state(&mut tx, participant_id, ParticipantState::Left, None).await?;
    }
    tx.commit().await?;
    if moved {
        announce(
            services,
            meeting.meeting_id,
            participant_event(participant_id, ParticipantState::Left),
        )
        .await;
    }
    Ok(())
}

/// Moves the status forward from who is in the room: a clinician makes it `ringing`,
/// a clinician with an admitted guest `in_call`.
pub async fn refresh_status(
    services: &Services,
    workspace_id: Uuid,
    meeting_id: Uuid,
) -> Result<()> {
    let mut tx = services.db.begin_for(workspace_id).await?;
    let Some(meeting) = store::lock(&mut tx, meeting_id).await? else {
        return Ok(());
    };
    let participants = store::participants(&mut tx, meeting_id).await?;
    let clinician_here = participants
        .iter()
        .any(|p| p.role().is_staff() && p.state() == ParticipantState::InCall);
    let guest_in_call = participants
        .iter()
        .any(|p| !p.role().is_staff() && p.state() == ParticipantState::InCall);
    let target = match (clinician_here, guest_in_call) {
        (true, true) => Some(MeetingStatus::InCall),
        (true, false) => Some(MeetingStatus::Ringing),
        _ => None,
    };
    let moved = match target {
        Some(to) => advance(services, &mut tx, &meeting, to).await?,
        None => false,
    };
    tx.commit().await?;
    if let (true, Some(to)) = (moved, target) {
        announce(
            services,
            meeting_id,
            MeetingEvent::Status {
                status: to.as_str().into(),
            },
        )
        .await;
    }
    Ok(())
}

async fn access_log(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    meeting_id: Uuid,
    p: &ParticipantRow,
    event: &str,
) -> Result<()> {
    sqlx::query(
        "insert into livekit_access_log (workspace_id, meeting_id, participant_id, role, event, source_addr)
         select $1, $2, $3, $4, $5, last_source from meeting_participant where participant_id = $3",
    )
    .bind(workspace_id)
    .bind(meeting_id)
    .bind(p.participant_id)
    .bind(&p.role)
    .bind(event)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Remembers where a participant's token request came from (for the access log).
pub async fn note_source(
    tx: &mut WorkspaceTx,
    participant_id: Uuid,
    source: Option<IpAddr>,
) -> Result<()> {
    if let Some(source) = source {
        // Written only when it changed: a refreshing client does not rewrite its row.
        sqlx::query(
            "update meeting_participant set last_source = $2::inet
             where participant_id = $1 and last_source is distinct from $2::inet",
        )
        .bind(participant_id)
        .bind(source.to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
