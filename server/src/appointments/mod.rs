//! Appointments: booking, listing by day, editing, cancelling. Times are stored in UTC and
//! entered/shown in the workspace's time zone.
//!
//! Ownership: a clinician reads and changes only their own appointments (others' are 403);
//! admins manage every appointment of their workspace; other workspaces' are invisible
//! (row-level security), hence 404.

pub mod model;
pub mod routes;
pub mod service;
pub mod store;
