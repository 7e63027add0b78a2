//! One module per page.

pub mod account;
pub mod appointment;
pub mod chat;
pub mod dev_call;
pub mod invitation;
pub mod login;
pub mod not_found;
pub mod patients;
pub mod schedule;
pub mod soap;
pub mod visit;
pub mod visit_console;
