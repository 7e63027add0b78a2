//! What a new password must be (NIST SP 800-63B §3.1.1.2, OWASP ASVS 5.0 V6.2): at
//! least [`MIN_PASSWORD_LEN`] characters, at most [`MAX_PASSWORD_LEN`], and not one
//! that attackers try first.
//!
//! "Tried first" is judged by `zxcvbn` (Dropbox's estimator, packaged with its
//! dictionaries: about 30,000 of the most common leaked passwords, English words,
//! names, keyboard walks, dates and l33t substitutions), with the account's own email,
//! name and "bedside" as extra dictionary words. A password whose estimated guess count
//! is below 10^10 (zxcvbn score 3, "safely unguessable: moderate protection from
//! offline slow-hash attacks") is refused with zxcvbn's reason in plain words. The list
//! ships in the crate, so nothing is looked up over the network and no password leaves
//! the process. No composition rules (NIST advises against them).

use app::types::FieldError;
use zxcvbn::Score;

pub use super::password::MIN_PASSWORD_LEN;

/// Longest accepted password: long passphrases are welcome, megabyte bodies are not.
pub const MAX_PASSWORD_LEN: usize = 256;

/// zxcvbn's cost grows with length; the tail past this adds nothing to the verdict.
const SCORED_PREFIX_CHARS: usize = 100;

/// Checks a new password for `field`; `personal` are words tied to the account (email,
/// name) that make a password guessable for it.
pub fn check_new_password(field: &str, password: &str, personal: &[&str]) -> Option<FieldError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        return Some(FieldError::new(
            field,
            format!("Use at least {MIN_PASSWORD_LEN} characters."),
        ));
    }
    if length > MAX_PASSWORD_LEN {
        return Some(FieldError::new(
            field,
            format!("Use at most {MAX_PASSWORD_LEN} characters."),
        ));
    }
    let scored: String = password.chars().take(SCORED_PREFIX_CHARS).collect();
    let mut words: Vec<&str> = vec!["bedside"];
    for word in personal {
        words.push(word);
        // The local part and the domain of an email are guessable on their own.
        words.extend(word.split(['@', '.', ' ']).filter(|w| w.len() >= 3));
    }
    // NIST's "context-specific words": the account's own name or email in any case.
    let folded: String = password
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if words.iter().any(|word| {
        let word: String = word
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        word.chars().count() >= 4 && folded.contains(&word)
    }) {
        return Some(FieldError::new(
            field,
            "Don't build your password from your name, your email or \"Bedside\".",
        ));
    }
    let estimate = zxcvbn::zxcvbn(&scored, &words);
    if estimate.score() >= Score::Three {
        return None;
    }
    let reason = estimate
        .feedback()
        .and_then(|feedback| feedback.warning())
        .map(|warning| format!(" ({warning})"))
        .unwrap_or_default();
    Some(FieldError::new(
        field,
        format!(
            "This password is too easy to guess{reason}. Try a few unrelated words, or a \
             longer phrase."
        ),
    ))
}

#[cfg(test)]
#[path = "password_policy_test.rs"]
mod tests;
