//! SQL for `patient`, always inside a workspace transaction.

use app::types::Patient;
use chrono::NaiveDate;
use sqlx::FromRow;
use uuid::Uuid;

use crate::db::WorkspaceTx;

#[derive(FromRow)]
struct PatientRow {
    patient_id: Uuid,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    date_of_birth: Option<NaiveDate>,
}

impl From<PatientRow> for Patient {
    fn from(r: PatientRow) -> Self {
        Patient {
            id: r.patient_id,
            name: r.name,
            email: r.email,
            phone: r.phone,
            date_of_birth: r.date_of_birth,
        }
    }
}

/// Validated patient fields.
#[derive(Debug, Clone)]
pub struct PatientFields {
    /// Full name.
    pub name: String,
    /// Email, if any.
    pub email: Option<String>,
    /// Phone, if any.
    pub phone: Option<String>,
    /// Date of birth, if any.
    pub date_of_birth: Option<NaiveDate>,
}

const COLUMNS: &str = "patient_id, name, email, phone, date_of_birth";

/// All patients, by name.
pub async fn list(tx: &mut WorkspaceTx) -> sqlx::Result<Vec<Patient>> {
    let rows: Vec<PatientRow> = sqlx::query_as(&format!(
        "select {COLUMNS} from patient order by lower(name), patient_id"
    ))
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(Patient::from).collect())
}

/// One patient.
pub async fn find(tx: &mut WorkspaceTx, id: Uuid) -> sqlx::Result<Option<Patient>> {
    let row: Option<PatientRow> = sqlx::query_as(&format!(
        "select {COLUMNS} from patient where patient_id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(Patient::from))
}

/// Inserts a patient.
pub async fn insert(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    p: &PatientFields,
) -> sqlx::Result<Patient> {
    let row: PatientRow = sqlx::query_as(&format!(
        "insert into patient (workspace_id, name, email, phone, date_of_birth)
         values ($1, $2, $3, $4, $5) returning {COLUMNS}"
    ))
    .bind(workspace_id)
    .bind(&p.name)
    .bind(&p.email)
    .bind(&p.phone)
    .bind(p.date_of_birth)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.into())
}

/// Replaces a patient's fields.
pub async fn update(
    tx: &mut WorkspaceTx,
    id: Uuid,
    p: &PatientFields,
) -> sqlx::Result<Option<Patient>> {
    let row: Option<PatientRow> = sqlx::query_as(&format!(
        "update patient set name = $2, email = $3, phone = $4, date_of_birth = $5
         where patient_id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(&p.name)
    .bind(&p.email)
    .bind(&p.phone)
    .bind(p.date_of_birth)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(Patient::from))
}
