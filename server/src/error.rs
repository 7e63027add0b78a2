//! The server's error type and its single mapping to HTTP.
//!
//! Services return [`Error`]. The REST API turns it into a response here, and only here
//! ([`IntoResponse`]); the portal turns it into [`AppError`] (same meaning, no HTTP). In
//! both directions internal causes are logged (IDs only, never request data) and replaced
//! by a generic message.

use app::error::AppError;
use app::types::FieldError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No or invalid credentials.
    #[error("authentication required")]
    Unauthorized,
    /// A state-changing request sent by a page of another origin (CSRF).
    #[error("cross-origin request refused")]
    CrossOrigin,
    /// Authenticated, but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// Absent, or in another workspace (the two are indistinguishable on purpose).
    #[error("not found")]
    NotFound,
    /// Wrong email or password.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A meeting link that is unknown, expired or revoked (one answer for all three).
    #[error("invalid link")]
    InvalidLink,
    /// The request is valid but the resource's state forbids it now (e.g. an ended
    /// meeting).
    #[error("state conflict: {0}")]
    State(&'static str),
    /// Too many failed sign-ins.
    #[error("too many attempts")]
    Throttled {
        /// Seconds until the lock lifts.
        retry_after_secs: u64,
    },
    /// Too much work in flight (password checks); try again shortly.
    #[error("busy")]
    Busy,
    /// The body is not JSON, or not an object of the right shape.
    #[error("malformed request: {0}")]
    MalformedBody(String),
    /// Fields failed validation.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// A unique value already exists.
    #[error("conflict on {}", .0.field)]
    Conflict(FieldError),
    /// Anything else: a bug or an unavailable dependency.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// A validation error on one field.
    pub fn field(field: &str, message: &str) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Error::CrossOrigin => (StatusCode::FORBIDDEN, "cross_origin"),
            Error::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Error::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Error::InvalidLink => (StatusCode::UNAUTHORIZED, "invalid_link"),
            Error::State(_) => (StatusCode::CONFLICT, "conflict"),
            Error::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            Error::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Error::MalformedBody(_) => (StatusCode::BAD_REQUEST, "malformed_body"),
            Error::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn public_message(&self) -> String {
        match self {
            Error::Unauthorized => "Authentication required.".into(),
            Error::Forbidden => "You don't have access to this resource.".into(),
            Error::CrossOrigin => {
                "This request came from another site and was refused; open Bedside directly.".into()
            }
            Error::NotFound => "Not found.".into(),
            Error::InvalidCredentials => "The email or password is incorrect.".into(),
            Error::InvalidLink => {
                "This link is not valid. It may have expired; ask your clinic for a new one.".into()
            }
            Error::State(message) => (*message).into(),
            Error::Throttled { .. } => "Too many failed attempts; try again later.".into(),
            Error::Busy => "The server is busy; try again in a moment.".into(),
            Error::MalformedBody(reason) => format!("The request body is malformed: {reason}"),
            Error::Validation(_) => "Some fields are invalid.".into(),
            Error::Conflict(field) => field.message.clone(),
            Error::Internal(_) => "Something went wrong on our side.".into(),
        }
    }

    fn log_internal(&self) {
        if let Error::Internal(cause) = self {
            // `{:#}` prints the context chain; causes are written without request data.
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Error::Internal(anyhow::Error::new(error).context("database"))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log_internal();
        let (status, code) = self.status_and_code();
        let mut body = json!({ "error": { "code": code, "message": self.public_message() } });
        match &self {
            Error::Validation(fields) => body["error"]["fields"] = json!(fields),
            Error::Conflict(field) => body["error"]["fields"] = json!([field]),
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        let retry_after = match self {
            Error::Throttled { retry_after_secs } => Some(retry_after_secs),
            Error::Busy => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        error.log_internal();
        match error {
            Error::Unauthorized => AppError::Unauthorized,
            Error::Forbidden | Error::CrossOrigin => AppError::Forbidden,
            Error::NotFound => AppError::NotFound,
            Error::InvalidCredentials => AppError::InvalidCredentials,
            Error::InvalidLink => AppError::InvalidLink,
            Error::State(message) => AppError::StateConflict(message.to_owned()),
            Error::Throttled { retry_after_secs } => AppError::Throttled { retry_after_secs },
            Error::Busy => AppError::Throttled {
                retry_after_secs: 1,
            },
            Error::Validation(fields) => AppError::Validation(fields),
            Error::Conflict(field) => AppError::Validation(vec![field]),
            Error::MalformedBody(reason) => AppError::Transport(reason),
            Error::Internal(_) => AppError::Internal,
        }
    }
}

/// Turns a named unique-constraint violation into a [`Error::Conflict`] on `field`.
pub trait OnConstraint<T> {
    /// Maps violations of `constraint` to a conflict on `field` with `message`.
    fn on_constraint(self, constraint: &str, field: &str, message: &str) -> Result<T>;
}

impl<T> OnConstraint<T> for std::result::Result<T, sqlx::Error> {
    fn on_constraint(self, constraint: &str, field: &str, message: &str) -> Result<T> {
        self.map_err(|error| match &error {
            sqlx::Error::Database(db) if db.constraint() == Some(constraint) => {
                Error::Conflict(FieldError::new(field, message))
            }
            _ => error.into(),
        })
    }
}
