//! SQL for `app_user`. Every function runs in a workspace transaction (RLS applies).

use app::types::{CurrentUser, Role, StaffMember};
use sqlx::FromRow;
use uuid::Uuid;

use crate::db::WorkspaceTx;

#[derive(FromRow)]
struct UserRow {
    user_id: Uuid,
    workspace_id: Uuid,
    email: String,
    name: String,
    role: String,
}

impl UserRow {
    fn role(&self) -> Role {
        // The column's check constraint admits only these two values.
        Role::parse(&self.role).unwrap_or(Role::Clinician)
    }
}

/// One user of the transaction's workspace.
pub async fn find(tx: &mut WorkspaceTx, user_id: Uuid) -> sqlx::Result<Option<CurrentUser>> {
    let row: Option<UserRow> = sqlx::query_as(
        "select user_id, workspace_id, email, name, role from app_user where user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| CurrentUser {
        id: r.user_id,
        role: r.role(),
        email: r.email,
        name: r.name,
        workspace_id: r.workspace_id,
    }))
}

/// All staff of the workspace, by name.
pub async fn list(tx: &mut WorkspaceTx) -> sqlx::Result<Vec<StaffMember>> {
    let rows: Vec<UserRow> = sqlx::query_as(
        "select user_id, workspace_id, email, name, role from app_user order by lower(name), user_id",
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| StaffMember {
            id: r.user_id,
            role: r.role(),
            email: r.email,
            name: r.name,
        })
        .collect())
}

/// Inserts a user; the email must be lowercased already.
pub async fn insert(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    email: &str,
    name: &str,
    role: Role,
    password_hash: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "insert into app_user (workspace_id, email, name, role, password_hash)
         values ($1, $2, $3, $4, $5) returning user_id",
    )
    .bind(workspace_id)
    .bind(email)
    .bind(name)
    .bind(role.as_str())
    .bind(password_hash)
    .fetch_one(&mut **tx)
    .await
}
