//! Server functions: the portal's calls into the server. Each authenticates through the
//! request's session cookie and delegates to [`crate::ports::PortalBackend`].

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::types::{
    Appointment, AppointmentForm, DaySchedule, Patient, PatientForm, PortalSession, StaffMember,
};

/// Signs in with email and password, sets the session cookie, and goes to today's schedule.
#[server]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::ports::backend;
    let cookie = backend()?.sign_in(&email, &password).await?;
    set_cookie(&cookie);
    leptos_axum::redirect("/");
    Ok(())
}

/// Signs out, clears the session cookie, and goes to the sign-in page.
#[server]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ports::{backend, request_headers};
    let headers = request_headers().await?;
    let cookie = backend()?.sign_out(&headers).await?;
    set_cookie(&cookie);
    leptos_axum::redirect("/login");
    Ok(())
}

/// Parses a UUID sent by a form; a malformed one is simply not found.
#[cfg(feature = "ssr")]
fn form_id(text: &str) -> Result<Uuid, AppError> {
    text.trim().parse().map_err(|_| AppError::NotFound)
}

/// "Start visit" on the schedule: creates or opens the appointment's meeting, then
/// goes to its visit console.
#[server]
pub async fn start_visit(appointment_id: String) -> Result<(), AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    let meeting = backend
        .start_visit(&session.user, form_id(&appointment_id)?)
        .await?;
    leptos_axum::redirect(&format!("/visits/{}", meeting.id));
    Ok(())
}

/// One meeting with its participants.
#[server]
pub async fn get_meeting(id: String) -> Result<crate::meetings::Meeting, AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    backend.meeting(&session.user, form_id(&id)?).await
}

/// "Send link": the participant's one-tap link by email or text.
#[server]
pub async fn send_visit_link(
    meeting_id: String,
    participant_id: String,
    channel: String,
    #[server(default)] sms_consent: Option<String>,
) -> Result<(), AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    let consent = sms_consent.is_some_and(|v| v == "on" || v == "true");
    backend
        .send_visit_link(
            &session.user,
            form_id(&meeting_id)?,
            form_id(&participant_id)?,
            &channel,
            consent,
        )
        .await
}

/// Admit or turn away a waiting participant.
#[server]
pub async fn decide_admission(
    meeting_id: String,
    participant_id: String,
    admit: bool,
    #[server(default)] reason: Option<String>,
) -> Result<(), AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    backend
        .decide_admission(
            &session.user,
            form_id(&meeting_id)?,
            form_id(&participant_id)?,
            admit,
            reason,
        )
        .await
}

/// "End visit": everyone is disconnected and the links stop working.
#[server]
pub async fn end_visit(meeting_id: String) -> Result<(), AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    backend
        .end_visit(&session.user, form_id(&meeting_id)?)
        .await
}

/// The visit's SOAP note.
#[server]
pub async fn get_visit_note(meeting_id: String) -> Result<crate::meetings::SoapNote, AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    backend
        .visit_note(&session.user, form_id(&meeting_id)?)
        .await
}

/// Saves the SOAP draft (called while the clinician types).
#[server]
pub async fn save_visit_note(
    meeting_id: String,
    subjective: String,
    objective: String,
    assessment: String,
    plan: String,
) -> Result<crate::meetings::SoapNote, AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    let note = crate::meetings::SoapNote {
        subjective,
        objective,
        assessment,
        plan,
        ..Default::default()
    };
    backend
        .save_visit_note(&session.user, form_id(&meeting_id)?, note)
        .await
}

/// The visit's chat, oldest first (clinician or patient).
#[server]
pub async fn chat_messages(
    meeting_id: String,
) -> Result<Vec<crate::meetings::ChatMessage>, AppError> {
    let headers = crate::ports::request_headers().await?;
    crate::ports::backend()?
        .chat_messages(&headers, form_id(&meeting_id)?)
        .await
}

/// Sends a chat message (clinician or patient).
#[server]
pub async fn send_chat(meeting_id: String, body: String) -> Result<(), AppError> {
    let headers = crate::ports::request_headers().await?;
    crate::ports::backend()?
        .send_chat(&headers, form_id(&meeting_id)?, &body)
        .await
}

/// The caller's media token for a meeting: where to connect and with what rights.
#[server]
pub async fn media_token(meeting_id: String) -> Result<crate::meetings::MediaToken, AppError> {
    let headers = crate::ports::request_headers().await?;
    crate::ports::backend()?
        .media_token(&headers, &meeting_id)
        .await
}

/// Accepts a staff invitation (no session: the emailed token is the credential).
#[server]
pub async fn accept_invitation(token: String, password: String) -> Result<String, AppError> {
    crate::ports::backend()?
        .accept_invitation(&token, &password)
        .await
}

/// Changes the signed-in user's password (the current one is required); other logins of
/// the user end, this one stays.
#[server]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::ports::{backend, request_headers};
    let headers = request_headers().await?;
    backend()?
        .change_password(&headers, &current_password, &new_password)
        .await
}

/// Who is signed in, with the clinic's name, time zone and today's date there.
#[server]
pub async fn get_portal_session() -> Result<PortalSession, AppError> {
    let (_, session) = crate::ports::require_session().await?;
    Ok(session)
}

/// One day of the signed-in user's schedule; `date` is `YYYY-MM-DD` or empty for today.
#[server]
pub async fn get_day_schedule(date: Option<String>) -> Result<DaySchedule, AppError> {
    use crate::types::FieldError;
    let (backend, session) = crate::ports::require_session().await?;
    let date =
        match date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(text) => Some(chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(
                |_| AppError::Validation(vec![FieldError::new("date", "Use the form YYYY-MM-DD.")]),
            )?),
        };
    backend.day_schedule(&session.user, date).await
}

/// The clinic's patients.
#[server]
pub async fn list_patients() -> Result<Vec<Patient>, AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    backend.list_patients(&session.user).await
}

/// Adds a patient.
#[server]
pub async fn create_patient(form: PatientForm) -> Result<Patient, AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    backend.create_patient(&session.user, form).await
}

/// The clinic's clinicians and admins (to assign appointments).
#[server]
pub async fn list_staff() -> Result<Vec<StaffMember>, AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    backend.list_staff(&session.user).await
}

/// One appointment.
#[server]
pub async fn get_appointment(id: Uuid) -> Result<Appointment, AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    backend.appointment(&session.user, id).await
}

/// Creates or updates an appointment, then shows its day.
#[server]
pub async fn save_appointment(
    appointment_id: Option<String>,
    form: AppointmentForm,
) -> Result<Appointment, AppError> {
    let (backend, session) = crate::ports::require_session().await?;
    let id = match appointment_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => Some(text.parse::<Uuid>().map_err(|_| AppError::NotFound)?),
    };
    let saved = backend.save_appointment(&session.user, id, form).await?;
    leptos_axum::redirect(&format!("/?date={}", saved.local_date));
    Ok(saved)
}

/// Adds a `Set-Cookie` header to the server function's response.
#[cfg(feature = "ssr")]
fn set_cookie(value: &str) {
    use http::header::{HeaderValue, SET_COOKIE};
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        options.append_header(SET_COOKIE, value);
    }
}
