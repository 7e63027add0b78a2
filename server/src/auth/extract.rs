//! The REST API's authentication extractor.

use app::types::{CurrentUser, Role};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::Error;
use crate::state::AppState;

/// The signed-in user of a REST request (bearer token or session cookie).
#[derive(Debug, Clone)]
pub struct SignedIn(pub CurrentUser);

impl SignedIn {
    /// Refuses unless the user is an admin.
    pub fn require_admin(&self) -> Result<(), Error> {
        if self.0.role == Role::Admin {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        super::service::current_user(&state.services, &parts.headers)
            .await
            .map(SignedIn)
    }
}
