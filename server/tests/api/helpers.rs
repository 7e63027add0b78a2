//! `spawn_app()` and request helpers.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use server::auth::password::hash_password;
use server::config::Settings;
use server::startup::Application;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

/// Everything the server logged during this test binary's run.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| Arc::new(Mutex::new(Vec::new())))
}

#[derive(Clone)]
struct CaptureWriter;

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stdout().write_all(buf)?;
        }
        log_buffer().lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CaptureWriter {
    type Writer = CaptureWriter;
    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter
    }
}

/// A user created for a test, with the password in clear.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub email: String,
    pub password: String,
}

/// A running application with its own database.
pub struct TestApp {
    pub address: String,
    pub client: Client,
    /// Owner connection to the test database (bypasses RLS: fixtures and inspection).
    pub owner: PgPool,
    pub settings: Settings,
}

/// Starts the app on a random port with a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], letting the test adjust settings first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    server::telemetry::init("info,sqlx=warn", CaptureWriter);
    let mut settings = Settings::load().expect("configuration loads");
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.database.database_name = Some(format!("bedside_test_{}", Uuid::new_v4().simple()));
    settings.demo.enabled = Some(false);
    settings.rtc.udp_port = 0;
    settings.rtc.tcp_port = Some(0);
    // The single-node default (in-memory waiting room); tests that need Redis set it.
    settings.redis_url = None;
    adjust(&mut settings);
    let application = Application::build(settings.clone())
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    let owner = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(settings.database.owner_options().unwrap())
        .await
        .expect("owner connects to the test database");
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        owner,
        settings,
    }
}

impl TestApp {
    /// Creates a workspace (as the owner, bypassing RLS).
    pub async fn create_workspace(&self, name: &str) -> Uuid {
        sqlx::query_scalar("insert into workspace (name, time_zone) values ($1, 'America/New_York') returning workspace_id")
            .bind(name)
            .fetch_one(&self.owner)
            .await
            .unwrap()
    }

    /// Creates a user with a random password.
    pub async fn create_user(&self, workspace_id: Uuid, role: &str) -> TestUser {
        let email = format!("{}-{}@clinic.test", role, Uuid::new_v4().simple());
        let password = format!("pw-{}", Uuid::new_v4());
        let hash = hash_password(password.clone()).await.unwrap();
        let id = sqlx::query_scalar(
            "insert into app_user (workspace_id, email, name, role, password_hash)
             values ($1, $2, $3, $4, $5) returning user_id",
        )
        .bind(workspace_id)
        .bind(&email)
        .bind(format!("Test {role}"))
        .bind(role)
        .bind(hash)
        .fetch_one(&self.owner)
        .await
        .unwrap();
        TestUser {
            id,
            workspace_id,
            email,
            password,
        }
    }

    /// A workspace with one clinician.
    pub async fn clinic_with_clinician(&self) -> TestUser {
        let workspace = self.create_workspace("Clinic").await;
        self.create_user(workspace, "clinician").await
    }

    /// `POST /api/v1/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.client
            .post(format!("{}/api/v1/auth/login", self.address))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the bearer token.
    pub async fn token(&self, user: &TestUser) -> String {
        let response = self.login(&user.email, &user.password).await;
        assert_eq!(response.status(), StatusCode::OK, "sign-in of a test user");
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A request with a bearer token and no cookies.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        Client::new()
            .request(method, format!("{}{}", self.address, path))
            .bearer_auth(token)
    }

    /// GET with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap()
    }

    /// GET with a bearer token, expecting a JSON body.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        self.get(path, token)
            .await
            .json()
            .await
            .expect("a JSON body")
    }

    /// PATCH with a bearer token, expecting a JSON body.
    pub async fn patch_json(&self, path: &str, token: &str, body: &Value) -> Value {
        self.patch(path, token, body)
            .await
            .json()
            .await
            .expect("a JSON body")
    }

    /// POST JSON with a bearer token.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(reqwest::Method::POST, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// PATCH JSON with a bearer token.
    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(reqwest::Method::PATCH, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// DELETE with a bearer token.
    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.request(reqwest::Method::DELETE, path, token)
            .send()
            .await
            .unwrap()
    }

    /// Creates a patient through the API; returns its id.
    pub async fn create_patient(&self, token: &str, name: &str) -> String {
        let response = self
            .post("/api/v1/patients", token, &json!({ "name": name }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// Books a telehealth appointment through the API; returns its JSON.
    pub async fn book(&self, token: &str, patient_id: &str, starts_at: &str) -> Value {
        let response = self
            .post(
                "/api/v1/appointments",
                token,
                &json!({ "patient_id": patient_id, "starts_at": starts_at, "duration_minutes": 30,
                         "modality": "telehealth", "reason": "Follow-up" }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }
}

/// The `error.code` of an error response.
pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

impl TestApp {
    /// The LiveKit API key and secret the app was configured with.
    pub fn livekit_keys(&self) -> (String, String) {
        let key = self.settings.livekit.api_key.clone().unwrap();
        let secret = self.settings.livekit.api_secret.as_ref().unwrap();
        (key, secrecy::ExposeSecret::expose_secret(secret).to_owned())
    }
}
