//! Demo data for `dev`: a "Demo Clinic" with an admin, a clinician, two patients and
//! today's appointments. Runs as the owner role at startup; idempotent: the demo
//! accounts' password follows the current setting, and a day without demo appointments
//! gets a fresh set, so the demo always has "today" to show.

use anyhow::Context;
use chrono::{Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;
use uuid::Uuid;

use crate::appointments::model::day_bounds;
use crate::auth::password::hash_password;

/// Name of the demo workspace.
pub const DEMO_WORKSPACE: &str = "Demo Clinic";
/// Sign-in of the demo clinician.
pub const DEMO_CLINICIAN_EMAIL: &str = "clinician@demo.bedside.test";
/// Sign-in of the demo admin.
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.bedside.test";
const DEMO_TIME_ZONE: Tz = chrono_tz::America::New_York;

/// Creates or refreshes the demo workspace.
pub async fn demo(owner: &PgPool, password: &str) -> anyhow::Result<()> {
    let hash = hash_password(password.to_owned()).await?;
    let mut tx = owner.begin().await?;
    let existing: Option<Uuid> =
        sqlx::query_scalar("select workspace_id from workspace where name = $1")
            .bind(DEMO_WORKSPACE)
            .fetch_optional(&mut *tx)
            .await?;
    let workspace_id =
        match existing {
            Some(id) => id,
            None => sqlx::query_scalar(
                "insert into workspace (name, time_zone) values ($1, $2) returning workspace_id",
            )
            .bind(DEMO_WORKSPACE)
            .bind(DEMO_TIME_ZONE.name())
            .fetch_one(&mut *tx)
            .await?,
        };
    let mut clinician_id = Uuid::nil();
    for (email, name, role) in [
        (DEMO_ADMIN_EMAIL, "Avery Admin", "admin"),
        (DEMO_CLINICIAN_EMAIL, "Dr. Dana Reyes", "clinician"),
    ] {
        let id: Uuid = sqlx::query_scalar(
            "insert into app_user (workspace_id, email, name, role, password_hash) values ($1, $2, $3, $4, $5)
             on conflict (email) do update set password_hash = excluded.password_hash
             returning user_id",
        )
        .bind(workspace_id)
        .bind(email)
        .bind(name)
        .bind(role)
        .bind(&hash)
        .fetch_one(&mut *tx)
        .await
        .context("seeding demo users")?;
        if role == "clinician" {
            clinician_id = id;
        }
    }

    let patients: Vec<Uuid> = sqlx::query_scalar(
        "select patient_id from patient where workspace_id = $1 order by created_at",
    )
    .bind(workspace_id)
    .fetch_all(&mut *tx)
    .await?;
    let patients = if patients.len() >= 2 {
        patients
    } else {
        let mut ids = Vec::new();
        for (name, email, phone, born) in [
            (
                "Jordan Patel",
                "jordan.patel@example.test",
                "+1 555 010 0142",
                "1984-05-12",
            ),
            (
                "Maria Gonzalez",
                "maria.gonzalez@example.test",
                "+1 555 010 0199",
                "1991-09-03",
            ),
        ] {
            ids.push(
                sqlx::query_scalar(
                    "insert into patient (workspace_id, name, email, phone, date_of_birth)
                     values ($1, $2, $3, $4, $5::date) returning patient_id",
                )
                .bind(workspace_id)
                .bind(name)
                .bind(email)
                .bind(phone)
                .bind(born)
                .fetch_one(&mut *tx)
                .await?,
            );
        }
        ids
    };

    let today = Utc::now().with_timezone(&DEMO_TIME_ZONE).date_naive();
    let (from, to) = day_bounds(today, DEMO_TIME_ZONE);
    let booked_today: i64 = sqlx::query_scalar(
        "select count(*) from appointment where clinician_id = $1 and starts_at >= $2 and starts_at < $3",
    )
    .bind(clinician_id)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *tx)
    .await?;
    if booked_today == 0 {
        for (hour, minute, patient, modality, reason) in [
            (
                9,
                30,
                patients[0],
                "telehealth",
                "Follow-up: blood pressure readings",
            ),
            (11, 0, patients[1], "in_person", "Annual physical"),
            (15, 0, patients[1], "telehealth", "Medication review"),
        ] {
            let local =
                today.and_time(NaiveTime::from_hms_opt(hour, minute, 0).context("demo time")?);
            let starts_at = DEMO_TIME_ZONE
                .from_local_datetime(&local)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc::now() + Duration::hours(1));
            sqlx::query(
                "insert into appointment (workspace_id, clinician_id, patient_id, starts_at, duration_minutes, modality, reason)
                 values ($1, $2, $3, $4, 30, $5, $6)",
            )
            .bind(workspace_id)
            .bind(clinician_id)
            .bind(patient)
            .bind(starts_at)
            .bind(modality)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
