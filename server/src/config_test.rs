//! Unit tests of `config`.

use super::*;

fn base() -> Settings {
    let table: toml::Table = BASE.parse().unwrap();
    table.try_into().unwrap()
}

#[test]
fn production_refuses_to_start_without_a_jwt_secret() {
    let mut settings = base();
    settings
        .apply_env(|k| (k == "BEDSIDE_ENV").then(|| "production".into()))
        .unwrap();
    assert!(settings.finish().is_err());
}

#[test]
fn production_refuses_a_generated_dev_secret() {
    let mut settings = base();
    settings
        .apply_env(|k| match k {
            "BEDSIDE_ENV" => Some("production".into()),
            "BEDSIDE_JWT_SECRET" => Some(format!("{DEV_SECRET_PREFIX}{}", "x".repeat(40))),
            _ => None,
        })
        .unwrap();
    assert!(settings.finish().is_err());
}

#[test]
fn production_refuses_demo_data() {
    let mut settings = base();
    settings
        .apply_env(|k| match k {
            "BEDSIDE_ENV" => Some("production".into()),
            "BEDSIDE_JWT_SECRET" => Some("a".repeat(48)),
            "BEDSIDE_DEMO_DATA" => Some("true".into()),
            _ => None,
        })
        .unwrap();
    let error = settings.finish().unwrap_err().to_string();
    assert!(error.contains("demo"), "{error}");
}

#[test]
fn production_starts_with_a_real_secret_and_no_demo_data() {
    let mut settings = base();
    settings
        .apply_env(|k| match k {
            "BEDSIDE_ENV" => Some("production".into()),
            "BEDSIDE_JWT_SECRET" => Some("a".repeat(48)),
            "LIVEKIT_API_KEY" => Some("APIclinic".into()),
            "LIVEKIT_API_SECRET" => Some("s".repeat(40)),
            _ => None,
        })
        .unwrap();
    settings.finish().unwrap();
    assert!(!settings.demo_enabled());
}

#[test]
fn production_refuses_to_start_without_livekit_credentials() {
    let mut settings = base();
    settings
        .apply_env(|k| match k {
            "BEDSIDE_ENV" => Some("production".into()),
            "BEDSIDE_JWT_SECRET" => Some("a".repeat(48)),
            "LIVEKIT_API_KEY" => Some("APIclinic".into()),
            _ => None,
        })
        .unwrap();
    let error = settings.finish().unwrap_err().to_string();
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
