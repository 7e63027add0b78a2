//! The dev outbox: messages that would have been sent, stored in PostgreSQL (under the
//! workspace's RLS) and listed on `/dev/outbox` in dev mode.

use serde::Serialize;

use super::Message;
use crate::db::Db;

/// One stored message.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutboxEntry {
    /// `email` or `sms`.
    pub channel: String,
    /// Address or number.
    pub recipient: String,
    /// Email subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// When it was stored.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Stores `message` in its workspace's outbox.
pub async fn store(db: &Db, message: &Message) -> anyhow::Result<()> {
    let (channel, recipient) = match &message.to {
        super::Recipient::Email(address) => ("email", address),
        super::Recipient::Sms(number) => ("sms", number),
    };
    let mut tx = db.begin_for(message.workspace_id).await?;
    sqlx::query(
        "insert into dev_outbox (workspace_id, channel, recipient, subject, body)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(message.workspace_id)
    .bind(channel)
    .bind(recipient)
    .bind(&message.subject)
    .bind(&message.body)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The workspace's newest messages, newest first.
pub async fn latest(
    db: &Db,
    workspace_id: uuid::Uuid,
    limit: i64,
) -> sqlx::Result<Vec<OutboxEntry>> {
    let mut tx = db.begin_for(workspace_id).await?;
    let entries = sqlx::query_as(
        "select channel, recipient, subject, body, created_at from dev_outbox
         order by created_at desc, dev_outbox_id desc limit $1",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(entries)
}
