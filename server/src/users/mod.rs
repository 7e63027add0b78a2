//! Staff accounts: lookup, listing, and admins inviting clinicians.

pub mod invitations;
pub mod routes;
pub mod store;
