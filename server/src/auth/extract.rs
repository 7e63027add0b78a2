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

/// The client's address, for throttling only (never logged). `None` when the server was
/// not started with connection info (in-process tests of a bare router).
///
/// This is the TCP peer: behind a reverse proxy every client shares the proxy's address,
/// so the per-source limits then act per proxy; size them accordingly (docs/security.md).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}
