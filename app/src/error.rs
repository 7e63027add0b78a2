//! The portal's error type. Server functions return it, so the UI can `match` on what went
//! wrong instead of parsing strings. Internal causes never reach it: the server logs them
//! and sends [`AppError::Internal`].

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::types::FieldError;

/// What can go wrong in a portal request, in terms a user can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No valid session: sign in again.
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// Signed in, but this is someone else's.
    #[error("You don't have access to that.")]
    Forbidden,
    /// It does not exist (or belongs to another clinic).
    #[error("We couldn't find that.")]
    NotFound,
    /// The email/password pair is wrong.
    #[error("The email or password is incorrect.")]
    InvalidCredentials,
    /// A visit link that is unknown, expired or revoked.
    #[error("This link is not valid. It may have expired; ask your clinic for a new one.")]
    InvalidLink,
    /// The request does not fit the current state (e.g. the visit ended).
    #[error("{0}")]
    StateConflict(String),
    /// Too many failed sign-ins for this account.
    #[error("Too many failed sign-in attempts. Try again in {} minutes.", retry_after_secs.div_ceil(60))]
    Throttled {
        /// Seconds until another attempt is accepted.
        retry_after_secs: u64,
    },
    /// Some fields are invalid.
    #[error("Please correct the highlighted fields.")]
    Validation(Vec<FieldError>),
    /// Something failed on the server; details are in its logs (never shown).
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request did not reach the server or its answer could not be read.
    #[error("Could not reach Bedside: {0}")]
    Transport(String),
}

impl AppError {
    /// The message for one field, if validation failed on it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
