//! `ApiJson<T>`: axum's JSON extractor with our error mapping. Syntax errors and a missing
//! content type are 400 `malformed_body`; a well-formed body of the wrong shape is 422.
//! Rejection texts go to the client only, never to the logs (they may quote PHI).

use app::types::FieldError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};

use crate::error::Error;

/// A JSON request body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::JsonDataError(e)) => Err(Error::Validation(vec![FieldError::new(
                "body",
                e.body_text(),
            )])),
            Err(JsonRejection::JsonSyntaxError(_)) => {
                Err(Error::MalformedBody("not valid JSON".into()))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Error::MalformedBody(
                "expected Content-Type: application/json".into(),
            )),
            Err(_) => Err(Error::MalformedBody("could not read the body".into())),
        }
    }
}

/// For `Option<Option<T>>` fields: absent → `None`, `null` → `Some(None)`, value →
/// `Some(Some(v))` (use with `#[serde(default, deserialize_with = "double_option")]`).
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}
