//! Staff accounts: lookup, listing, and admins creating clinicians.

pub mod routes;
pub mod store;
