//! Changing a running meeting: a longer visit, and more people in it (a second
//! clinician, a caregiver, an interpreter).

use app::meetings::{Meeting, ParticipantRole};
use app::types::{CurrentUser, FieldError};
use serde_json::json;
use uuid::Uuid;

use super::service::{audit_participant, load_for_staff, require_clinician, require_live};
use super::store::{self, NewParticipant};

use crate::error::{Error, Result};
use crate::state::Services;

/// A participant to add by `PATCH`.
#[derive(Debug, Clone)]
pub enum NewGuest {
    /// A second clinician of the workspace.
    Clinician {
        /// Their user id.
        user_id: Uuid,
    },
    /// A caregiver or interpreter, invited by link.
    Guest {
        /// `caregiver` or `interpreter`.
        role: ParticipantRole,
        /// Display name.
        name: String,
        /// Email for the link.
        email: Option<String>,
        /// Phone for the link.
        phone: Option<String>,
    },
}

/// Extends the duration and/or adds a participant.
pub async fn patch(
    services: &Services,
    user: &CurrentUser,
    id: Uuid,
    duration_minutes: Option<i32>,
    add: Option<NewGuest>,
) -> Result<Meeting> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let loaded = load_for_staff(&mut tx, user, id).await?;
    require_clinician(&loaded, user)?;
    let meeting = store::lock(&mut tx, id).await?.ok_or(Error::NotFound)?;
    require_live(&meeting)?;
    if let Some(minutes) = duration_minutes {
        if !(5..=480).contains(&minutes) {
            return Err(Error::field("duration_minutes", "Use 5 to 480 minutes."));
        }
        if minutes < meeting.duration_minutes {
            return Err(Error::field(
                "duration_minutes",
                "A visit can be extended, not shortened.",
            ));
        }
        sqlx::query("update meeting set duration_minutes = $2 where meeting_id = $1")
            .bind(id)
            .bind(minutes)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(guest) = add {
        let added = match guest {
            NewGuest::Clinician { user_id } => {
                let colleague = crate::users::store::find(&mut tx, user_id)
                    .await?
                    .ok_or_else(|| Error::field("user_id", "No such colleague in this clinic."))?;
                if loaded.staff_participant(user_id).is_some() {
                    return Err(Error::Conflict(FieldError::new(
                        "user_id",
                        "Already in this visit.",
                    )));
                }
                let row = NewParticipant {
                    role: ParticipantRole::Clinician,
                    user_id: Some(user_id),
                    patient_id: None,
                    name: &colleague.name,
                    email: None,
                    phone: None,
                };
                store::add_participant(&mut tx, user.workspace_id, id, &row).await?
            }
            NewGuest::Guest {
                role,
                name,
                email,
                phone,
            } => {
                let row = NewParticipant {
                    role,
                    user_id: None,
                    patient_id: None,
                    name: &name,
                    email: email.as_deref(),
                    phone: phone.as_deref(),
                };
                store::add_participant(&mut tx, user.workspace_id, id, &row).await?
            }
        };
        audit_participant(
            &mut tx,
            user.workspace_id,
            Some(user.id),
            "meeting.participant_added",
            (id, added),
            json!({}),
        )
        .await?;
    }
    let loaded = load_for_staff(&mut tx, user, id).await?;
    tx.commit().await?;
    Ok(loaded.view(services.media.client_url()))
}
