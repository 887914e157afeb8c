//! The rules of the review workflow, pure: what must be true to submit, approve and publish,
//! who may do each, when a postmortem is due (business days after resolution, by severity)
//! and when its owner is reminded. Commands ask these before they write anything.

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;

use super::{Fill, PmFull, PmStatus, Section};

const DAY_MS: i64 = 86_400_000;

/// `resolved_at` plus `days` business days (Monday to Friday, UTC), at the same time of day.
/// Resolved on a weekend, the count starts on Monday.
pub fn due_at(resolved_at: i64, days: u32) -> i64 {
    let weekday = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(TimeZone::UTC).weekday())
            .unwrap_or(Weekday::Monday)
    };
    let weekend = |ms: i64| matches!(weekday(ms), Weekday::Saturday | Weekday::Sunday);
    let mut at = resolved_at;
    let mut left = days;
    while left > 0 {
        at += DAY_MS;
        if !weekend(at) {
            left -= 1;
        }
    }
    at
}

/// The first reminder: a day before the due date (at once if that has passed).
pub fn first_reminder(due: i64, now: i64) -> i64 {
    (due - DAY_MS).max(now)
}

/// After a reminder at `now`: on the due date, then once a day while it is overdue.
pub fn next_reminder(due: i64, now: i64) -> i64 {
    if now < due {
        due
    } else {
        due + ((now - due) / DAY_MS + 1) * DAY_MS
    }
}

/// Whether `now` is past the due date (reminders say "overdue" then).
pub fn overdue(due: Option<i64>, now: i64) -> bool {
    due.is_some_and(|d| now >= d)
}

/// Nothing written: only whitespace, headings and HTML comments (the draft's scaffolding).
pub fn is_blank(md: &str) -> bool {
    let mut rest = md.to_string();
    while let Some(start) = rest.find("<!--") {
        let end = rest[start..]
            .find("-->")
            .map_or(rest.len(), |e| start + e + 3);
        rest.replace_range(start..end, "");
    }
    rest.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#'))
}

/// Whether a section has what review needs: text, or for the action items at least one item.
pub fn is_filled(s: &Section, actions: usize) -> bool {
    match s.fill {
        // The body holds notes and candidates; review needs at least one real item.
        Fill::ActionItems => actions > 0,
        // The timeline is generated from the incident; nothing to write.
        Fill::Timeline => true,
        _ => !is_blank(&s.body),
    }
}

/// The required sections still empty, by title.
pub fn missing(pm: &PmFull) -> Vec<String> {
    pm.sections
        .iter()
        .filter(|s| s.required && !is_filled(s, pm.actions.len()))
        .map(|s| s.title.clone())
        .collect()
}

pub fn may_edit(pm: &PmFull) -> Result<(), String> {
    match pm.postmortem.status {
        PmStatus::Published => Err("the postmortem is published and read-only".into()),
        _ => Ok(()),
    }
}

pub fn may_submit(pm: &PmFull) -> Result<(), String> {
    if pm.postmortem.status != PmStatus::Draft {
        return Err(format!(
            "only a draft can be submitted (this one is {})",
            pm.postmortem.status.label().to_lowercase()
        ));
    }
    let missing = missing(pm);
    if !missing.is_empty() {
        return Err(format!(
            "required sections are empty: {}",
            missing.join(", ")
        ));
    }
    if pm.reviewers.is_empty() {
        return Err("name at least one reviewer before submitting".into());
    }
    Ok(())
}

/// A named reviewer approves a postmortem in review, once.
pub fn may_approve(pm: &PmFull, person: Option<&str>) -> Result<(), String> {
    if pm.postmortem.status != PmStatus::InReview {
        return Err("only a postmortem in review can be approved".into());
    }
    let Some(person) = person else {
        return Err("only a named reviewer can approve; your account has no person".into());
    };
    match pm.reviewers.iter().find(|r| r.person_id == person) {
        None => Err("only a named reviewer can approve".into()),
        Some(r) if r.approved_at.is_some() => Err("you have already approved it".into()),
        Some(_) => Ok(()),
    }
}

/// Publishing needs every reviewer's approval; the owner, a reviewer or an admin does it.
pub fn may_publish(pm: &PmFull, person: Option<&str>, admin: bool) -> Result<(), String> {
    if pm.postmortem.status != PmStatus::InReview {
        return Err("only a postmortem in review can be published".into());
    }
    let waiting: Vec<&str> = pm
        .reviewers
        .iter()
        .filter(|r| r.approved_at.is_none())
        .map(|r| r.person_id.as_str())
        .collect();
    if !waiting.is_empty() {
        return Err(format!("waiting for approval from {}", waiting.join(", ")));
    }
    let involved = person
        .is_some_and(|p| p == pm.postmortem.owner || pm.reviewers.iter().any(|r| r.person_id == p));
    if !(involved || admin) {
        return Err("only the owner, a reviewer or an admin can publish".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-20 is a Friday.
    const FRIDAY_NOON: i64 = 1_795_176_000_000;

    #[test]
    fn due_dates_skip_weekends() {
        let t = Timestamp::from_millisecond(FRIDAY_NOON).unwrap();
        assert_eq!(t.to_zoned(TimeZone::UTC).weekday(), Weekday::Friday);
        // Friday + 1 business day = Monday; + 5 = next Friday.
        assert_eq!(due_at(FRIDAY_NOON, 1), FRIDAY_NOON + 3 * DAY_MS);
        assert_eq!(due_at(FRIDAY_NOON, 5), FRIDAY_NOON + 7 * DAY_MS);
        // Saturday + 1 = Monday.
        assert_eq!(due_at(FRIDAY_NOON + DAY_MS, 1), FRIDAY_NOON + 3 * DAY_MS);
        assert_eq!(due_at(FRIDAY_NOON, 0), FRIDAY_NOON);
    }

    #[test]
    fn reminders_come_the_day_before_on_the_day_and_daily_after() {
        let due = 10 * DAY_MS;
        assert_eq!(first_reminder(due, 0), 9 * DAY_MS);
        assert_eq!(first_reminder(due, 9 * DAY_MS + 5), 9 * DAY_MS + 5);
        assert_eq!(next_reminder(due, 9 * DAY_MS), due);
        assert_eq!(next_reminder(due, due), due + DAY_MS);
        assert_eq!(next_reminder(due, due + DAY_MS + 7), due + 2 * DAY_MS);
        assert!(!overdue(Some(due), due - 1) && overdue(Some(due), due));
        assert!(!overdue(None, due));
    }

    #[test]
    fn scaffolding_is_blank() {
        assert!(is_blank(""));
        assert!(is_blank(
            "### What went well\n\n### Where we got lucky\n  \n"
        ));
        assert!(is_blank("<!-- write here -->\n## x"));
        assert!(!is_blank("### What went well\n- paging worked"));
        assert!(!is_blank("The error rate rose."));
    }
}
