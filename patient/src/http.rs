//! The patient's calls to the server: Bedside's REST API (`/api/v1/...`), the same one
//! operators and the tests use, authenticated by the visit session cookie. Errors come
//! back as the server's public message (`{"error":{"code","message"}}`), which is
//! written for people.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// What went wrong with a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status (0: the request never got an answer).
    pub status: u16,
    /// For people.
    pub message: String,
}

impl ApiError {
    fn unreachable() -> Self {
        Self {
            status: 0,
            message: "We cannot reach the clinic. Check your internet connection, then try again."
                .into(),
        }
    }
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    message: String,
}

/// `GET path`, its JSON answer.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    send("GET", path, None).await
}

/// `POST path` with `body` as JSON, its JSON answer (`()` for 204).
pub async fn post<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> Result<T, ApiError> {
    let json = serde_json::to_string(body).map_err(|_| ApiError::unreachable())?;
    send("POST", path, Some(json)).await
}

async fn send<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<T, ApiError> {
    let window = web_sys::window().ok_or_else(ApiError::unreachable)?;
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = &body {
        init.set_body(&body.into());
    }
    let request =
        Request::new_with_str_and_init(path, &init).map_err(|_| ApiError::unreachable())?;
    if body.is_some() {
        let _ = request.headers().set("content-type", "application/json");
    }
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| ApiError::unreachable())?
        .unchecked_into();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let status = response.status();
    if !response.ok() {
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.error.message)
            .unwrap_or_else(|_| ApiError::unreachable().message);
        return Err(ApiError { status, message });
    }
    let text = if text.is_empty() { "null" } else { &text };
    serde_json::from_str(text).map_err(|_| ApiError {
        status,
        message: "The clinic's server sent an answer this page cannot read. Please reload it."
            .into(),
    })
}
