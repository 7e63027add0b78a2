//! The server side of the portal, seen from `app` (compiled only with `ssr`).
//!
//! `app` cannot name `server` types (server depends on app, not the other way round), so
//! server functions talk to a [`PortalBackend`] trait object that the server implements
//! and provides as Leptos context for both SSR and server-function requests. Server
//! functions stay thin adapters: read the request, call the backend, map nothing.

use std::sync::Arc;

use chrono::NaiveDate;
use http::HeaderMap;
use uuid::Uuid;

use crate::error::AppError;
use crate::types::{
    Appointment, AppointmentForm, CurrentUser, DaySchedule, Patient, PatientForm, PortalSession,
    StaffMember,
};

/// Everything the portal's server functions need from the server.
#[async_trait::async_trait]
pub trait PortalBackend: Send + Sync + 'static {
    /// Checks credentials and opens a session; returns the `Set-Cookie` header value.
    async fn sign_in(&self, email: &str, password: &str) -> Result<String, AppError>;
    /// Ends the session named by the request's cookie (if any); returns the `Set-Cookie`
    /// value that clears it.
    async fn sign_out(&self, headers: &HeaderMap) -> Result<String, AppError>;
    /// Creates or opens the meeting of a telehealth appointment (its clinician only).
    async fn start_visit(
        &self,
        user: &CurrentUser,
        appointment_id: Uuid,
    ) -> Result<crate::meetings::Meeting, AppError>;
    /// One meeting, for its clinicians and workspace admins.
    async fn meeting(
        &self,
        user: &CurrentUser,
        id: Uuid,
    ) -> Result<crate::meetings::Meeting, AppError>;
    /// Sends a participant their one-tap link by `channel` (`email` or `sms`).
    async fn send_visit_link(
        &self,
        user: &CurrentUser,
        meeting_id: Uuid,
        participant_id: Uuid,
        channel: &str,
        sms_consent: bool,
    ) -> Result<(), AppError>;
    /// Admits (`admit`) or turns away a waiting participant, with an optional reason.
    async fn decide_admission(
        &self,
        user: &CurrentUser,
        meeting_id: Uuid,
        participant_id: Uuid,
        admit: bool,
        reason: Option<String>,
    ) -> Result<(), AppError>;
    /// Ends the visit for everyone.
    async fn end_visit(&self, user: &CurrentUser, meeting_id: Uuid) -> Result<(), AppError>;
    /// The meeting's SOAP note (empty if none yet).
    async fn visit_note(
        &self,
        user: &CurrentUser,
        meeting_id: Uuid,
    ) -> Result<crate::meetings::SoapNote, AppError>;
    /// Saves the SOAP draft.
    async fn save_visit_note(
        &self,
        user: &CurrentUser,
        meeting_id: Uuid,
        note: crate::meetings::SoapNote,
    ) -> Result<crate::meetings::SoapNote, AppError>;
    /// The visit's chat (staff by cookie, or the patient's visit session), oldest first.
    async fn chat_messages(
        &self,
        headers: &HeaderMap,
        meeting_id: Uuid,
    ) -> Result<Vec<crate::meetings::ChatMessage>, AppError>;
    /// Sends a chat message as the request's caller.
    async fn send_chat(
        &self,
        headers: &HeaderMap,
        meeting_id: Uuid,
        body: &str,
    ) -> Result<(), AppError>;
    /// The caller's media token for a meeting (staff by cookie, or the request's visit
    /// session), by the grant matrix: a waiting patient's is hidden, without media rights.
    async fn media_token(
        &self,
        headers: &HeaderMap,
        meeting_id: &str,
    ) -> Result<crate::meetings::MediaToken, AppError>;
    /// Accepts a staff invitation by its emailed token; returns the new account's email.
    async fn accept_invitation(&self, token: &str, password: &str) -> Result<String, AppError>;
    /// Changes the password of the request's login; every other login of the user ends.
    async fn change_password(
        &self,
        headers: &HeaderMap,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), AppError>;
    /// Resolves the request's session cookie to a portal session.
    async fn session(&self, headers: &HeaderMap) -> Result<PortalSession, AppError>;
    /// One day of the user's schedule (an admin sees every clinician's).
    async fn day_schedule(
        &self,
        user: &CurrentUser,
        date: Option<NaiveDate>,
    ) -> Result<DaySchedule, AppError>;
    /// The workspace's patients, by name.
    async fn list_patients(&self, user: &CurrentUser) -> Result<Vec<Patient>, AppError>;
    /// Adds a patient.
    async fn create_patient(
        &self,
        user: &CurrentUser,
        form: PatientForm,
    ) -> Result<Patient, AppError>;
    /// The workspace's clinicians and admins.
    async fn list_staff(&self, user: &CurrentUser) -> Result<Vec<StaffMember>, AppError>;
    /// One appointment the user may see.
    async fn appointment(&self, user: &CurrentUser, id: Uuid) -> Result<Appointment, AppError>;
    /// Creates (`id` = `None`) or updates an appointment from the portal form.
    async fn save_appointment(
        &self,
        user: &CurrentUser,
        id: Option<Uuid>,
        form: AppointmentForm,
    ) -> Result<Appointment, AppError>;
}

/// The backend as stored in Leptos context.
pub type Backend = Arc<dyn PortalBackend>;

/// The backend from context; a missing one is a wiring bug, reported as internal.
pub fn backend() -> Result<Backend, AppError> {
    leptos::prelude::use_context::<Backend>().ok_or(AppError::Internal)
}

/// The current request's headers.
pub async fn request_headers() -> Result<HeaderMap, AppError> {
    leptos_axum::extract::<HeaderMap>()
        .await
        .map_err(|_| AppError::Internal)
}

/// The signed-in user of the current request, or [`AppError::Unauthorized`].
pub async fn require_session() -> Result<(Backend, PortalSession), AppError> {
    let backend = backend()?;
    let headers = request_headers().await?;
    let session = backend.session(&headers).await?;
    Ok((backend, session))
}
