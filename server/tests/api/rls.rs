//! Row-level security, checked directly in PostgreSQL as the request role.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgPool, Row};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

/// A pool connected as the request role (`bedside_app`), like the server's.
async fn request_role_pool(app: &TestApp) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .connect_with(app.settings.database.app_options().unwrap())
        .await
        .unwrap()
}

async fn insert_patient(app: &TestApp, workspace: Uuid, name: &str) {
    sqlx::query("insert into patient (workspace_id, name) values ($1, $2)")
        .bind(workspace)
        .bind(name)
        .execute(&app.owner)
        .await
        .unwrap();
}

#[tokio::test]
async fn with_workspace_a_context_a_raw_select_returns_none_of_workspace_bs_rows() {
    let app = spawn_app().await;
    let a = app.create_workspace("A").await;
    let b = app.create_workspace("B").await;
    insert_patient(&app, a, "Alice A").await;
    insert_patient(&app, b, "Bob B").await;
    insert_patient(&app, b, "Bea B").await;
    let pool = request_role_pool(&app).await;

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("select set_config('bedside.workspace_id', $1, true)")
        .bind(a.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let rows = sqlx::query("select * from patient")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let workspaces: Vec<Uuid> = rows.iter().map(|r| r.get("workspace_id")).collect();
    assert_eq!(workspaces, [a], "only workspace A's patient is visible");
    let b_count: i64 = sqlx::query_scalar("select count(*) from patient where workspace_id = $1")
        .bind(b)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(b_count, 0, "even asking for B by id finds nothing");
    let users: i64 = sqlx::query_scalar("select count(*) from workspace")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(users, 1);
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn without_a_workspace_context_the_request_role_sees_nothing() {
    let app = spawn_app().await;
    let a = app.create_workspace("A").await;
    insert_patient(&app, a, "Alice A").await;
    let pool = request_role_pool(&app).await;
    for table in [
        "workspace",
        "app_user",
        "patient",
        "appointment",
        "user_session",
        "audit_event",
    ] {
        let count: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(count, 0, "{table} leaks rows without a workspace context");
    }
}

#[tokio::test]
async fn the_request_role_cannot_bypass_row_level_security() {
    let app = spawn_app().await;
    let pool = request_role_pool(&app).await;
    let (user, superuser, bypass): (String, bool, bool) =
        sqlx::query_as("select current_user::text, rolsuper, rolbypassrls from pg_roles where rolname = current_user")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(user, "bedside_app");
    assert!(!superuser && !bypass);
    let forced: Vec<(String, bool, bool)> = sqlx::query_as(
        "select relname::text, relrowsecurity, relforcerowsecurity from pg_class
         where relname in ('workspace', 'app_user', 'patient', 'appointment', 'user_session', 'audit_event')",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(forced.len(), 6);
    for (table, enabled, forced) in forced {
        assert!(enabled && forced, "{table} must enable and force RLS");
    }
    let mut conn = pool.acquire().await.unwrap();
    assert!(
        sqlx::query("set role postgres")
            .execute(&mut *conn)
            .await
            .is_err(),
        "cannot become the owner"
    );
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("set local row_security = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    // With row_security off, a query that RLS would filter raises instead of leaking.
    let a = app.create_workspace("A").await;
    insert_patient(&app, a, "Alice A").await;
    assert!(
        sqlx::query("select * from patient")
            .fetch_all(&mut *tx)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn writing_into_another_workspace_is_refused() {
    let app = spawn_app().await;
    let a = app.create_workspace("A").await;
    let b = app.create_workspace("B").await;
    let pool = request_role_pool(&app).await;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("select set_config('bedside.workspace_id', $1, true)")
        .bind(a.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let result = sqlx::query("insert into patient (workspace_id, name) values ($1, 'Sneaky')")
        .bind(b)
        .execute(&mut *tx)
        .await;
    assert!(
        result.is_err(),
        "the policy's WITH CHECK refuses B's workspace id"
    );
}

#[tokio::test]
async fn the_audit_trail_is_append_only() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    app.token(&user).await; // signs in: writes an audit event
    let pool = request_role_pool(&app).await;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("select set_config('bedside.workspace_id', $1, true)")
        .bind(user.workspace_id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("select count(*) from audit_event")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(count >= 1);
    assert!(
        sqlx::query("update audit_event set action = 'x'")
            .execute(&mut *tx)
            .await
            .is_err()
    );
    tx.rollback().await.unwrap();
    // Even the owner cannot rewrite history: the trigger refuses.
    assert!(
        sqlx::query("delete from audit_event")
            .execute(&app.owner)
            .await
            .is_err()
    );
}
