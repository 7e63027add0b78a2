//! Bedside's server: the portal (Leptos SSR + server functions), the REST API
//! (`/api/v1`), and the stores behind them.
//!
//! A guided tour:
//! - [`startup`]: builds the app (migrations, demo seed, services, router) and serves it.
//! - [`config`]: typed settings (base file + environment), production safety checks.
//! - [`db`]: PostgreSQL pools; every request runs in a transaction bound to one workspace,
//!   and row-level security enforces it.
//! - [`error`]: the one mapping from failures to HTTP responses (and to portal errors).
//! - [`auth`]: passwords, sessions, API tokens, throttling, the request extractor.
//! - [`users`], [`patients`], [`appointments`]: one vertical slice each (store, service,
//!   routes).
//! - [`portal`]: the portal's backend port, implemented with the same services.
//! - [`headers`]: CSP (nonce for hydration), no-store, HSTS, timeouts (tower-http).
//! - [`csrf`]: refuses cross-origin state-changing requests on every route.
//! - [`audit`]: the append-only audit trail; [`telemetry`]: PHI-free request logging.
//! - [`rtc`]: the LiveKit-compatible signaling surface (`/rtc`, `/rtc/v1`, validate).
//! - [`sfu`]: the embedded selective forwarding unit (sans-IO core + tokio driver).
//! - [`seed`]: demo data for `dev`.

pub mod appointments;
pub mod audit;
pub mod auth;
pub mod config;
pub mod csrf;
pub mod db;
pub mod dev_call;
pub mod error;
pub mod headers;
pub mod json;
pub mod meetings;
pub mod notify;
pub mod patients;
pub mod portal;
pub mod rtc;
pub mod seed;
pub mod sfu;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod users;
pub mod validate;
pub mod waiting_room;
pub mod workspaces;
