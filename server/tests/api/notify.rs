//! Messages leave through real transports when configured: email to an SMTP server
//! process started here (Python's `smtpd`), SMS to a Twilio-compatible REST endpoint;
//! and nothing lands in the dev outbox then.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::json;

use crate::helpers::spawn_app_with;

/// A real SMTP server on 127.0.0.1 that prints every message it receives to a file.
struct SmtpServer {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl SmtpServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::env::temp_dir().join(format!(
            "bedside-smtp-{}.log",
            uuid::Uuid::new_v4().simple()
        ));
        let child = Command::new("python3")
            .args([
                "-W",
                "ignore",
                "-u",
                "-m",
                "smtpd",
                "-n",
                "-c",
                "DebuggingServer",
            ])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs an SMTP server");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port, log }
    }

    fn received(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = std::fs::remove_file(&self.log);
    }
}

#[tokio::test]
async fn an_invitation_is_delivered_to_a_real_smtp_server_and_not_to_the_dev_outbox() {
    let smtp = SmtpServer::start();
    let port = smtp.port;
    let app = spawn_app_with(|s| {
        s.notify.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        s.notify.smtp_from = Some("Demo Clinic <visits@clinic.test>".into());
    })
    .await;
    let workspace = app.create_workspace("Clinic").await;
    let admin = app.create_user(workspace, "admin").await;
    let token = app.token(&admin).await;

    let response = app
        .post(
            "/api/v1/users",
            &token,
            &json!({ "email": "colleague@clinic.test", "name": "Dr. C" }),
        )
        .await;
    assert_eq!(response.status(), 202);

    let mut received = String::new();
    for _ in 0..100 {
        received = smtp.received();
        if received.contains("/invitation#") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(received.contains("To: colleague@clinic.test"), "{received}");
    assert!(
        received.contains("Demo Clinic\" <visits@clinic.test>"),
        "{received}"
    );
    assert!(
        received.contains("/invitation#"),
        "the link arrived: {received}"
    );
    let outbox: i64 = sqlx::query_scalar("select count(*) from dev_outbox")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(outbox, 0);
}

type Texts = Arc<Mutex<Vec<(String, String)>>>;

/// A Twilio-compatible endpoint that records (authorization, form body) per POST.
async fn sms_provider() -> (String, Texts) {
    let texts: Texts = Arc::default();
    let store = texts.clone();
    let app = Router::new().route(
        "/2010-04-01/Accounts/{sid}/Messages.json",
        post(move |headers: HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                store.lock().unwrap().push((auth, body));
                (axum::http::StatusCode::CREATED, "{\"sid\":\"SM1\"}")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, texts)
}

#[tokio::test]
async fn a_text_goes_to_the_twilio_compatible_provider_with_its_credentials() {
    use server::notify::{EmailTransport, Message, Notifier, Recipient, SmsTransport};
    let (url, texts) = sms_provider().await;
    let app = spawn_app_with(|_| {}).await;
    let workspace = app.create_workspace("Clinic").await;
    let settings = server::notify::sms::SmsProviderSettings {
        base_url: url,
        account_sid: "AC123".into(),
        auth_token: "provider-secret".to_owned().into(),
        from: "+15550100".into(),
    };
    let notifier = Notifier::new(
        EmailTransport::DevOutbox,
        SmsTransport::from_settings(Some(settings), None).unwrap(),
        server::db::Db::from_pool(app.owner.clone()),
    );

    notifier
        .send(&Message {
            workspace_id: workspace,
            to: Recipient::Sms("+15550123".into()),
            subject: String::new(),
            body: "Your visit link".into(),
        })
        .await
        .unwrap();

    let texts = texts.lock().unwrap().clone();
    assert_eq!(texts.len(), 1);
    let (auth, form) = &texts[0];
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode("AC123:provider-secret");
    assert_eq!(auth, &format!("Basic {expected}"));
    assert!(
        form.contains("To=%2B15550123") && form.contains("From=%2B15550100"),
        "{form}"
    );
    assert!(form.contains("Body=Your+visit+link"), "{form}");
}
