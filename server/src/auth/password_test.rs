//! Unit tests of `password`.

use super::*;

#[tokio::test]
async fn a_hashed_password_is_argon2id_and_verifies() {
    let hash = hash_password("correct horse battery".into()).await.unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(
        verify_password("correct horse battery".into(), Some(hash.clone()))
            .await
            .unwrap()
    );
    assert!(
        !verify_password("wrong horse battery".into(), Some(hash))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn an_unknown_account_never_verifies() {
    assert!(!verify_password("anything".into(), None).await.unwrap());
}
