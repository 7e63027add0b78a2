use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn demo_credentials_give_a_bearer_token_that_works_on_me_and_appointments() {
    // Arrange
    let app = spawn_app().await;
    let password = "demo-password-for-this-test";
    server::seed::demo(&app.owner, password).await.unwrap();

    // Act
    let response = app
        .login(server::seed::DEMO_CLINICIAN_EMAIL, password)
        .await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    let me: Value = app.get_json("/api/v1/me", token).await;
    assert_eq!(me["email"], server::seed::DEMO_CLINICIAN_EMAIL);
    assert_eq!(me["role"], "clinician");
    assert!(me["workspace_id"].is_string() && me["id"].is_string() && me["name"].is_string());
    let response = app.get("/api/v1/appointments", token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let appointments: Vec<Value> = response.json().await.unwrap();
    assert_eq!(
        appointments.len(),
        3,
        "the demo clinician has three appointments today"
    );
    assert!(appointments.iter().any(|a| a["modality"] == "telehealth"));
}

#[tokio::test]
async fn login_sets_an_http_only_session_cookie_that_authenticates_and_sign_out_revokes_it() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;

    let response = app.login(&user.email, &user.password).await;
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("bedside_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
    );

    // The client's cookie store now carries the session.
    let me = app
        .client
        .get(format!("{}/api/v1/me", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    let raw_cookie = cookie.split(';').next().unwrap().to_owned();
    let logout = app
        .client
        .post(format!("{}/api/v1/auth/logout", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    // Replaying the old cookie by hand fails: the session row is gone.
    let replay = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.address))
        .header("Cookie", raw_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_both_get_401_invalid_credentials() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    for (email, password) in [
        (user.email.as_str(), "not-the-password"),
        ("nobody@clinic.test", "whatever-password"),
    ] {
        let response = app.login(email, password).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_credentials");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("incorrect")
        );
    }
}

#[tokio::test]
async fn repeated_failures_slow_the_source_down_but_never_lock_the_clinician_out() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    for _ in 0..5 {
        assert_eq!(
            app.login(&user.email, "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let response = app.login(&user.email, &user.password).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(error_code(response).await, "too_many_attempts");
    // After the (short) delay the right password works: slowed, not locked out.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        app.login(&user.email, &user.password).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn parallel_wrong_passwords_are_counted_before_they_are_checked() {
    // 40 guesses at once: only the free allowance is evaluated, the rest wait their turn.
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    let guesses = (0..40).map(|n| app.login(&user.email, if n == 39 { "x" } else { "wrong" }));
    let responses = futures_util::future::join_all(guesses).await;
    let evaluated = responses
        .iter()
        .filter(|r| r.status() == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = responses
        .iter()
        .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(evaluated <= 5, "{evaluated} guesses were checked");
    assert_eq!(evaluated + throttled, 40);
}

#[tokio::test]
async fn requests_without_valid_credentials_are_refused_with_401() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    let token = app.token(&user).await;
    // Same claims, other key: a forged token.
    let forged = {
        let keys = server::auth::token::TokenKeys::new(
            &"someone-elses-secret-0123456789abcdef".to_owned().into(),
            900,
        );
        keys.issue(
            server::auth::Principal {
                user_id: user.id,
                workspace_id: user.workspace_id,
                session_id: uuid::Uuid::new_v4(),
            },
            chrono::Utc::now().timestamp(),
        )
        .unwrap()
    };
    let expired = {
        let secret = app.settings.auth.jwt_secret.clone().unwrap();
        let keys = server::auth::token::TokenKeys::new(&secret, 900);
        keys.issue(
            server::auth::Principal {
                user_id: user.id,
                workspace_id: user.workspace_id,
                session_id: uuid::Uuid::new_v4(),
            },
            chrono::Utc::now().timestamp() - 3600,
        )
        .unwrap()
    };
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/me", app.address);
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no credentials", None),
        ("a forged token", Some(format!("Bearer {forged}"))),
        ("an expired token", Some(format!("Bearer {expired}"))),
        ("a non-bearer scheme", Some(format!("Basic {token}"))),
        ("garbage", Some("Bearer not-a-jwt".into())),
    ];
    for (case, header) in cases {
        let mut request = client.get(&url);
        if let Some(header) = header {
            request = request.header(AUTHORIZATION, header);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(error_code(response).await, "unauthorized", "{case}");
    }
    assert_eq!(
        app.get("/api/v1/me", &token).await.status(),
        StatusCode::OK,
        "the real token works"
    );
}

#[tokio::test]
async fn malformed_login_bodies_are_rejected_clearly() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/auth/login", app.address);
    let client = reqwest::Client::new();
    let not_json = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{email:")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(not_json).await, "malformed_body");
    let no_type = client.post(&url).body("{}").send().await.unwrap();
    assert_eq!(no_type.status(), StatusCode::BAD_REQUEST);
    let wrong_shape = client
        .post(&url)
        .json(&json!({ "email": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_shape.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let empty = client
        .post(&url)
        .json(&json!({ "email": "", "password": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = empty.json().await.unwrap();
    assert_eq!(body["error"]["fields"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn stored_passwords_are_argon2id_hashes() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    let hash: String = sqlx::query_scalar("select password_hash from app_user where user_id = $1")
        .bind(user.id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains(&user.password));
}

#[tokio::test]
async fn unknown_api_paths_answer_with_a_json_404() {
    let app = spawn_app().await;
    let response = reqwest::get(format!("{}/api/v1/nothing-here", app.address))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "not_found");
}

#[tokio::test]
async fn an_expired_session_cookie_is_refused() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    assert_eq!(
        app.login(&user.email, &user.password).await.status(),
        StatusCode::OK
    );
    let me = format!("{}/api/v1/me", app.address);
    assert_eq!(
        app.client.get(&me).send().await.unwrap().status(),
        StatusCode::OK
    );

    sqlx::query(
        "update user_session set expires_at = now() - interval '1 second' where user_id = $1",
    )
    .bind(user.id)
    .execute(&app.owner)
    .await
    .unwrap();

    assert_eq!(
        app.client.get(&me).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The sign-in form's server-function URL, as the portal's login page renders it.
async fn sign_in_form_action(app: &crate::helpers::TestApp) -> String {
    let page = reqwest::get(format!("{}/login", app.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("action=\"").expect("the login page has a form") + 8;
    let end = start + page[start..].find('"').unwrap();
    page[start..end].to_owned()
}

#[tokio::test]
async fn a_cross_origin_form_post_cannot_sign_anyone_in_or_touch_the_api() {
    // Login CSRF: a hostile page posts the attacker's credentials to the sign-in server
    // function so the victim's browser ends up signed into the attacker's clinic.
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    let action = sign_in_form_action(&app).await;
    let form = [
        ("email", user.email.as_str()),
        ("password", user.password.as_str()),
    ];
    let post = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut request = reqwest::Client::new()
            .post(format!("{}{action}", app.address))
            .form(&form);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    for (origin, site) in [
        (Some("https://attacker.example"), Some("cross-site")),
        (Some("null"), None),
        (None, Some("same-site")),
    ] {
        let response = post(origin, site).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{origin:?} {site:?}"
        );
        assert!(response.headers().get(SET_COOKIE).is_none(), "{origin:?}");
    }
    // The portal's own page signs in.
    let own_origin = app.address.clone();
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}{action}", app.address))
        .header("origin", own_origin)
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(
        response.headers().get(SET_COOKIE).is_some(),
        "{}",
        response.status()
    );

    // REST routes are guarded the same way.
    let token = app.token(&user).await;
    let response = app
        .request(reqwest::Method::POST, "/api/v1/patients", &token)
        .header("origin", "https://attacker.example")
        .json(&json!({ "name": "Quinn Harper" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "cross_origin");
}

#[tokio::test]
async fn production_refuses_to_start_on_a_database_that_holds_the_demo_accounts() {
    let app = spawn_app().await;
    server::seed::demo(&app.owner, "demo-password-for-this-test")
        .await
        .unwrap();
    let mut settings = app.settings.clone();
    settings.environment = server::config::Environment::Production;
    settings.demo.enabled = Some(false);
    let refused = server::startup::Application::build(settings).await;
    let error = refused.err().expect("production refuses to start");
    assert!(format!("{error:#}").contains("demo accounts"), "{error:#}");
}

#[tokio::test]
async fn pages_carry_a_strict_csp_whose_nonce_is_the_hydration_scripts_and_are_never_cached() {
    let app = spawn_app().await;
    let response = reqwest::get(format!("{}/login", app.address))
        .await
        .unwrap();
    let headers = response.headers().clone();
    let page = response.text().await.unwrap();
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert!(
        !policy.contains("unsafe-inline") && !policy.contains("http"),
        "{policy}"
    );
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the page policy names a nonce");
    assert!(
        page.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries it"
    );
    assert_eq!(headers["cache-control"], "no-store");
    // Another request, another nonce.
    let again = reqwest::get(format!("{}/login", app.address))
        .await
        .unwrap();
    assert_ne!(
        again.headers()["content-security-policy"].to_str().unwrap(),
        policy
    );
    // API answers are never cached either, and carry the base policy.
    let me = reqwest::get(format!("{}/api/v1/me", app.address))
        .await
        .unwrap();
    assert_eq!(me.headers()["cache-control"], "no-store");
    assert!(me.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn signing_out_ends_the_cookie_and_every_bearer_token_of_that_login() {
    let app = spawn_app().await;
    let user = app.clinic_with_clinician().await;
    let other_login = app.token(&user).await;
    // The client's cookie store keeps the cookie of this, the latest, login.
    let response = app.login(&user.email, &user.password).await;
    let body: Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/me", &token).await.status(), StatusCode::OK);

    // Sign out with the cookie of the first login.
    let out = app
        .client
        .post(format!("{}/api/v1/auth/logout", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", &token).await.status(),
        StatusCode::UNAUTHORIZED,
        "the login's bearer token died with it"
    );
    assert_eq!(
        app.get("/api/v1/me", &other_login).await.status(),
        StatusCode::OK,
        "another login is untouched"
    );
    // Signing out with a bearer token ends that login too.
    let out = app
        .request(reqwest::Method::POST, "/api/v1/auth/logout", &other_login)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", &other_login).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_session_left_idle_ends_before_its_lifetime_while_one_in_use_stays() {
    let app = crate::helpers::spawn_app_with(|s| s.auth.session_idle_secs = 2).await;
    let user = app.clinic_with_clinician().await;
    let idle = app.token(&user).await;
    let busy = app.token(&user).await;
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(900)).await;
        assert_eq!(app.get("/api/v1/me", &busy).await.status(), StatusCode::OK);
    }
    assert_eq!(
        app.get("/api/v1/me", &idle).await.status(),
        StatusCode::UNAUTHORIZED,
        "automatic logoff"
    );
}
