use super::*;

fn refused(password: &str) -> bool {
    check_new_password(
        "password",
        password,
        &["maria.gonzalez@clinic.example", "Maria Gonzalez"],
    )
    .is_some()
}

#[test]
fn common_leaked_passwords_are_refused_even_when_long_enough() {
    for password in [
        "password1234",
        "qwertyuiop123",
        "iloveyou1234",
        "123456789012",
        "Password123!",
        "trustno1trustno1",
        "letmeinletmein",
    ] {
        assert!(refused(password), "{password} should be refused");
    }
}

#[test]
fn passwords_built_from_the_accounts_own_name_or_email_are_refused() {
    assert!(refused("mariagonzalez"));
    assert!(refused("MariaGonzalez2024"));
    assert!(refused("bedsidebedside"));
}

#[test]
fn short_and_oversized_passwords_are_refused_with_the_limit_named() {
    let short = check_new_password("password", "x7#Kp2", &[]).unwrap();
    assert!(short.message.contains("at least 12"));
    let huge = "correct horse battery staple ".repeat(20);
    let long = check_new_password("password", &huge, &[]).unwrap();
    assert!(long.message.contains("at most 256"));
}

#[test]
fn unrelated_words_and_random_strings_are_accepted() {
    for password in [
        "violet tractor lantern oyster",
        "Wrong-Typed-Password-7731",
        "k8#Qz!vR2m@Lp9x",
        "a-long-enough-password",
    ] {
        assert!(!refused(password), "{password} should be accepted");
    }
}

#[test]
fn the_refusal_says_why_in_plain_words() {
    let error = check_new_password("new_password", "password1234", &[]).unwrap();
    assert_eq!(error.field, "new_password");
    assert!(
        error.message.contains("too easy to guess"),
        "{}",
        error.message
    );
}
