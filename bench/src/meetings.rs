//! `meetings-bench`: the control plane's two hot paths, against the real server.
//!
//! Starts `server` (the whole app: PostgreSQL, the embedded SFU) as its own process on
//! a fresh database with demo data, signs in as the demo clinician, and measures:
//! - `POST /api/v1/livekit/token`: requests per second and p50/p99 latency from
//!   `BENCH_CONCURRENCY` (default 8: enough to keep both cores busy; more clients only
//!   queue, adding latency without throughput) over `BENCH_WINDOW_SECS` (default 10);
//! - admission: from sending `POST …/admit` to the waiting patient's open `/rtc`
//!   session receiving its new permission (the SFU applied it), p50/p99 over
//!   `BENCH_ADMISSIONS` (default 60) patients, each a fresh meeting.
//!
//! Prints one JSON line. Usage: `meetings-bench <server binary>`; `DATABASE_URL` names
//! the PostgreSQL server (a database `bedside_bench_<port>` is created and dropped).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use livekit_protocol as proto;
use prost::Message as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "bench-only-demo-password-7421";

struct Server {
    child: Child,
    base: String,
    database: String,
    admin_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new("psql")
            .arg(&self.admin_url)
            .args([
                "-qc",
                &format!("drop database if exists {} with (force)", self.database),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn start_server(binary: &str) -> anyhow::Result<Server> {
    let port = free_port()?;
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/bedside".into());
    let (server_url, _) = url
        .rsplit_once('/')
        .context("DATABASE_URL has no database name")?;
    let database = format!("bedside_bench_{port}");
    let data = std::env::temp_dir().join(format!("bedside-meetings-bench-{port}"));
    let child = Command::new(binary)
        .env("BEDSIDE_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", format!("{server_url}/{database}"))
        .env("BEDSIDE_DATA_DIR", data)
        .env("BEDSIDE_DEMO_PASSWORD", PASSWORD)
        .env("BEDSIDE_RTC_UDP_PORT", "0")
        .env("BEDSIDE_RTC_TCP_PORT", "off")
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {binary}"))?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        database,
        admin_url: format!("{server_url}/postgres"),
    };
    for _ in 0..600 {
        if reqwest::get(format!("{}/health", server.base))
            .await
            .is_ok()
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the server did not start")
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

struct Api {
    client: reqwest::Client,
    base: String,
    bearer: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.bearer)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {text}");
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.bearer)
            .send()
            .await?
            .json()
            .await?)
    }

    /// A fresh telehealth visit: patient, appointment, meeting. Returns the meeting.
    async fn new_meeting(&self, n: usize) -> anyhow::Result<Value> {
        let patient = self.post("/api/v1/patients", json!({ "name": format!("Bench Patient {n}"), "email": format!("bench-{n}@example.test") })).await?;
        let starts_at = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
        let appointment = self
            .post("/api/v1/appointments", json!({ "patient_id": patient["id"], "starts_at": starts_at, "duration_minutes": 30, "modality": "telehealth" }))
            .await?;
        self.post(
            "/api/v1/meetings",
            json!({ "appointment_id": appointment["id"] }),
        )
        .await
    }
}

async fn token_throughput(
    api: Arc<Api>,
    meeting_id: String,
    concurrency: usize,
    window: Duration,
) -> anyhow::Result<Value> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (api, meeting_id, stop) = (api.clone(), meeting_id.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                api.post("/api/v1/livekit/token", json!({ "meeting_id": meeting_id }))
                    .await?;
                latencies.push(started.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(window).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    Ok(json!({
        "requests": latencies.len(),
        "requests_per_second": (latencies.len() as f64 / elapsed).round(),
        "p50_ms": percentile_ms(&latencies, 0.50),
        "p99_ms": percentile_ms(&latencies, 0.99),
        "concurrency": concurrency,
    }))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_message(socket: &mut Socket) -> anyhow::Result<proto::signal_response::Message> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .context("no signal within 10 s")?;
        match frame {
            Some(Ok(Message::Binary(bytes))) => {
                if let Some(message) = proto::SignalResponse::decode(bytes)?.message {
                    return Ok(message);
                }
            }
            Some(Ok(_)) => continue,
            _ => anyhow::bail!("the signaling socket closed"),
        }
    }
}

/// One admission: a patient waits on an open `/rtc` session; returns the time from
/// sending the admit to the session receiving its permission.
async fn one_admission(api: &Api, n: usize) -> anyhow::Result<Duration> {
    let meeting = api.new_meeting(n).await?;
    let id = meeting["id"].as_str().context("meeting id")?.to_owned();
    let patient_id = meeting["participants"]
        .as_array()
        .context("participants")?
        .iter()
        .find(|p| p["role"] == "patient")
        .context("patient")?["id"]
        .as_str()
        .context("patient id")?
        .to_owned();
    api.post(
        &format!("/api/v1/meetings/{id}/invite"),
        json!({ "participant_id": patient_id, "channel": "email" }),
    )
    .await?;
    let outbox = api.get("/api/v1/dev/outbox").await?;
    let body = outbox
        .as_array()
        .context("outbox")?
        .iter()
        .find(|m| m["recipient"] == format!("bench-{n}@example.test"))
        .context("the invitation")?["body"]
        .as_str()
        .context("body")?
        .to_owned();
    let link = body
        .split("/visit#")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .context("a link")?
        .to_owned();
    let browser = reqwest::Client::builder().cookie_store(true).build()?;
    let redeemed = browser
        .post(format!("{}/api/v1/calls/generate-token", api.base))
        .json(&json!({ "link_token": link }))
        .send()
        .await?;
    anyhow::ensure!(
        redeemed.status().is_success(),
        "redeem: {}",
        redeemed.status()
    );
    let token: Value = browser
        .post(format!("{}/api/v1/livekit/token", api.base))
        .json(&json!({ "meeting_id": id }))
        .send()
        .await?
        .json()
        .await?;
    let url = format!(
        "{}/rtc?access_token={}",
        api.base.replace("http", "ws"),
        token["token"].as_str().context("token")?
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    anyhow::ensure!(
        matches!(
            next_message(&mut socket).await?,
            proto::signal_response::Message::Join(_)
        ),
        "a join response first"
    );

    let admit_path = format!("/api/v1/meetings/{id}/participants/{patient_id}/admit");
    let started = Instant::now();
    let admit = api.post(&admit_path, json!({}));
    let applied = async {
        loop {
            if let proto::signal_response::Message::Update(update) =
                next_message(&mut socket).await?
            {
                let granted = update.participants.iter().any(|p| {
                    p.identity == patient_id && p.permission.as_ref().is_some_and(|p| p.can_publish)
                });
                if granted {
                    return anyhow::Ok(started.elapsed());
                }
            }
        }
    };
    let (admitted, latency) = tokio::join!(admit, applied);
    admitted?;
    let latency = latency?;
    api.client
        .delete(format!("{}/api/v1/meetings/{id}", api.base))
        .bearer_auth(&api.bearer)
        .send()
        .await?;
    Ok(latency)
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // reqwest is built without a default crypto provider (see the workspace manifest).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let binary = std::env::args()
        .nth(1)
        .context("usage: meetings-bench <server binary>")?;
    let server = start_server(&binary).await?;
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({ "email": "clinician@demo.bedside.test", "password": PASSWORD }))
        .send()
        .await?
        .json()
        .await?;
    let api = Arc::new(Api {
        client,
        base: server.base.clone(),
        bearer: login["access_token"]
            .as_str()
            .context("a bearer token")?
            .to_owned(),
    });
    let meeting = api.new_meeting(0).await?;
    let meeting_id = meeting["id"].as_str().context("meeting id")?.to_owned();
    let window = Duration::from_secs(env_number("BENCH_WINDOW_SECS", 10) as u64);
    // Warm the pools, then measure.
    token_throughput(api.clone(), meeting_id.clone(), 4, Duration::from_secs(1)).await?;
    let tokens = token_throughput(
        api.clone(),
        meeting_id,
        env_number("BENCH_CONCURRENCY", 8),
        window,
    )
    .await?;

    let mut admissions = Vec::new();
    for n in 1..=env_number("BENCH_ADMISSIONS", 60) {
        admissions.push(one_admission(&api, n).await?);
    }
    admissions.sort();
    let result = json!({
        "livekit_token": tokens,
        "admit_to_permission_applied": {
            "admissions": admissions.len(),
            "p50_ms": percentile_ms(&admissions, 0.50),
            "p99_ms": percentile_ms(&admissions, 0.99),
        },
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
    });
    println!("{result}");
    Ok(())
}
