//! The on-call section of a person's profile: their shifts in the next four weeks across
//! every schedule, in their own time zone, and the calendar feed of their shifts (offered on
//! their own profile, and to admins).

use crate::auth::extract::Principal;
use crate::catalog::Catalog;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::oncall::current::{self, local_time};
use crate::oncall::feeds::FeedScope;
use crate::oncall::{rotation, store};
use crate::people::Person;

use super::{DAY_MS, FeedView, visible_feeds};

/// One shift of a person's profile panel, in their own time zone.
pub(crate) struct UpcomingShift {
    pub(crate) schedule: String,
    pub(crate) schedule_name: String,
    pub(crate) start: String,
    pub(crate) end: String,
    pub(crate) current: bool,
}

/// The on-call section of a person's profile: their shifts in the next four weeks across
/// every schedule, and (on their own profile, or for admins) their calendar feeds.
pub(crate) struct PersonOnCall {
    pub shifts: Vec<UpcomingShift>,
    pub can_subscribe: bool,
    pub feeds: Vec<FeedView>,
}

pub(crate) async fn person_on_call(
    s: &AppState,
    c: &Catalog,
    p: &Principal,
    person: &Person,
) -> Result<PersonOnCall, AppError> {
    let now = s.clock.now_ms();
    // Resolved from five weeks back so the shift in progress shows its real start.
    let (from, to) = (now - current::HORIZON_MS, now + 28 * DAY_MS);
    let overrides = store::overrides(&s.db, None, from, to).await?;
    let mut shifts = Vec::new();
    for schedule in &c.schedules {
        let Ok(all) = rotation::shifts(schedule, &overrides, from, to) else {
            continue;
        };
        for x in all
            .iter()
            .filter(|x| x.end > now && x.person.as_deref() == Some(&person.id))
        {
            shifts.push((x.start, schedule, x.end));
        }
    }
    shifts.sort_by_key(|(start, s, _)| (*start, s.name.clone()));
    let own = match crate::auth::store::account(&s.db, &p.name).await {
        Ok(a) => a.person_id.as_deref() == Some(person.id.as_str()),
        Err(crate::db::StoreError::NotFound) => false,
        Err(e) => return Err(e.into()),
    };
    let can_subscribe = own || p.is_admin();
    let feeds = if can_subscribe {
        visible_feeds(
            &store::list_feed_tokens(&s.db).await?,
            p,
            FeedScope::Person,
            &person.id,
        )
    } else {
        Vec::new()
    };
    Ok(PersonOnCall {
        shifts: shifts
            .into_iter()
            .map(|(start, schedule, end)| UpcomingShift {
                schedule: schedule.id.clone(),
                schedule_name: schedule.name.clone(),
                start: local_time(start, &person.time_zone),
                end: local_time(end, &person.time_zone),
                current: start <= now,
            })
            .collect(),
        can_subscribe,
        feeds,
    })
}
