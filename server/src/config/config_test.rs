//! Unit tests of `config`.

use super::*;

fn base() -> Settings {
    let table: toml::Table = BASE.parse().unwrap();
    table.try_into().unwrap()
}

/// Production settings from `vars` (name, value) on top of `BEDSIDE_ENV=production`,
/// after `finish()`.
fn production(vars: &[(&str, String)]) -> anyhow::Result<Settings> {
    let mut settings = base();
    settings.apply_env(|key| match key {
        "BEDSIDE_ENV" => Some("production".into()),
        _ => vars.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()),
    })?;
    settings.finish()?;
    Ok(settings)
}

fn real_secrets() -> Vec<(&'static str, String)> {
    vec![
        ("BEDSIDE_JWT_SECRET", "a".repeat(48)),
        ("LIVEKIT_API_KEY", "APIclinic".into()),
        ("LIVEKIT_API_SECRET", "s".repeat(40)),
        ("BEDSIDE_PUBLIC_URL", "https://visits.clinic.example".into()),
    ]
}

fn without(mut vars: Vec<(&'static str, String)>, name: &str) -> Vec<(&'static str, String)> {
    vars.retain(|(k, _)| *k != name);
    vars
}

#[test]
fn production_refuses_to_start_without_a_jwt_secret() {
    assert!(production(&without(real_secrets(), "BEDSIDE_JWT_SECRET")).is_err());
}

#[test]
fn production_refuses_a_generated_dev_secret() {
    let mut vars = without(real_secrets(), "BEDSIDE_JWT_SECRET");
    vars.push((
        "BEDSIDE_JWT_SECRET",
        format!("{DEV_SECRET_PREFIX}{}", "x".repeat(40)),
    ));
    assert!(production(&vars).is_err());
}

#[test]
fn production_refuses_demo_data() {
    let mut vars = real_secrets();
    vars.push(("BEDSIDE_DEMO_DATA", "true".into()));
    let error = production(&vars).unwrap_err().to_string();
    assert!(error.contains("demo"), "{error}");
}

#[test]
fn production_starts_with_real_secrets_and_no_demo_data() {
    let settings = production(&real_secrets()).unwrap();
    assert!(!settings.demo_enabled());
}

#[test]
fn production_refuses_to_start_without_livekit_credentials() {
    let error = production(&without(real_secrets(), "LIVEKIT_API_SECRET"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("LIVEKIT"), "{error}");
}

#[test]
fn dev_generates_and_keeps_its_secret() {
    let dir = std::env::temp_dir().join(format!("bedside-config-{}", uuid::Uuid::new_v4()));
    let mut first = base();
    first.data_dir = dir.clone();
    first.finish().unwrap();
    let mut second = base();
    second.data_dir = dir.clone();
    second.finish().unwrap();
    let secret = |s: &Settings| {
        s.auth
            .jwt_secret
            .as_ref()
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    assert!(secret(&first).starts_with(DEV_SECRET_PREFIX));
    assert_eq!(secret(&first), secret(&second));
    assert!(first.demo_enabled());
    assert!(first.livekit.generated);
    assert_eq!(first.livekit.api_key, second.livekit.api_key);
    assert!(
        first
            .livekit
            .api_key
            .as_deref()
            .unwrap()
            .starts_with("APIdev")
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn environment_overrides_the_address_and_rejects_garbage() {
    let mut settings = base();
    settings
        .apply_env(|k| (k == "BEDSIDE_ADDR").then(|| "127.0.0.1:0".into()))
        .unwrap();
    assert_eq!(settings.addr.port(), 0);
    assert!(
        settings
            .apply_env(|k| (k == "BEDSIDE_ENV").then(|| "staging".into()))
            .is_err()
    );
}

#[test]
fn the_media_path_beside_str0m_is_on_by_default_and_turns_off_by_name_only() {
    assert!(base().rtc.media_beside_str0m);
    let mut settings = base();
    let set = |value: &'static str| {
        move |k: &str| (k == "BEDSIDE_SFU_MEDIA_BESIDE_STR0M").then(|| value.into())
    };
    settings.apply_env(set("off")).unwrap();
    assert!(!settings.rtc.media_beside_str0m);
    assert!(settings.apply_env(set("0")).is_err(), "only on or off");
}

/// Dev settings from `vars`, after `finish()`.
fn dev(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
    let mut settings = base();
    let data_dir = std::env::temp_dir().join(format!("bedside-config-test-{}", std::process::id()));
    settings.data_dir = data_dir;
    settings.apply_env(|key| {
        vars.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    })?;
    settings.finish()?;
    Ok(settings)
}

#[test]
fn dev_mode_refuses_to_listen_beyond_loopback_unless_told_on_purpose() {
    assert!(dev(&[("BEDSIDE_ADDR", "127.0.0.1:3000")]).is_ok());
    let refused = dev(&[("BEDSIDE_ADDR", "0.0.0.0:3000")]).unwrap_err();
    assert!(refused.to_string().contains("loopback only"), "{refused}");
    assert!(
        dev(&[
            ("BEDSIDE_ADDR", "0.0.0.0:3000"),
            ("BEDSIDE_DEV_ON_NETWORK", "1")
        ])
        .is_ok()
    );
}

fn with(
    mut vars: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    vars.retain(|(k, _)| *k != name);
    vars.push((name, value.to_owned()));
    vars
}

#[test]
fn production_refuses_a_remote_database_without_tls_and_accepts_it_with_tls_or_locally() {
    let remote = "postgres://bedside@db.clinic.example:5432/bedside";
    let error = production(&with(real_secrets(), "DATABASE_URL", remote))
        .unwrap_err()
        .to_string();
    assert!(error.contains("sslmode"), "{error}");
    let prefer = format!("{remote}?sslmode=prefer");
    assert!(production(&with(real_secrets(), "DATABASE_URL", &prefer)).is_err());

    for accepted in [
        format!("{remote}?sslmode=require"),
        format!("{remote}?sslmode=verify-full"),
        "postgres://bedside@127.0.0.1/bedside".to_owned(),
        "postgres://bedside@localhost/bedside".to_owned(),
        "postgres://bedside@[::1]/bedside".to_owned(),
        "postgres:///bedside?host=/var/run/postgresql".to_owned(),
    ] {
        assert!(
            production(&with(real_secrets(), "DATABASE_URL", &accepted)).is_ok(),
            "{accepted}"
        );
    }
}

#[test]
fn production_refuses_plain_http_webhooks_except_to_loopback() {
    let plain = with(
        real_secrets(),
        "BEDSIDE_WEBHOOK_URLS",
        "http://hooks.clinic.example/lk",
    );
    let error = production(&plain).unwrap_err().to_string();
    assert!(error.contains("HTTPS"), "{error}");
    for accepted in [
        "https://hooks.clinic.example/lk",
        "http://127.0.0.1:9000/lk",
        "http://localhost:9000/lk,https://hooks.clinic.example/lk",
    ] {
        assert!(
            production(&with(real_secrets(), "BEDSIDE_WEBHOOK_URLS", accepted)).is_ok(),
            "{accepted}"
        );
    }
}

#[test]
fn a_webhook_url_that_is_not_http_is_refused_in_any_mode() {
    assert!(production(&with(real_secrets(), "BEDSIDE_WEBHOOK_URLS", "ftp://x/y")).is_err());
    assert!(dev(&[("BEDSIDE_WEBHOOK_URLS", "javascript:alert(1)")]).is_err());
}

#[test]
fn an_unreadable_or_empty_ca_file_is_refused_at_startup() {
    let missing = dev(&[("BEDSIDE_TLS_CA_FILE", "/nonexistent/bedside-ca.pem")]);
    assert!(
        missing
            .unwrap_err()
            .to_string()
            .contains("BEDSIDE_TLS_CA_FILE")
    );
}

#[test]
fn loopback_urls_are_recognised_and_lookalikes_are_not() {
    use crate::tls::is_loopback_url;
    assert!(is_loopback_url("http://127.0.0.1:3109/webhook"));
    assert!(is_loopback_url("http://[::1]/x"));
    assert!(is_loopback_url("http://LOCALHOST/x"));
    assert!(!is_loopback_url("http://127.0.0.1.evil.example/x"));
    assert!(!is_loopback_url("http://localhost.evil.example/x"));
    assert!(!is_loopback_url("http://evil.example/?host=127.0.0.1"));
    assert!(!is_loopback_url("http://127.0.0.1@evil.example/x"));
}

#[test]
fn production_needs_an_https_public_url_for_its_links() {
    assert!(production(&without(real_secrets(), "BEDSIDE_PUBLIC_URL")).is_err());
    let plain = with(
        real_secrets(),
        "BEDSIDE_PUBLIC_URL",
        "http://visits.clinic.example",
    );
    assert!(production(&plain).is_err());
}

#[test]
fn production_sends_email_and_sms_only_over_tls_except_to_a_loopback_relay() {
    let plain = with(real_secrets(), "SMTP_URL", "smtp://mail.clinic.example:25");
    assert!(production(&plain).unwrap_err().to_string().contains("TLS"));
    for accepted in [
        "smtps://user:pw@mail.clinic.example",
        "smtp://user:pw@mail.clinic.example:587?tls=required",
        "smtp://127.0.0.1:25",
    ] {
        assert!(
            production(&with(real_secrets(), "SMTP_URL", accepted)).is_ok(),
            "{accepted}"
        );
    }
    let sms = with(real_secrets(), "SMS_PROVIDER_URL", "http://sms.example");
    assert!(production(&sms).is_err());
}

#[test]
fn sending_beside_str0m_is_on_by_default_and_turns_off_by_name_only() {
    assert!(base().rtc.send_beside_str0m);
    let mut settings = base();
    let set = |value: &'static str| {
        move |k: &str| (k == "BEDSIDE_SFU_SEND_BESIDE_STR0M").then(|| value.into())
    };
    settings.apply_env(set("off")).unwrap();
    assert!(!settings.rtc.send_beside_str0m);
    assert!(settings.apply_env(set("yes")).is_err(), "only on or off");
}
