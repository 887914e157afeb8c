//! On-call commands: `tocsin oncall` (who is on call, and for a service who its policy
//! reaches) and `tocsin override add | list | remove`. Overrides go through
//! `oncall::overrides`, the same checks and audit entries as the API.
//!
//! TIME arguments are RFC 3339 (`2024-06-18T14:00+01:00`) or a local `YYYY-MM-DDTHH:MM` read
//! in the schedule's zone, because that is the clock the rotation is written in.

use jiff::tz::TimeZone;

use crate::catalog::{Catalog, store as catalog_store};
use crate::clock::Millis;
use crate::escalation::web::{matrix, repeats};
use crate::oncall::current::{self, HORIZON_MS, local_time, person_name};
use crate::oncall::overrides::{self, NewOverride, OverrideError, parse_time};
use crate::oncall::{Schedule, store};

use super::{DbArgs, OverrideAction};

fn now() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}

fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

fn zone_of(s: &Schedule) -> TimeZone {
    TimeZone::get(&s.time_zone).unwrap_or(TimeZone::UTC)
}

/// What `tocsin oncall` was asked about.
pub struct Filter {
    pub schedule: Option<String>,
    pub team: Option<String>,
    pub service: Option<String>,
    pub at: Option<String>,
}

/// `tocsin oncall`: a table of schedule, person, until when (in the schedule's zone); with
/// `--service`, its policy's levels and who they resolve to.
pub async fn oncall(f: Filter, args: &DbArgs) -> anyhow::Result<i32> {
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    let c = catalog_store::load(&db).await?;
    let mut schedules: Vec<&Schedule> = c.schedules.iter().collect();
    if let Some(id) = &f.schedule {
        if c.schedule(id).is_none() {
            return fail(&format!("no schedule {id:?}"));
        }
        schedules.retain(|s| s.id == *id);
    }
    if let Some(team) = &f.team {
        if c.team(team).is_none() {
            return fail(&format!("no team {team:?}"));
        }
        let ids: Vec<String> = current::schedules_for_team(&c, team)
            .iter()
            .map(|s| s.id.clone())
            .collect();
        schedules.retain(|s| ids.contains(&s.id));
    }
    let policy = match &f.service {
        Some(id) => match c.service(id) {
            Some(svc) => {
                let policy = c.policy_for_service(svc);
                let ids = policy.map(current::schedules_of).unwrap_or_default();
                schedules.retain(|s| ids.contains(&s.id.as_str()));
                policy
            }
            None => return fail(&format!("no service {id:?}")),
        },
        None => None,
    };
    // A local --at is read in the zone of the (first) schedule shown.
    let zone = schedules.first().map_or(TimeZone::UTC, |s| zone_of(s));
    let at = match &f.at {
        Some(t) => match parse_time(t, Some(&zone)) {
            Ok(ms) => ms,
            Err(e) => return fail(&format!("--at: {e}")),
        },
        None => now(),
    };
    let found = store::overrides(&db, None, at, at.saturating_add(HORIZON_MS)).await?;
    let mut rows: Vec<current::OnCall> = schedules
        .iter()
        .map(|s| current::on_call(&c, &found, s, at))
        .collect();
    rows.sort_by(|a, b| a.schedule_name.cmp(&b.schedule_name));
    println!("{:<28} {:<24} UNTIL", "SCHEDULE", "ON CALL");
    for r in &rows {
        let until = r.until.map_or_else(
            || "(more than five weeks)".to_string(),
            |u| local_time(u, &r.time_zone),
        );
        let who = r.person_name.as_deref().unwrap_or("nobody");
        println!("{:<28} {:<24} {until}", r.schedule_name, who);
    }
    if let Some(id) = &f.service {
        print_policy(&c, &found, id, policy, at);
    }
    Ok(0)
}

fn print_policy(
    c: &Catalog,
    found: &[crate::oncall::Override],
    service: &str,
    policy: Option<&crate::escalation::EscalationPolicy>,
    at: Millis,
) {
    let Some(policy) = policy else {
        println!("\nService {service} has no escalation policy: its pages reach nobody.");
        return;
    };
    println!(
        "\nService {service} escalates through {} ({}):",
        policy.name, policy.id
    );
    for r in matrix(c, found, policy, at) {
        let level = if r.first_of_level {
            format!("Level {}", r.level)
        } else {
            String::new()
        };
        let when = if r.after_minutes == 0 {
            "at once".to_string()
        } else {
            format!("after {} min", r.after_minutes)
        };
        println!("  {level:<9} {:<14} {:<24} {}", when, r.name, r.role);
    }
    println!("  {}", repeats(policy));
}

/// `tocsin override add | list | remove`.
pub async fn override_cmd(action: OverrideAction, args: &DbArgs) -> anyhow::Result<i32> {
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    match action {
        OverrideAction::Add {
            schedule,
            person,
            from,
            to,
            replaces,
            reason,
        } => {
            let c = catalog_store::load(&db).await?;
            let Some(sch) = c.schedule(&schedule) else {
                return fail(&format!("no schedule {schedule:?}"));
            };
            let zone = zone_of(sch);
            let (start, end) = match (parse_time(&from, Some(&zone)), parse_time(&to, Some(&zone)))
            {
                (Ok(s), Ok(e)) => (s, e),
                (Err(e), _) => return fail(&format!("--from: {e}")),
                (_, Err(e)) => return fail(&format!("--to: {e}")),
            };
            let new = NewOverride {
                schedule,
                person,
                start,
                end,
                replaces,
                reason: reason.unwrap_or_default(),
            };
            match overrides::create_override(&db, &c, now(), &actor(), &new).await {
                Ok(o) => {
                    println!(
                        "created override {}: {} on call on {} from {} to {}",
                        o.id,
                        person_name(&c, &o.person),
                        sch.name,
                        local_time(o.start, &sch.time_zone),
                        local_time(o.end, &sch.time_zone)
                    );
                    Ok(0)
                }
                Err(OverrideError::Store(e)) => Err(e.into()),
                Err(e) => fail(&e.to_string()),
            }
        }
        OverrideAction::List { schedule } => {
            let c = catalog_store::load(&db).await?;
            if let Some(id) = &schedule
                && c.schedule(id).is_none()
            {
                return fail(&format!("no schedule {id:?}"));
            }
            let mut found = store::overrides(&db, schedule.as_deref(), now(), i64::MAX).await?;
            found.sort_by(|a, b| a.start.cmp(&b.start).then(a.id.cmp(&b.id)));
            if found.is_empty() {
                println!("no current or upcoming overrides");
            }
            for o in found {
                let tz = c.schedule(&o.schedule).map_or("UTC", |s| &s.time_zone);
                let replaces = o
                    .replaces
                    .as_deref()
                    .map(|r| format!(" replacing {}", person_name(&c, r)))
                    .unwrap_or_default();
                println!(
                    "{}  {:<24} {:<16} {} to {}{replaces}{}",
                    o.id,
                    o.schedule,
                    person_name(&c, &o.person),
                    local_time(o.start, tz),
                    local_time(o.end, tz),
                    if o.reason.is_empty() {
                        String::new()
                    } else {
                        format!("  ({})", o.reason)
                    }
                );
            }
            Ok(0)
        }
        OverrideAction::Remove { id } => {
            match overrides::remove_override(&db, now(), &actor(), &id).await {
                Ok(o) => {
                    println!("removed override {} ({} on {})", o.id, o.person, o.schedule);
                    Ok(0)
                }
                Err(OverrideError::Store(e)) => Err(e.into()),
                Err(e) => fail(&e.to_string()),
            }
        }
    }
}

fn fail(message: &str) -> anyhow::Result<i32> {
    eprintln!("error: {message}");
    Ok(1)
}
