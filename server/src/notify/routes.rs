//! `/dev/outbox`: in dev mode (never in production), the messages that would have been
//! emailed or texted, for the signed-in user's workspace, newest first. This is where a
//! developer finds the invitation and visit links the demo sends.

use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};

use super::outbox::{self, OutboxEntry};
use crate::auth::extract::SignedIn;
use crate::error::Result;
use crate::state::AppState;

/// Routes of the dev outbox (mounted only in dev).
pub fn dev_router() -> Router<AppState> {
    Router::new()
        .route("/dev/outbox", get(page))
        .route("/api/v1/dev/outbox", get(list))
}

async fn list(State(state): State<AppState>, user: SignedIn) -> Result<Json<Vec<OutboxEntry>>> {
    Ok(Json(
        outbox::latest(&state.services.db, user.0.workspace_id, 50).await?,
    ))
}

async fn page(State(state): State<AppState>, user: SignedIn) -> Result<Html<String>> {
    let entries = outbox::latest(&state.services.db, user.0.workspace_id, 50).await?;
    let mut html = String::from(
        "<!doctype html><meta charset=utf-8><title>Dev outbox · Bedside</title>\
         <link rel=stylesheet href=/pkg/bedside.css><main class=page><h1>Dev outbox</h1>\
         <p class=muted>Messages this dev server would have sent. Set SMTP_URL or an SMS \
         provider to send them for real. Try the media client on the \
         <a href=/dev/call>demo call</a>.</p>",
    );
    if entries.is_empty() {
        html.push_str("<p>No messages yet.</p>");
    }
    for entry in entries {
        html.push_str(&format!(
            "<section class=card><p class=muted>{} to {} · {}</p><h2>{}</h2><pre>{}</pre></section>",
            escape(&entry.channel),
            escape(&entry.recipient),
            entry.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            escape(&entry.subject),
            escape(&entry.body),
        ));
    }
    html.push_str("</main>");
    Ok(Html(html))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
