//! Creating and removing overrides: the one place that checks an override and writes it with
//! its audit entry. The API, the CLI and the schedule page's form all call
//! [`create_override`] and [`remove_override`], so they accept and reject the same things.
//!
//! Also the time parsing those edges share ([`parse_time`]): RFC 3339, integer milliseconds,
//! or a local `YYYY-MM-DDTHH:MM` in the schedule's zone, which is how people think of shifts.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::audit;
use crate::catalog::Catalog;
use crate::clock::{Millis, format_ms};
use crate::db::{Db, StoreError};
use crate::http::error::AppError;

use super::{Override, store};

/// The longest override accepted: a year (366 days, so a leap year's worth fits). Longer
/// cover is a change to the rotation, which belongs in the schedule's config.
pub const MAX_OVERRIDE_MS: i64 = 366 * 24 * 60 * 60 * 1000;

/// Longest `reason`, in characters.
const MAX_REASON: usize = 500;

/// An override to create: `person` is on call on `schedule` in [start, end) (ms since the
/// epoch), in place of `replaces` when given, else over whoever is on call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewOverride {
    pub schedule: String,
    pub person: String,
    pub start: Millis,
    pub end: Millis,
    pub replaces: Option<String>,
    pub reason: String,
}

/// Why an override was refused. `UnknownSchedule` and `NotFound` are 404s at the HTTP edge,
/// `Invalid` a 422 (the message says what to fix, for people).
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("no schedule {0:?}")]
    UnknownSchedule(String),
    #[error("no override {0:?}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<OverrideError> for AppError {
    fn from(e: OverrideError) -> Self {
        match e {
            OverrideError::UnknownSchedule(_) | OverrideError::NotFound(_) => AppError::NotFound,
            OverrideError::Invalid(m) => AppError::invalid(m),
            OverrideError::Store(s) => s.into(),
        }
    }
}

/// Checks `new` against the catalog and `now` without writing anything, so a form can show
/// the problem next to its fields. [`create_override`] runs the same checks.
pub fn check(catalog: &Catalog, now: Millis, new: &NewOverride) -> Result<(), OverrideError> {
    if catalog.schedule(&new.schedule).is_none() {
        return Err(OverrideError::UnknownSchedule(new.schedule.clone()));
    }
    let invalid = |m: String| Err(OverrideError::Invalid(m));
    if catalog.person(&new.person).is_none() {
        return invalid(format!("no person {:?}", new.person));
    }
    if let Some(r) = &new.replaces {
        if catalog.person(r).is_none() {
            return invalid(format!("replaces: no person {r:?}"));
        }
        if *r == new.person {
            return invalid(format!("{r} cannot replace themselves"));
        }
    }
    if new.start >= new.end {
        return invalid(format!(
            "the end ({}) must be after the start ({})",
            format_ms(new.end),
            format_ms(new.start)
        ));
    }
    if new.end - new.start > MAX_OVERRIDE_MS {
        return invalid("an override may last at most a year; change the rotation instead".into());
    }
    // Covering time that is already over changes nothing anyone was paged for; it would only
    // rewrite history in the calendar.
    if new.end <= now {
        return invalid(format!(
            "the override ended already ({})",
            format_ms(new.end)
        ));
    }
    if new.reason.chars().count() > MAX_REASON {
        return invalid(format!("reason: at most {MAX_REASON} characters"));
    }
    if new.reason.chars().any(|c| c.is_control() && c != '\n') {
        return invalid("reason: no control characters".into());
    }
    Ok(())
}

/// Checks `new` (see [`check`]) against `catalog`, the caller's current snapshot, and writes
/// it with an `override.create` audit entry by `actor` in one transaction. `now` is the
/// creation time. The schedule's existence is enforced again by a foreign key, so a schedule
/// deleted meanwhile makes this fail rather than leave an orphan.
pub async fn create_override(
    db: &Db,
    catalog: &Catalog,
    now: Millis,
    actor: &str,
    new: &NewOverride,
) -> Result<Override, OverrideError> {
    let new = NewOverride {
        reason: new.reason.trim().to_string(),
        ..new.clone()
    };
    check(catalog, now, &new)?;
    let o = Override {
        id: crate::auth::new_secret("")[..12].to_string(),
        schedule: new.schedule,
        start: new.start,
        end: new.end,
        person: new.person,
        replaces: new.replaces,
        reason: new.reason,
        created_by: actor.to_string(),
        created_at: now,
    };
    let mut tx = db.begin().await?;
    store::insert_override(&mut tx, &o).await?;
    let target = format!("override {}", o.id);
    audit::store::record(
        &mut tx,
        now,
        actor,
        "override.create",
        &target,
        &describe(&o),
    )
    .await?;
    tx.commit().await?;
    Ok(o)
}

/// Deletes override `id` with an `override.delete` audit entry, in one transaction; returns
/// what was deleted. Past overrides can be removed too (a mistaken entry should not stay).
pub async fn remove_override(
    db: &Db,
    now: Millis,
    actor: &str,
    id: &str,
) -> Result<Override, OverrideError> {
    // Ids are generated hex; anything else names no override and never reaches SQL (where
    // PostgreSQL would refuse a NUL byte with an error of its own).
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(OverrideError::NotFound(id.to_string()));
    }
    let mut tx = db.begin().await?;
    let o = match store::delete_override(&mut tx, id).await {
        Ok(o) => o,
        Err(StoreError::NotFound) => return Err(OverrideError::NotFound(id.to_string())),
        Err(e) => return Err(e.into()),
    };
    let target = format!("override {id}");
    audit::store::record(
        &mut tx,
        now,
        actor,
        "override.delete",
        &target,
        &describe(&o),
    )
    .await?;
    tx.commit().await?;
    Ok(o)
}

/// The audit detail: enough to recreate the override by hand.
fn describe(o: &Override) -> String {
    let mut s = format!(
        "schedule {}: {} on call {} to {}",
        o.schedule,
        o.person,
        format_ms(o.start),
        format_ms(o.end)
    );
    if let Some(r) = &o.replaces {
        s.push_str(&format!(" replacing {r}"));
    }
    if !o.reason.is_empty() {
        s.push_str(&format!(" ({})", o.reason));
    }
    s
}

/// Parses a time as people and scripts write it: RFC 3339 (`2024-06-18T14:00+01:00`,
/// `2024-06-18T13:00:00Z`), integer milliseconds since the epoch, or, when `zone` is given, a
/// local `YYYY-MM-DDTHH:MM` in that zone (a time skipped or repeated by a DST change takes the
/// earlier offset, as calendars do). The error says what was expected.
pub fn parse_time(text: &str, zone: Option<&TimeZone>) -> Result<Millis, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Timestamp::from_millisecond(ms)
            .map(|_| ms)
            .map_err(|_| format!("{ms} is out of range"));
    }
    // An unencoded `+` in a query string arrives as a space.
    let fixed = text.replace(' ', "+");
    if let Ok(t) = fixed.parse::<Timestamp>() {
        return Ok(t.as_millisecond());
    }
    if let (Some(tz), Ok(local)) = (zone, text.parse::<DateTime>()) {
        return local
            .to_zoned(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|e| format!("{text:?}: {e}"));
    }
    let local = if zone.is_some() {
        ", or a local YYYY-MM-DDTHH:MM"
    } else {
        ""
    };
    Err(format!(
        "{text:?} is not a time: expected RFC 3339 such as 2024-06-18T14:00+01:00, \
         milliseconds since the epoch{local}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_accepted_form() {
        let london = TimeZone::get("Europe/London").expect("zone");
        let expected: i64 = "2024-06-18T13:00:00Z"
            .parse::<Timestamp>()
            .expect("ts")
            .as_millisecond();
        for text in [
            "2024-06-18T14:00+01:00",
            "2024-06-18T14:00 01:00",
            "2024-06-18T13:00:00Z",
            &expected.to_string(),
        ] {
            assert_eq!(parse_time(text, None), Ok(expected), "{text}");
        }
        assert_eq!(parse_time("2024-06-18T14:00", Some(&london)), Ok(expected));
        assert!(parse_time("2024-06-18T14:00", None).is_err());
        assert!(parse_time("tomorrow", Some(&london)).is_err());
        assert!(parse_time(&i64::MAX.to_string(), None).is_err());
    }
}
