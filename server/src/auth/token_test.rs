//! Unit tests of `token`.

use super::*;

fn keys(secret: &str) -> TokenKeys {
    TokenKeys::new(&SecretString::from(secret.to_owned()), 900)
}

fn principal() -> Principal {
    Principal {
        user_id: Uuid::new_v4(),
        workspace_id: Uuid::new_v4(),
        session_id: Uuid::new_v4(),
    }
}

#[test]
fn an_issued_token_verifies_to_its_principal() {
    let keys = keys("a-test-secret-that-is-long-enough");
    let p = principal();
    let token = keys.issue(p, chrono::Utc::now().timestamp()).unwrap();
    assert_eq!(keys.verify(&token), Some(p));
}

#[test]
fn a_token_signed_with_another_secret_is_rejected() {
    let token = keys("secret-one-secret-one-secret-one")
        .issue(principal(), chrono::Utc::now().timestamp())
        .unwrap();
    assert_eq!(
        keys("secret-two-secret-two-secret-two").verify(&token),
        None
    );
}

#[test]
fn an_expired_token_is_rejected() {
    let keys = keys("a-test-secret-that-is-long-enough");
    let token = keys
        .issue(principal(), chrono::Utc::now().timestamp() - 1000)
        .unwrap();
    assert_eq!(keys.verify(&token), None);
}

#[test]
fn garbage_is_rejected() {
    assert_eq!(
        keys("a-test-secret-that-is-long-enough").verify("not.a.jwt"),
        None
    );
}
