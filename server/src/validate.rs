//! Small field validators shared by the REST API and the portal. Each pushes a
//! [`FieldError`] and returns `None` on failure, so a handler reports every bad field at
//! once.

use app::types::FieldError;
use chrono::NaiveDate;

/// A non-empty trimmed text of at most `max` characters.
pub fn required_text(
    field: &str,
    value: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        errors.push(FieldError::new(field, "This field is required."));
        None
    } else if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("Use at most {max} characters."),
        ));
        None
    } else {
        Some(value.to_owned())
    }
}

/// An email address (lowercased).
pub fn email(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.trim().to_lowercase();
    let valid = value.len() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !value.chars().any(char::is_whitespace);
    if valid {
        Some(value)
    } else {
        errors.push(FieldError::new(field, "Enter a valid email address."));
        None
    }
}

/// An optional email: empty means none.
pub fn optional_email(
    field: &str,
    value: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Some(None),
        Some(v) => email(field, v, errors).map(Some),
    }
}

/// An optional phone number: digits with `+ - ( ) .` and spaces, 7 to 15 digits.
pub fn optional_phone(
    field: &str,
    value: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Some(None);
    };
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if allowed && (7..=15).contains(&digits) {
        Some(Some(value.to_owned()))
    } else {
        errors.push(FieldError::new(
            field,
            "Enter a phone number (7 to 15 digits, may start with +).",
        ));
        None
    }
}

/// An optional date of birth (`YYYY-MM-DD`, not in the future, not before 1900).
pub fn optional_birth_date(
    field: &str,
    value: Option<&str>,
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Option<Option<NaiveDate>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Some(None);
    };
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(date) if date <= today && date >= NaiveDate::from_ymd_opt(1900, 1, 1)? => {
            Some(Some(date))
        }
        Ok(_) => {
            errors.push(FieldError::new(
                field,
                "Date of birth must be between 1900 and today.",
            ));
            None
        }
        Err(_) => {
            errors.push(FieldError::new(field, "Use the form YYYY-MM-DD."));
            None
        }
    }
}

#[cfg(test)]
#[path = "validate_test.rs"]
mod tests;
