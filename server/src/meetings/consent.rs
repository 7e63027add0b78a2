//! Recording consent: each participant's receipt (their latest answer counts), and the
//! recorder's token, minted only once everyone still in the visit said yes.

use app::meetings::{MediaToken, ParticipantState};
use app::types::CurrentUser;
use serde_json::json;
use uuid::Uuid;

use super::service::{audit_participant, load_for_staff, require_clinician, require_live};
use super::store;
use super::visit::{Caller, staff_user};
use crate::audit;
use crate::error::{Error, Result};
use crate::state::Services;

/// Stores the caller's consent receipt (to recording; the text's version is kept).
pub async fn consent(
    services: &Services,
    caller: &Caller,
    meeting_id: Uuid,
    consent: bool,
    text_version: &str,
) -> Result<()> {
    let text_version = text_version.trim();
    if text_version.is_empty() || text_version.len() > 64 {
        return Err(Error::field(
            "text_version",
            "Give the version of the consent text shown (up to 64 characters).",
        ));
    }
    let (workspace_id, participant_id, actor) = match caller {
        Caller::Staff(principal) => {
            let mut tx = services.db.begin_for(principal.workspace_id).await?;
            let user = &staff_user(&mut tx, principal).await?;
            let loaded = load_for_staff(&mut tx, user, meeting_id).await?;
            let me = require_clinician(&loaded, user)?.participant_id;
            tx.commit().await?;
            (user.workspace_id, me, Some(user.id))
        }
        Caller::Visit(bound) if bound.meeting_id == meeting_id => {
            (bound.workspace_id, bound.participant_id, None)
        }
        Caller::Visit(_) => return Err(Error::NotFound),
    };
    let mut tx = services.db.begin_for(workspace_id).await?;
    let meeting = store::find(&mut tx, meeting_id)
        .await?
        .ok_or(Error::NotFound)?;
    require_live(&meeting)?;
    sqlx::query("insert into consent_receipt (workspace_id, meeting_id, participant_id, consent, text_version) values ($1, $2, $3, $4, $5)")
        .bind(workspace_id)
        .bind(meeting_id)
        .bind(participant_id)
        .bind(consent)
        .bind(text_version)
        .execute(&mut *tx)
        .await?;
    audit_participant(
        &mut tx,
        workspace_id,
        actor,
        "meeting.consent_recorded",
        (meeting_id, participant_id),
        json!({ "consent": consent, "text_version": text_version }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A recorder's token, only once every participant who is not turned away has a
/// consent receipt saying yes (their latest answer counts).
pub async fn recorder_token(
    services: &Services,
    user: &CurrentUser,
    meeting_id: Uuid,
) -> Result<MediaToken> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let loaded = load_for_staff(&mut tx, user, meeting_id).await?;
    let me = require_clinician(&loaded, user)?.participant_id;
    require_live(&loaded.meeting)?;
    let missing: i64 = sqlx::query_scalar(
        "select count(*) from meeting_participant p
         where p.meeting_id = $1 and p.state <> 'rejected'
           and coalesce((select c.consent from consent_receipt c where c.participant_id = p.participant_id
                         order by c.recorded_at desc, c.consent_receipt_id desc limit 1), false) = false",
    )
    .bind(meeting_id)
    .fetch_one(&mut *tx)
    .await?;
    if missing > 0 {
        return Err(Error::State(
            "Recording needs every participant's consent first.",
        ));
    }
    let token = services.media.recorder_token(&loaded.meeting.room_name)?;
    let detail = json!({ "meeting_id": meeting_id });
    audit::record_detail(
        &mut tx,
        user.workspace_id,
        Some(user.id),
        "meeting.recorder_token_issued",
        "meeting",
        Some(meeting_id),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(MediaToken {
        livekit_url: services.media.client_url().into(),
        token,
        identity: me,
        room_name: loaded.meeting.room_name,
        state: ParticipantState::InCall,
    })
}
