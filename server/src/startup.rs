//! Building and running the application: database, services, router, listener.

use std::sync::Arc;

use anyhow::Context;
use app::ports::Backend;
use app::{App, patient_shell, shell};
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{any, get};
use leptos::prelude::provide_context;
use leptos_axum::ResponseOptions;
use leptos_axum::{LeptosRoutes, generate_route_list, render_app_to_stream_with_context};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::config::{DEV_DEMO_PASSWORD, Environment, Settings};
use crate::db::Db;
use crate::error::Error;
use crate::portal::Portal;
use crate::rtc::RtcState;
use crate::rtc::grants::LiveKitKeys;
use crate::sfu::SfuHandle;
use crate::state::{AppState, Services, loopback_of};
use crate::waiting_room::WaitingRoomStore;
use crate::waiting_room::memory::MemoryWaitingRoom;
use crate::waiting_room::redis::RedisWaitingRoom;
use crate::{
    appointments, auth, csrf, headers, meetings, notify, patients, rtc, seed, telemetry, users,
};

/// A bound, ready-to-serve application.
pub struct Application {
    listener: TcpListener,
    router: Router,
    sfu: SfuHandle,
}

impl Application {
    /// Migrates the database, seeds demo data (dev), binds the listener (port 0 picks one).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        crate::tls::install_crypto_provider();
        let owner = Db::prepare(&settings.database).await?;
        if settings.environment == Environment::Production {
            refuse_demo_accounts(&owner).await?;
        }
        if settings.demo_enabled() {
            seed::demo(&owner, &settings.demo_password())
                .await
                .context("seeding demo data")?;
        }
        // The owner connection is not needed past startup.
        owner.close().await;
        let db = Db::connect(&settings.database).await?;
        let listener = TcpListener::bind(settings.addr)
            .await
            .with_context(|| format!("binding {}", settings.addr))?;
        let mut settings = settings;
        if settings.public_url.is_none() {
            // Port 0 picked a port: links must name the real one.
            settings.public_url = Some(format!("http://{}", listener.local_addr()?));
        }
        let local = listener.local_addr()?;
        let waiting_room: Arc<dyn WaitingRoomStore> = match &settings.redis_url {
            Some(url) => Arc::new(RedisWaitingRoom::connect(url).await?),
            None => Arc::new(MemoryWaitingRoom::default()),
        };
        let services = Arc::new(Services::new(&settings, db, waiting_room, local)?);
        if settings.livekit.url.is_none() {
            // The embedded SFU reports to this server's own receiver, as an external
            // LiveKit would (signed webhooks over HTTP on loopback).
            let receiver = format!("http://{}/api/v1/livekit/webhook", loopback_of(local));
            settings.rtc.webhook_urls.push(receiver);
        }

        let mut leptos_options = leptos::config::get_configuration(None)
            .context("reading Leptos site options")?
            .leptos_options;
        leptos_options.site_addr = listener.local_addr()?;
        let sfu = SfuHandle::start(
            &settings
                .rtc
                .sfu(&settings.livekit, settings.tls_ca_file.as_deref()),
        )
        .await?;
        let rtc = RtcState {
            keys: services.livekit.clone(),
            sfu: sfu.clone(),
            turn: settings.turn.settings(),
        };
        let router = router(AppState {
            leptos_options,
            services,
            rtc,
        });
        if settings.demo_enabled() || settings.livekit.generated {
            print_dev_banner(&settings, listener.local_addr()?);
        }
        Ok(Self {
            listener,
            router,
            sfu,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until Ctrl-C / SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tracing::info!(port = self.port(), "listening");
        // The peer address feeds the per-source sign-in throttle (never a log line).
        let service = self
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown_and_release(self.sfu.clone()))
            .await
    }
}

/// Runs only the SFU and its signaling (`server sfu`): a dedicated media host that needs
/// no database, for the same LiveKit clients and tokens.
pub async fn run_sfu_only(settings: Settings) -> anyhow::Result<()> {
    let (Some(key), Some(secret)) = (&settings.livekit.api_key, &settings.livekit.api_secret)
    else {
        anyhow::bail!("no LiveKit API key/secret configured");
    };
    crate::tls::install_crypto_provider();
    let sfu = SfuHandle::start(
        &settings
            .rtc
            .sfu(&settings.livekit, settings.tls_ca_file.as_deref()),
    )
    .await?;
    let rtc = RtcState {
        keys: Arc::new(LiveKitKeys::new(key, secret)),
        sfu: sfu.clone(),
        turn: settings.turn.settings(),
    };
    let router: Router = rtc::router(rtc)
        .route("/health", get(|| async { "ok" }))
        .layer(axum::middleware::from_fn(csrf::refuse_cross_origin));
    let production = settings.environment == Environment::Production;
    let router =
        headers::apply(router, production).layer(axum::middleware::from_fn(telemetry::request_log));
    let listener = TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("binding {}", settings.addr))?;
    if settings.livekit.generated {
        print_dev_banner(&settings, listener.local_addr()?);
    }
    tracing::info!(
        port = listener.local_addr()?.port(),
        "sfu signaling listening"
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_and_release(sfu))
        .await?;
    Ok(())
}

/// The patient's one-tap link page, served with its own shell and bundle
/// ([`app::patient_shell`]).
const PATIENT_PAGE: &str = "/visit";

/// The whole HTTP surface: REST API, portal pages and server functions, static files.
pub fn router(state: AppState) -> Router {
    let backend: Backend = Arc::new(Portal {
        services: state.services.clone(),
    });
    // `/visit` is rendered with the patient's shell and bundle (below), not the portal's.
    let routes: Vec<_> = generate_route_list(App)
        .into_iter()
        .filter(|route| route.path() != PATIENT_PAGE)
        .collect();
    let options = state.leptos_options.clone();
    let production = state.services.production;
    // Pages open the media server's WebSocket; in dev also any loopback port (the demo
    // call page may be pointed at a local `server sfu` or LiveKit).
    let mut media_sources = headers::media_source(state.services.media.client_url());
    if !production {
        media_sources.push_str(" ws://127.0.0.1:* ws://localhost:*");
    }
    // Every rendered page: the portal's backend, and a policy naming the hydration
    // script's nonce.
    let page_context = move || {
        provide_context(backend.clone());
        if let Some(nonce) = leptos::nonce::use_nonce()
            && let Some(options) = leptos::prelude::use_context::<ResponseOptions>()
            && let Ok(policy) = HeaderValue::from_str(&headers::page_policy(&nonce, &media_sources))
        {
            options.insert_header(header::CONTENT_SECURITY_POLICY, policy);
        }
    };
    let patient_options = options.clone();
    let mut api = Router::new()
        .merge(auth::routes::router())
        .merge(users::routes::router())
        .merge(patients::routes::router())
        .merge(appointments::routes::router())
        .merge(meetings::router());
    if !production {
        // Where dev's emails and texts go instead of being sent; never in production.
        api = api
            .merge(notify::routes::dev_router())
            .merge(crate::dev_call::dev_router());
    }
    let router = api
        .merge(rtc::router(state.rtc.clone()))
        .route("/api/v1/{*rest}", any(|| async { Error::NotFound }))
        .route("/health", get(|| async { "ok" }))
        .route(
            PATIENT_PAGE,
            get(render_app_to_stream_with_context(
                {
                    let (state, page_context) = (state.clone(), page_context.clone());
                    move || {
                        provide_context(state.clone());
                        page_context();
                    }
                },
                move || patient_shell(patient_options.clone()),
            )),
        )
        .leptos_routes_with_context(&state, routes, page_context, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(csrf::refuse_cross_origin));
    headers::apply(router, production)
        .layer(axum::middleware::from_fn(telemetry::request_log))
        .with_state(state)
}

/// Production must not carry the demo accounts (their password is published in the
/// README): a database that was once run in dev is refused until they are removed.
async fn refuse_demo_accounts(owner: &sqlx::PgPool) -> anyhow::Result<()> {
    let demo: bool =
        sqlx::query_scalar("select exists(select 1 from app_user where email = any($1))")
            .bind([seed::DEMO_CLINICIAN_EMAIL, seed::DEMO_ADMIN_EMAIL])
            .fetch_one(owner)
            .await
            .context("checking for demo accounts")?;
    if demo {
        anyhow::bail!(
            "production refuses a database holding the demo accounts ({}, {}): delete them \
             (or the \"{}\" workspace) first",
            seed::DEMO_CLINICIAN_EMAIL,
            seed::DEMO_ADMIN_EMAIL,
            seed::DEMO_WORKSPACE
        );
    }
    Ok(())
}

fn print_dev_banner(settings: &Settings, addr: std::net::SocketAddr) {
    // Printed once to the console, not logged. An explicitly configured password is never
    // echoed; only the documented dev-only default is.
    let password = match &settings.demo.password {
        None => DEV_DEMO_PASSWORD,
        Some(_) => "(the value of BEDSIDE_DEMO_PASSWORD)",
    };
    println!("\n  Bedside is running at http://{addr}");
    println!("  Demo call (dev only, two tabs call each other): http://{addr}/dev/call");
    if settings.demo_enabled() {
        println!(
            "  Demo sign-in (dev only):\n    clinician: {}\n    admin:     {}\n    password:  {password}",
            seed::DEMO_CLINICIAN_EMAIL,
            seed::DEMO_ADMIN_EMAIL,
        );
    }
    if settings.livekit.generated {
        // Generated dev-only credentials, so LiveKit SDKs and tools can mint tokens.
        let secret = settings
            .livekit
            .api_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned())
            .unwrap_or_default();
        println!(
            "  LiveKit (dev only, generated): ws://{addr}/rtc\n    LIVEKIT_API_KEY={}\n    LIVEKIT_API_SECRET={secret}",
            settings.livekit.api_key.as_deref().unwrap_or_default()
        );
    }
    println!();
}

/// Waits for the stop signal, then sends the SFU's participants away (`leave` with
/// `RECONNECT`) so their clients rejoin instead of waiting on a dead socket.
async fn shutdown_and_release(sfu: SfuHandle) {
    shutdown_signal().await;
    tracing::info!("stopping: releasing media sessions");
    sfu.shutdown().await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
