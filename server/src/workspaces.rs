//! Workspaces (clinics): name and time zone.

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::db::WorkspaceTx;

/// A workspace's display settings.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Its id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Time zone appointment times are entered and shown in.
    pub time_zone: Tz,
}

impl Workspace {
    /// Today's date in the workspace's time zone.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.time_zone).date_naive()
    }
}

/// The transaction's workspace.
pub async fn current(tx: &mut WorkspaceTx) -> anyhow::Result<Workspace> {
    let (id, name, zone): (Uuid, String, String) =
        sqlx::query_as("select workspace_id, name, time_zone from workspace where workspace_id = current_workspace_id()")
            .fetch_one(&mut **tx)
            .await
            .context("loading the workspace")?;
    let time_zone = zone.parse::<Tz>().unwrap_or(Tz::UTC);
    Ok(Workspace {
        id,
        name,
        time_zone,
    })
}
