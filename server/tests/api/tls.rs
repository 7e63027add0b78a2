//! TLS on the wire: the request pool reaches PostgreSQL over TLS when `DATABASE_URL`
//! asks for it, and webhooks reach an `https://` receiver whose certificate is vouched
//! for by the operator's CA file (`BEDSIDE_TLS_CA_FILE`), while one it cannot verify
//! gets nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

use crate::helpers::spawn_app_with;
use crate::room_service::{join, next_response, room_client};

#[tokio::test]
async fn the_request_pool_reaches_postgresql_over_tls_when_the_url_requires_it() {
    let app = spawn_app_with(|s| {
        let url = secrecy::ExposeSecret::expose_secret(&s.database.url).to_owned();
        let separator = if url.contains('?') { '&' } else { '?' };
        s.database.url = format!("{url}{separator}sslmode=require").into();
    })
    .await;
    let clinician = app.clinic_with_clinician().await;
    let token = app.token(&clinician).await;
    assert_eq!(app.get("/api/v1/me", &token).await.status(), 200);

    let (encrypted, plain): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where s.ssl), count(*) filter (where not s.ssl)
         from pg_stat_ssl s join pg_stat_activity a using (pid)
         where a.usename = 'bedside_app' and a.datname = current_database()",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(encrypted >= 1, "the request role's connections use TLS");
    assert_eq!(plain, 0, "no request connection is in clear");
}

/// A private CA and a certificate it issued for 127.0.0.1, made with the openssl CLI.
/// Returns (the CA's certificate, the receiver's certificate, the receiver's key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {args:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-days",
            "1",
            "-subj",
            "/CN=Bedside test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "leaf.ext",
        "-out",
        "leaf.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    )
}

type Bodies = Arc<Mutex<Vec<String>>>;

/// An HTTPS receiver on 127.0.0.1 that records each request's body and answers 200.
async fn https_receiver(cert: &Path, key: &Path) -> (String, Bodies) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = vec![CertificateDer::from_pem_file(cert).unwrap()];
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/hook", listener.local_addr().unwrap());
    let bodies: Bodies = Arc::default();
    let store = bodies.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, store) = (acceptor.clone(), store.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    let Ok(n) = tls.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        store.lock().unwrap().push(text[end + 4..].to_owned());
                        let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                        let _ = tls.shutdown().await;
                        return;
                    }
                }
            });
        }
    });
    (url, bodies)
}

async fn events_after_a_short_visit(
    ca_file: Option<PathBuf>,
    url: String,
    bodies: &Bodies,
    room: &str,
) -> Vec<String> {
    let app = spawn_app_with(|s| {
        s.rtc.webhook_urls = vec![url];
        s.tls_ca_file = ca_file;
    })
    .await;
    let mut socket = join(&app, room, "patient-1").await;
    room_client(&app).delete_room(room).await.unwrap();
    while next_response(&mut socket).await.is_some() {}
    for _ in 0..60 {
        if bodies.lock().unwrap().len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bodies.lock().unwrap().clone()
}

#[tokio::test]
async fn webhooks_reach_an_https_receiver_that_the_operators_ca_file_vouches_for() {
    let dir = tempdir("trusted");
    let (ca, cert, key) = certificates(&dir);
    let (url, bodies) = https_receiver(&cert, &key).await;

    let delivered = events_after_a_short_visit(Some(ca), url, &bodies, "visit-tls").await;

    assert_eq!(
        delivered.len(),
        4,
        "room_started, joined, left, finished over HTTPS"
    );
    assert!(delivered.iter().all(|body| body.contains("visit-tls")));
}

#[tokio::test]
async fn webhooks_are_not_sent_to_an_https_receiver_whose_certificate_cannot_be_verified() {
    let dir = tempdir("untrusted");
    let (_ca, cert, key) = certificates(&dir);
    let (url, bodies) = https_receiver(&cert, &key).await;

    let delivered = events_after_a_short_visit(None, url, &bodies, "visit-untrusted").await;

    assert!(
        delivered.is_empty(),
        "an unverifiable receiver must receive nothing"
    );
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bedside-tls-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
