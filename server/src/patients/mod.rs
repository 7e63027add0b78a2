//! Patients (PHI): create, list, read, update. Names, emails, phones and birth dates are
//! never logged; events carry the patient's id only.

pub mod routes;
pub mod service;
pub mod store;
