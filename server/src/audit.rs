//! The append-only audit trail. Events name actors and subjects by id only; the table
//! refuses updates and deletes (trigger + grants).

use uuid::Uuid;

use crate::db::WorkspaceTx;

/// Appends one event in the caller's transaction, so it commits with the change it records.
pub async fn record(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    actor_user_id: Option<Uuid>,
    action: &str,
    subject_type: &str,
    subject_id: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into audit_event (workspace_id, actor_user_id, action, subject_type, subject_id)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(workspace_id)
    .bind(actor_user_id)
    .bind(action)
    .bind(subject_type)
    .bind(subject_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records that `actor` read PHI: one event per record shown (`subject_ids`), in one
/// statement, in the read's own transaction (HIPAA §164.312(b): who saw which record,
/// when). A read that shows nothing is recorded once with no subject.
pub async fn record_read(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    actor_user_id: Uuid,
    action: &str,
    subject_type: &str,
    subject_ids: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into audit_event (workspace_id, actor_user_id, action, subject_type, subject_id)
         select $1, $2, $3, $4, s
         from unnest(case when cardinality($5::uuid[]) = 0 then array[null::uuid]
                          else $5::uuid[] end) as s",
    )
    .bind(workspace_id)
    .bind(actor_user_id)
    .bind(action)
    .bind(subject_type)
    .bind(subject_ids)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
