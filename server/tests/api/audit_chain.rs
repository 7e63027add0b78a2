//! The audit chain under concurrent writers: events of one workspace written at the same
//! moment from many connections still form one intact chain in id order.

use crate::helpers::spawn_app;

#[tokio::test]
async fn audit_events_written_at_once_from_many_connections_keep_an_intact_chain() {
    let app = spawn_app().await;
    let workspace = app.create_workspace("Busy Clinic").await;
    let writers = (0..8).map(|writer| {
        let owner = app.owner.clone();
        tokio::spawn(async move {
            for n in 0..10 {
                let mut tx = owner.begin().await.unwrap();
                sqlx::query(
                    "insert into audit_event (workspace_id, action, subject_type, detail)
                     values ($1, 'test.concurrent', 'test', jsonb_build_object('writer', $2::int, 'n', $3::int))",
                )
                .bind(workspace)
                .bind(writer)
                .bind(n)
                .execute(&mut *tx)
                .await
                .unwrap();
                // Hold the chain's head a moment, so the other writers queue behind it.
                sqlx::query("select pg_sleep(0.002)").execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap();
    }
    assert_eq!(
        server::audit::verify_chain(&app.owner, workspace)
            .await
            .unwrap(),
        server::audit::ChainCheck::Intact { rows: 80 }
    );
}
