//! The server's implementation of the portal's [`PortalBackend`] port: the same services
//! the REST API uses, with errors converted to the portal's [`AppError`].

use std::sync::Arc;

use app::error::AppError;
use app::pages::appointment::NEW_PATIENT;
use app::ports::PortalBackend;
use app::types::{
    Appointment, AppointmentForm, CurrentUser, DaySchedule, Patient, PatientForm, PortalSession,
    StaffMember,
};
use axum::http::HeaderMap;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::appointments::model::StartInput;
use crate::appointments::service::{self as appointments, AppointmentInput, ListFilter};
use crate::auth::extract::ClientAddr;
use crate::auth::{service as auth, session};
use crate::error::Error;
use crate::patients::service::{self as patients, PatientInput};
use crate::state::Services;
use crate::{users, workspaces};

/// The portal backend.
#[derive(Debug, Clone)]
pub struct Portal {
    /// Shared services.
    pub services: Arc<Services>,
}

/// The portal authenticates by cookie only: a bearer header is not its business.
fn cookies_only(headers: &HeaderMap) -> HeaderMap {
    let mut cookies = HeaderMap::new();
    for cookie in headers.get_all(axum::http::header::COOKIE) {
        cookies.append(axum::http::header::COOKIE, cookie.clone());
    }
    cookies
}

fn optional(text: String) -> Option<Option<String>> {
    Some(Some(text).filter(|t| !t.trim().is_empty()))
}

#[async_trait::async_trait]
impl PortalBackend for Portal {
    async fn sign_in(&self, email: &str, password: &str) -> Result<String, AppError> {
        let source = leptos_axum::extract::<ClientAddr>()
            .await
            .ok()
            .and_then(|a| a.0);
        let signed_in = auth::sign_in(&self.services, email, password, source).await?;
        Ok(self.services.cookies.set(&signed_in.session_token))
    }

    async fn sign_out(&self, headers: &HeaderMap) -> Result<String, AppError> {
        auth::sign_out(&self.services, headers).await?;
        Ok(self.services.cookies.clear())
    }

    async fn start_visit(
        &self,
        user: &CurrentUser,
        appointment_id: Uuid,
    ) -> Result<app::meetings::Meeting, AppError> {
        let source = leptos_axum::extract::<ClientAddr>()
            .await
            .ok()
            .and_then(|a| a.0);
        let (meeting, _) =
            crate::meetings::service::create(&self.services, user, appointment_id, None, source)
                .await?;
        Ok(meeting.meeting)
    }

    async fn meeting(
        &self,
        user: &CurrentUser,
        id: Uuid,
    ) -> Result<app::meetings::Meeting, AppError> {
        Ok(crate::meetings::service::get(&self.services, user, id).await?)
    }

    async fn send_visit_link(
        &self,
        user: &CurrentUser,
        meeting_id: Uuid,
        participant_id: Uuid,
        channel: &str,
        sms_consent: bool,
    ) -> Result<(), AppError> {
        use crate::meetings::visit::Channel;
        let channel = match channel {
            "email" => Channel::Email,
            "sms" => Channel::Sms,
            _ => return Err(Error::field("channel", "Choose email or text message.").into()),
        };
        Ok(crate::meetings::visit::invite(
            &self.services,
            user,
            meeting_id,
            participant_id,
            channel,
            sms_consent,
        )
        .await?)
    }

    async fn decide_admission(
        &self,
        user: &CurrentUser,
        meeting_id: Uuid,
        participant_id: Uuid,
        admit: bool,
        reason: Option<String>,
    ) -> Result<(), AppError> {
        use crate::meetings::service;
        if admit {
            service::admit(&self.services, user, meeting_id, participant_id).await?;
        } else {
            service::reject(&self.services, user, meeting_id, participant_id, reason).await?;
        }
        Ok(())
    }

    async fn end_visit(&self, user: &CurrentUser, meeting_id: Uuid) -> Result<(), AppError> {
        Ok(
            crate::meetings::service::end(
                &self.services,
                Some(user),
                user.workspace_id,
                meeting_id,
            )
            .await?,
        )
    }

    async fn visit_note(
        &self,
        user: &CurrentUser,
        meeting_id: Uuid,
    ) -> Result<app::meetings::SoapNote, AppError> {
        Ok(crate::meetings::notes::get(&self.services, user, meeting_id).await?)
    }

    async fn save_visit_note(
        &self,
        user: &CurrentUser,
        meeting_id: Uuid,
        note: app::meetings::SoapNote,
    ) -> Result<app::meetings::SoapNote, AppError> {
        Ok(crate::meetings::notes::save(&self.services, user, meeting_id, &note).await?)
    }

    async fn chat_messages(
        &self,
        headers: &HeaderMap,
        meeting_id: Uuid,
    ) -> Result<Vec<app::meetings::ChatMessage>, AppError> {
        let caller = crate::meetings::visit::caller(&self.services, &cookies_only(headers)).await?;
        Ok(crate::meetings::chat::list(&self.services, &caller, meeting_id, None).await?)
    }

    async fn send_chat(
        &self,
        headers: &HeaderMap,
        meeting_id: Uuid,
        body: &str,
    ) -> Result<(), AppError> {
        let caller = crate::meetings::visit::caller(&self.services, &cookies_only(headers)).await?;
        crate::meetings::chat::post(&self.services, &caller, meeting_id, body).await?;
        Ok(())
    }

    async fn media_token(
        &self,
        headers: &HeaderMap,
        meeting_id: &str,
    ) -> Result<app::meetings::MediaToken, AppError> {
        let meeting_id: Uuid = meeting_id.trim().parse().map_err(|_| AppError::NotFound)?;
        let source = leptos_axum::extract::<ClientAddr>()
            .await
            .ok()
            .and_then(|a| a.0);
        let caller = crate::meetings::visit::caller(&self.services, headers).await?;
        Ok(
            crate::meetings::visit::media_token(&self.services, &caller, meeting_id, source)
                .await?,
        )
    }

    async fn accept_invitation(&self, token: &str, password: &str) -> Result<String, AppError> {
        Ok(users::invitations::accept(&self.services, token, password).await?)
    }

    async fn change_password(
        &self,
        headers: &HeaderMap,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), AppError> {
        let source = leptos_axum::extract::<ClientAddr>()
            .await
            .ok()
            .and_then(|a| a.0);
        auth::change_password(
            &self.services,
            &cookies_only(headers),
            current_password,
            new_password,
            source,
        )
        .await?;
        Ok(())
    }

    async fn session(&self, headers: &HeaderMap) -> Result<PortalSession, AppError> {
        // The portal authenticates by cookie only.
        let token = session::token_from_headers(headers).ok_or(AppError::Unauthorized)?;
        let principal = session::lookup(&self.services.db, &token, self.services.cookies.idle_secs)
            .await
            .map_err(Error::from)?
            .ok_or(AppError::Unauthorized)?;
        let result: Result<PortalSession, Error> = async {
            let mut tx = self.services.db.begin_for(principal.workspace_id).await?;
            let user = users::store::find(&mut tx, principal.user_id)
                .await?
                .ok_or(Error::Unauthorized)?;
            let workspace = workspaces::current(&mut tx).await?;
            tx.commit().await?;
            Ok(PortalSession {
                user,
                workspace_name: workspace.name.clone(),
                time_zone: workspace.time_zone.name().to_owned(),
                today: workspace.today(),
            })
        }
        .await;
        Ok(result?)
    }

    async fn day_schedule(
        &self,
        user: &CurrentUser,
        date: Option<NaiveDate>,
    ) -> Result<DaySchedule, AppError> {
        Ok(appointments::day(
            &self.services,
            user,
            ListFilter {
                date,
                clinician_id: None,
            },
        )
        .await?)
    }

    async fn list_patients(&self, user: &CurrentUser) -> Result<Vec<Patient>, AppError> {
        Ok(patients::list(&self.services, user).await?)
    }

    async fn create_patient(
        &self,
        user: &CurrentUser,
        form: PatientForm,
    ) -> Result<Patient, AppError> {
        let input = PatientInput {
            name: Some(form.name),
            email: optional(form.email),
            phone: optional(form.phone),
            date_of_birth: optional(form.date_of_birth),
        };
        Ok(patients::create(&self.services, user, input).await?)
    }

    async fn list_staff(&self, user: &CurrentUser) -> Result<Vec<StaffMember>, AppError> {
        let result: Result<_, Error> = async {
            let mut tx = self.services.db.begin_for(user.workspace_id).await?;
            let staff = users::store::list(&mut tx).await?;
            tx.commit().await?;
            Ok(staff)
        }
        .await;
        Ok(result?)
    }

    async fn appointment(&self, user: &CurrentUser, id: Uuid) -> Result<Appointment, AppError> {
        Ok(appointments::get(&self.services, user, id).await?)
    }

    async fn save_appointment(
        &self,
        user: &CurrentUser,
        id: Option<Uuid>,
        form: AppointmentForm,
    ) -> Result<Appointment, AppError> {
        let creates_patient = form.patient_id.trim() == NEW_PATIENT;
        let patient_id = Some(form.patient_id).filter(|p| !p.trim().is_empty() && !creates_patient);
        let new_patient = creates_patient.then(|| PatientInput {
            name: Some(form.new_patient_name),
            email: optional(form.new_patient_email),
            phone: optional(form.new_patient_phone),
            date_of_birth: None,
        });
        let duration_minutes = match form.duration_minutes.trim() {
            "" => None,
            text => Some(
                text.parse::<i64>()
                    .map_err(|_| Error::field("duration_minutes", "Choose a length in minutes."))?,
            ),
        };
        let input = AppointmentInput {
            patient_id,
            new_patient,
            clinician_id: Some(form.clinician_id).filter(|c| !c.trim().is_empty()),
            start: Some(StartInput::Local {
                date: form.date,
                time: form.time,
            }),
            duration_minutes,
            modality: Some(form.modality),
            reason: Some(form.reason),
            status: Some(form.status).filter(|s| !s.trim().is_empty()),
        };
        Ok(match id {
            None => appointments::create(&self.services, user, input).await?,
            Some(id) => appointments::update(&self.services, user, id, input).await?,
        })
    }
}
