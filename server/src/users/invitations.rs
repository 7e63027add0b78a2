//! Staff invitations: how an admin adds a colleague without learning anything about
//! other clinics (OWASP ASVS 5.0 V6.3: no account enumeration).
//!
//! The admin names an email, a name and a role; Bedside answers the same way whether or
//! not the address already has an account in another clinic, and emails the address.
//! A new address gets a link to choose a password (valid [`INVITATION_TTL_HOURS`]); an
//! address that already has an account gets a note saying so, and no link. Only the
//! mailbox's owner learns which. Admins no longer choose colleagues' passwords either.

use app::types::{FieldError, Role};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::audit;
use crate::auth::password_policy::check_new_password;
use crate::auth::{hash_token, random_token};
use crate::error::{Error, Result};
use crate::notify::{Message, Recipient};
use crate::state::Services;
use crate::users::store;
use crate::workspaces;

/// How long an invitation link stays valid.
pub const INVITATION_TTL_HOURS: i64 = 72;

/// What the inviting admin sees: the same for every address.
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    /// The invitation's id.
    pub id: Uuid,
    /// The invited address, lowercased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role once accepted.
    pub role: Role,
    /// Always `invited` when created.
    pub status: &'static str,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// Invites `email` into the admin's workspace. The only refusal that depends on the
/// address is a colleague *in this workspace* already using it (the admin sees the staff
/// list anyway).
pub async fn invite(
    services: &Services,
    admin_id: Uuid,
    workspace_id: Uuid,
    email: String,
    name: String,
    role: Role,
) -> Result<Invitation> {
    let token = random_token();
    let expires_at = Utc::now() + Duration::hours(INVITATION_TTL_HOURS);
    let mut tx = services.db.begin_for(workspace_id).await?;
    let colleague: bool =
        sqlx::query_scalar("select exists(select 1 from app_user where email = $1)")
            .bind(&email)
            .fetch_one(&mut *tx)
            .await?;
    if colleague {
        return Err(Error::Conflict(FieldError::new(
            "email",
            "A colleague in this clinic already uses this email.",
        )));
    }
    let taken_elsewhere: bool = sqlx::query_scalar("select auth_email_is_taken($1)")
        .bind(&email)
        .fetch_one(&mut *tx)
        .await?;
    let id: Uuid = sqlx::query_scalar(
        "insert into staff_invitation (workspace_id, email, name, role, token_hash, invited_by, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning staff_invitation_id",
    )
    .bind(workspace_id)
    .bind(&email)
    .bind(&name)
    .bind(role.as_str())
    .bind(hash_token(&token))
    .bind(admin_id)
    .bind(expires_at)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        workspace_id,
        Some(admin_id),
        "user.invited",
        "staff_invitation",
        Some(id),
    )
    .await?;
    let clinic = workspaces::current(&mut tx).await?.name;
    tx.commit().await?;

    let body = if taken_elsewhere {
        format!(
            "Someone at {clinic} invited this address to join their clinic on Bedside, but \
             this address already has a Bedside account, and an address can belong to one \
             clinic only.\n\nIf you want to join {clinic}, ask them to invite another \
             address. If you did not expect this, you can ignore this message."
        )
    } else {
        format!(
            "You are invited to join {clinic} on Bedside as {role}.\n\nChoose your \
             password here (the link works for {INVITATION_TTL_HOURS} hours):\n{url}/invitation#{token}\n",
            role = match role {
                Role::Admin => "an admin",
                Role::Clinician => "a clinician",
            },
            url = services.public_url,
        )
    };
    let message = Message {
        workspace_id,
        to: Recipient::Email(email.clone()),
        subject: format!("Your invitation to {clinic} on Bedside"),
        body,
    };
    services.notifier.send(&message).await?;
    tracing::info!(invitation_id = %id, "staff invited");
    Ok(Invitation {
        id,
        email,
        name,
        role,
        status: "invited",
        expires_at,
    })
}

/// An invitation found by its link's token.
#[derive(sqlx::FromRow)]
struct PendingInvitation {
    #[sqlx(rename = "staff_invitation_id")]
    id: Uuid,
    workspace_id: Uuid,
    email: String,
    expires_at: DateTime<Utc>,
    accepted_at: Option<DateTime<Utc>>,
}

/// Accepts an invitation from its emailed link: creates the account with the chosen
/// password. A wrong, used or expired link gets one generic answer.
pub async fn accept(services: &Services, token: &str, password: &str) -> Result<String> {
    let found: Option<PendingInvitation> = sqlx::query_as(
        "select staff_invitation_id, workspace_id, email, expires_at, accepted_at
         from staff_invitation_by_token_hash($1)",
    )
    .bind(hash_token(token.trim()))
    .fetch_optional(services.db.pool())
    .await?;
    let usable = found.filter(|f| f.expires_at > Utc::now() && f.accepted_at.is_none());
    let Some(PendingInvitation {
        id,
        workspace_id,
        email,
        ..
    }) = usable
    else {
        return Err(Error::field(
            "token",
            "This invitation link is not valid any more. Ask your clinic for a new one.",
        ));
    };
    let mut tx = services.db.begin_for(workspace_id).await?;
    let (name, role): (String, String) =
        sqlx::query_as("select name, role from staff_invitation where staff_invitation_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    if let Some(error) = check_new_password("password", password, &[&email, &name]) {
        return Err(Error::Validation(vec![error]));
    }
    let hash = services.password_checks.hash(password.to_owned()).await??;
    let role = Role::parse(&role).unwrap_or(Role::Clinician);
    let mut tx = services.db.begin_for(workspace_id).await?;
    // Accepting twice at once: the update claims the invitation for one of them.
    let claimed = sqlx::query(
        "update staff_invitation set accepted_at = now()
         where staff_invitation_id = $1 and accepted_at is null",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed != 1 {
        return Err(Error::field(
            "token",
            "This invitation was already accepted.",
        ));
    }
    let user_id = store::insert(&mut tx, workspace_id, &email, &name, role, &hash)
        .await
        .map_err(|error| match &error {
            sqlx::Error::Database(db) if db.constraint() == Some("app_user_email_key") => {
                // Told only to whoever holds the link, i.e. the mailbox's owner.
                Error::Conflict(FieldError::new(
                    "token",
                    "This email already has a Bedside account; sign in with it instead.",
                ))
            }
            _ => error.into(),
        })?;
    audit::record(
        &mut tx,
        workspace_id,
        Some(user_id),
        "user.created",
        "user",
        Some(user_id),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %user_id, invitation_id = %id, "invitation accepted");
    Ok(email)
}
