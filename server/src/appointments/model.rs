//! Parsing and validation of appointment fields, and conversion to the wire type.

use app::types::{Appointment, AppointmentStatus, FieldError, Modality};
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

use super::store::AppointmentRow;

/// Longest appointment in minutes (and the shortest is 5).
pub const MAX_DURATION_MINUTES: i64 = 480;
/// Longest reason text.
pub const MAX_REASON_CHARS: usize = 1000;

/// How a start time was given.
#[derive(Debug, Clone)]
pub enum StartInput {
    /// RFC 3339 with an offset (REST API).
    Instant(String),
    /// Local date and time in the workspace's zone (portal form).
    Local {
        /// `YYYY-MM-DD`.
        date: String,
        /// `HH:MM`.
        time: String,
    },
}

/// Parses a start time; pushes a field error on failure.
pub fn parse_start(
    input: &StartInput,
    tz: Tz,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    let start = match input {
        StartInput::Instant(text) => match DateTime::parse_from_rfc3339(text.trim()) {
            Ok(t) => t.with_timezone(&Utc),
            Err(_) => {
                errors.push(FieldError::new(
                    "starts_at",
                    "Use an RFC 3339 date-time with an offset, e.g. 2026-11-23T14:30:00Z.",
                ));
                return None;
            }
        },
        StartInput::Local { date, time } => {
            let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d");
            let time = NaiveTime::parse_from_str(time.trim(), "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(time.trim(), "%H:%M:%S"));
            if date.is_err() {
                errors.push(FieldError::new("date", "Pick a date."));
            }
            if time.is_err() {
                errors.push(FieldError::new("time", "Pick a time (HH:MM)."));
            }
            let local = NaiveDateTime::new(date.ok()?, time.ok()?);
            match tz.from_local_datetime(&local) {
                LocalResult::Single(t) => t.with_timezone(&Utc),
                // A time that occurs twice (clocks going back): the first occurrence.
                LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
                LocalResult::None => {
                    errors.push(FieldError::new(
                        "time",
                        format!("That time does not exist in {tz} (clock change)."),
                    ));
                    return None;
                }
            }
        }
    };
    if !(2000..=2100).contains(&start.year()) {
        let field = if matches!(input, StartInput::Instant(_)) {
            "starts_at"
        } else {
            "date"
        };
        errors.push(FieldError::new(
            field,
            "The date must be between the years 2000 and 2100.",
        ));
        return None;
    }
    Some(start)
}

/// Checks a duration in minutes.
pub fn parse_duration(minutes: i64, errors: &mut Vec<FieldError>) -> Option<i32> {
    if (5..=MAX_DURATION_MINUTES).contains(&minutes) {
        Some(minutes as i32)
    } else {
        errors.push(FieldError::new(
            "duration_minutes",
            format!("The length must be between 5 and {MAX_DURATION_MINUTES} minutes."),
        ));
        None
    }
}

/// Parses a modality.
pub fn parse_modality(text: &str, errors: &mut Vec<FieldError>) -> Option<Modality> {
    Modality::parse(text.trim()).or_else(|| {
        errors.push(FieldError::new(
            "modality",
            "Modality must be telehealth or in_person.",
        ));
        None
    })
}

/// Parses a status.
pub fn parse_status(text: &str, errors: &mut Vec<FieldError>) -> Option<AppointmentStatus> {
    AppointmentStatus::parse(text.trim()).or_else(|| {
        errors.push(FieldError::new(
            "status",
            "Status must be scheduled, in_progress, completed or cancelled.",
        ));
        None
    })
}

/// Checks the reason text.
pub fn parse_reason(text: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let text = text.trim();
    if text.chars().count() > MAX_REASON_CHARS {
        errors.push(FieldError::new(
            "reason",
            format!("Use at most {MAX_REASON_CHARS} characters."),
        ));
        None
    } else {
        Some(text.to_owned())
    }
}

/// The UTC interval `[start, end)` of a local day in `tz`.
pub fn day_bounds(date: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start_of = |d: NaiveDate| {
        let midnight = d.and_time(NaiveTime::MIN);
        match tz.from_local_datetime(&midnight) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            // Midnight skipped by a clock change: the day starts an hour later.
            LocalResult::None => tz
                .from_local_datetime(&(midnight + Duration::hours(1)))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&midnight)),
        }
    };
    (start_of(date), start_of(date.succ_opt().unwrap_or(date)))
}

/// The wire form of a stored appointment, with local times in `tz`.
pub fn to_wire(row: AppointmentRow, tz: Tz) -> Appointment {
    let local_start = row.starts_at.with_timezone(&tz);
    let local_end = local_start + Duration::minutes(row.duration_minutes as i64);
    Appointment {
        id: row.appointment_id,
        clinician_id: row.clinician_id,
        clinician_name: row.clinician_name,
        patient_id: row.patient_id,
        patient_name: row.patient_name,
        starts_at: row.starts_at,
        duration_minutes: row.duration_minutes,
        // Both columns have check constraints admitting only the parsed values.
        modality: Modality::parse(&row.modality).unwrap_or(Modality::InPerson),
        status: AppointmentStatus::parse(&row.status).unwrap_or(AppointmentStatus::Scheduled),
        reason: row.reason,
        time_zone: tz.name().to_owned(),
        local_date: local_start.date_naive(),
        local_start: local_start.format("%H:%M").to_string(),
        local_end: local_end.format("%H:%M").to_string(),
    }
}

#[cfg(test)]
#[path = "model_test.rs"]
mod tests;
