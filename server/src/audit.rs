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
    let detail = serde_json::json!({});
    record_detail(
        tx,
        workspace_id,
        actor_user_id,
        action,
        subject_type,
        subject_id,
        detail,
    )
    .await
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

/// Appends one event with `detail` (ids and codes only, never PHI). Meeting events put
/// `meeting_id` in `detail`, which is how a meeting's trail is found.
pub async fn record_detail(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    actor_user_id: Option<Uuid>,
    action: &str,
    subject_type: &str,
    subject_id: Option<Uuid>,
    detail: serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into audit_event (workspace_id, actor_user_id, action, subject_type, subject_id, detail)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(workspace_id)
    .bind(actor_user_id)
    .bind(action)
    .bind(subject_type)
    .bind(subject_id)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What [`verify_chain`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every row links to the one before and hashes to what it stores; the last one is
    /// the recorded head.
    Intact {
        /// Rows checked.
        rows: u64,
    },
    /// The first row that does not verify (edited, inserted or after a deletion), or
    /// `None` when the rows verify but the head names a later row (the tail was cut).
    Broken {
        /// The offending row's id.
        at_event_id: Option<i64>,
    },
}

/// Recomputes a workspace's audit chain from its rows, in Rust (independently of the
/// trigger that wrote it): each row's `row_hash` must be SHA-256 of the previous row's
/// hash followed by the row's canonical text, its `prev_hash` the previous row's hash,
/// and the last hash the one recorded in `audit_chain_head`. Runs as the owner.
pub async fn verify_chain(owner: &sqlx::PgPool, workspace_id: Uuid) -> sqlx::Result<ChainCheck> {
    use futures_util::TryStreamExt;
    use sha2::{Digest, Sha256};
    let mut rows = sqlx::query_as::<_, (i64, Option<Vec<u8>>, Option<Vec<u8>>, String)>(
        "select audit_event_id, prev_hash, row_hash,
                audit_event_canonical(audit_event_id, workspace_id, actor_user_id, action,
                                      subject_type, subject_id, detail, occurred_at)
         from audit_event where workspace_id = $1 order by audit_event_id",
    )
    .bind(workspace_id)
    .fetch(owner);
    let mut previous: Vec<u8> = Vec::new();
    let mut count = 0u64;
    while let Some((id, prev_hash, row_hash, canonical)) = rows.try_next().await? {
        let mut hasher = Sha256::new();
        hasher.update(&previous);
        hasher.update(canonical.as_bytes());
        let expected = hasher.finalize().to_vec();
        if prev_hash.as_deref() != Some(previous.as_slice())
            || row_hash.as_deref() != Some(expected.as_slice())
        {
            return Ok(ChainCheck::Broken {
                at_event_id: Some(id),
            });
        }
        previous = expected;
        count += 1;
    }
    drop(rows);
    let head: Option<Vec<u8>> =
        sqlx::query_scalar("select last_hash from audit_chain_head where workspace_id = $1")
            .bind(workspace_id)
            .fetch_optional(owner)
            .await?;
    if head.unwrap_or_default() != previous {
        return Ok(ChainCheck::Broken { at_event_id: None });
    }
    Ok(ChainCheck::Intact { rows: count })
}
