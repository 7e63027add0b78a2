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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checks_never_exceed_the_bound_and_the_overflow_is_refused_as_busy() {
    let checks = std::sync::Arc::new(PasswordChecks::new(2, 3));
    let stored = hash_password("correct horse battery".into()).await.unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let checks = checks.clone();
            let stored = stored.clone();
            tokio::spawn(async move { checks.verify("guess".into(), Some(stored)).await })
        })
        .collect();
    let (mut checked, mut busy) = (0, 0);
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Ok(valid) => {
                assert!(!valid);
                checked += 1;
            }
            Err(Busy) => busy += 1,
        }
    }
    assert!(
        checks.peak_concurrency() <= 2,
        "{}",
        checks.peak_concurrency()
    );
    assert!(
        checked >= 5,
        "two running and three in line are served: {checked}"
    );
    assert!(busy > 0, "the rest are refused before costing anything");
}
