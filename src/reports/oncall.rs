//! On-call load per person, pure: pages received, those outside the person's working hours
//! in their own time zone, and incidents they held a role in. Pages arrive grouped by
//! quarter hour (UTC): every time zone's offset is a whole number of quarter hours, so all
//! pages of one bucket fall on the same side of 09:00 or 18:00 local time.

use std::collections::BTreeMap;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::Serialize;
use utoipa::ToSchema;

use crate::catalog::Catalog;

/// Working hours: Monday to Friday, 09:00 to 18:00 in the person's zone. A constant rather
/// than a setting: the report compares people, so everyone is held to the same day.
pub const WORK_START_HOUR: i8 = 9;
pub const WORK_END_HOUR: i8 = 18;

/// The width of the page buckets `store::pages` returns.
pub const BUCKET_MS: i64 = 900_000;

/// Whether `ms` falls outside working hours in `tz`.
pub fn out_of_hours(ms: i64, tz: &TimeZone) -> bool {
    let Ok(t) = jiff::Timestamp::from_millisecond(ms) else {
        return false;
    };
    let local = t.to_zoned(tz.clone());
    let weekend = matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday);
    weekend || !(WORK_START_HOUR..WORK_END_HOUR).contains(&local.hour())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PersonLoad {
    pub person: String,
    pub name: String,
    pub time_zone: String,
    pub pages: i64,
    pub pages_out_of_hours: i64,
    pub incidents_with_role: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct OncallReport {
    pub working_hours: String,
    /// Most pages first.
    pub people: Vec<PersonLoad>,
}

/// Shapes page buckets (person, bucket, pages) and role counts (person, incidents).
pub fn load(pages: &[(String, i64, i64)], roles: &[(String, i64)], c: &Catalog) -> OncallReport {
    let mut people: BTreeMap<&str, PersonLoad> = BTreeMap::new();
    // Zones looked up once per person, not once per bucket (tens of thousands of buckets).
    let mut zones: BTreeMap<&str, TimeZone> = BTreeMap::new();
    let entry = |people: &mut BTreeMap<&str, PersonLoad>, id: &str| -> PersonLoad {
        people.remove(id).unwrap_or_else(|| {
            let p = c.person(id);
            PersonLoad {
                person: id.to_string(),
                name: p.map_or_else(|| id.to_string(), |p| p.name.clone()),
                time_zone: p.map_or_else(|| "UTC".to_string(), |p| p.time_zone.clone()),
                pages: 0,
                pages_out_of_hours: 0,
                incidents_with_role: 0,
            }
        })
    };
    for (id, bucket, n) in pages {
        let mut p = entry(&mut people, id);
        // An unknown or missing zone counts in UTC rather than dropping the page.
        let tz = zones
            .entry(id)
            .or_insert_with(|| TimeZone::get(&p.time_zone).unwrap_or(TimeZone::UTC));
        p.pages += n;
        if out_of_hours(bucket * BUCKET_MS, tz) {
            p.pages_out_of_hours += n;
        }
        people.insert(id, p);
    }
    for (id, n) in roles {
        let mut p = entry(&mut people, id);
        p.incidents_with_role += n;
        people.insert(id, p);
    }
    let mut people: Vec<PersonLoad> = people.into_values().collect();
    people.sort_by(|a, b| {
        (b.pages, b.incidents_with_role)
            .cmp(&(a.pages, a.incidents_with_role))
            .then(a.person.cmp(&b.person))
    });
    OncallReport {
        working_hours: format!(
            "Monday to Friday, {WORK_START_HOUR:02}:00 to {WORK_END_HOUR:02}:00 in each person's time zone"
        ),
        people,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::Person;

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn working_hours_are_local() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        // Monday 2026-11-23 07:30Z is 08:30 in Paris (out), 13:00 in Kolkata (in).
        assert!(out_of_hours(ms("2026-11-23T07:30:00Z"), &paris));
        assert!(!out_of_hours(ms("2026-11-23T07:30:00Z"), &kolkata));
        // 08:00Z is 09:00 in Paris: the first working minute.
        assert!(!out_of_hours(ms("2026-11-23T08:00:00Z"), &paris));
        // 17:00Z is 18:00 in Paris: the first minute after.
        assert!(out_of_hours(ms("2026-11-23T17:00:00Z"), &paris));
        // Saturday noon.
        assert!(out_of_hours(ms("2026-11-28T11:00:00Z"), &paris));
        // Kolkata is +05:30: 03:30Z is 09:00 local, on a quarter-hour bucket boundary.
        assert!(!out_of_hours(ms("2026-11-23T03:30:00Z"), &kolkata));
        assert!(out_of_hours(ms("2026-11-23T03:15:00Z"), &kolkata));
    }

    #[test]
    fn pages_are_counted_per_person_in_their_zone() {
        let person = |id: &str, tz: &str| Person {
            id: id.into(),
            name: id.to_uppercase(),
            email: format!("{id}@example.com"),
            time_zone: tz.into(),
            title: String::new(),
            teams: vec![],
        };
        let c = Catalog {
            people: vec![person("ana", "Europe/Paris"), person("raj", "Asia/Kolkata")],
            ..Catalog::default()
        };
        let b = |s: &str| ms(s) / BUCKET_MS;
        let pages = vec![
            // 07:30Z Monday: out for Ana, in for Raj.
            ("ana".to_string(), b("2026-11-23T07:30:00Z"), 2),
            ("raj".to_string(), b("2026-11-23T07:30:00Z"), 1),
            // 12:00Z Monday: in for Ana, 17:30 for Raj: in.
            ("ana".to_string(), b("2026-11-23T12:00:00Z"), 3),
            ("raj".to_string(), b("2026-11-23T12:00:00Z"), 1),
            // 13:00Z Monday: 18:30 for Raj: out.
            ("raj".to_string(), b("2026-11-23T13:00:00Z"), 4),
        ];
        let roles = vec![("ana".to_string(), 2), ("zoe".to_string(), 1)];
        let r = load(&pages, &roles, &c);
        let got: Vec<(&str, i64, i64, i64)> = r
            .people
            .iter()
            .map(|p| {
                (
                    p.person.as_str(),
                    p.pages,
                    p.pages_out_of_hours,
                    p.incidents_with_role,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![("raj", 6, 4, 0), ("ana", 5, 2, 2), ("zoe", 0, 0, 1)]
        );
    }
}
