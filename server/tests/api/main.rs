//! API integration tests: each test spawns the real application on port 0 against its own
//! freshly migrated PostgreSQL database. One test binary keeps link time down.

mod appointments;
mod audit_chain;
mod auth;
mod device_check;
mod headers;
mod helpers;
mod logs;
mod meeting_chat;
mod meeting_links;
mod meeting_live;
mod meeting_rejoin;
mod meetings;
mod notify;
mod password;
mod patients;
mod rls;
mod room_service;
mod rtc;
mod scale_out;
mod sfu_limits;
mod tls;
mod users;
mod visit_fixture;
mod visit_notes;
mod webhooks;
