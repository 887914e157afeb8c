//! Schedule pages: the list (who is on call now, next handoff), a schedule's two-week grid or
//! month calendar with its upcoming overrides and calendar feeds, the readiness audit page,
//! and the on-call panel of a person's profile. Grid and month shaping is pure
//! ([`calendar`]); the forms that change things (overrides, feeds) are in [`forms`].

mod calendar;
mod forms;
mod person;

pub(crate) use person::{PersonOnCall, person_on_call};

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::auth::extract::{Principal, WebUser, encode};
use crate::catalog::Catalog;
use crate::catalog::web::team_name;
use crate::clock::format_ms;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::web::{Layout, OrPage, PageError};

use super::current::{self, OnCallView, local_time, person_name};
use super::feeds::{FeedScope, FeedToken};
use super::readiness::{self, Finding, Options, Severity};
use super::{ShiftUnit, rotation, store};
use calendar::{Grid, MonthDay, add_days, day_start, monday};

const DAY_MS: i64 = 24 * 3_600_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/schedules", get(list))
        .route("/schedules/{id}", get(detail))
        .route("/readiness", get(readiness_page))
        .merge(forms::router())
        .merge(super::feeds::router())
}

#[derive(Template, WebTemplate)]
#[template(path = "schedules.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<(OnCallView, String)>,
}

async fn list(State(s): State<AppState>, WebUser(p): WebUser) -> Result<ListPage, PageError> {
    let c = s.catalog().await.or_page(&p, "schedules")?;
    let now = s.clock.now_ms();
    let overrides = store::overrides(&s.db, None, now, now + current::HORIZON_MS)
        .await
        .or_page(&p, "schedules")?;
    let rows = current::everyone(&c, &overrides, now)
        .iter()
        .map(|o| (OnCallView::new(&c, o), o.time_zone.clone()))
        .collect();
    Ok(ListPage {
        layout: Layout::new(&p, "schedules", "Schedules"),
        rows,
    })
}

#[derive(Deserialize, Default)]
struct ViewQuery {
    #[serde(default)]
    view: String,
    #[serde(default)]
    week: String,
    #[serde(default)]
    month: String,
}

/// A navigation link of the schedule page.
struct Nav {
    prev: String,
    next: String,
    today: String,
    label: String,
}

struct LayerView {
    name: String,
    people: String,
    shift: String,
    start: String,
    restrictions: String,
}

struct OverrideView {
    id: String,
    person: String,
    start: String,
    end: String,
    replaces: String,
    reason: String,
    created_by: String,
}

pub(crate) struct FeedView {
    pub(crate) id: String,
    pub(crate) created_by: String,
    pub(crate) created_at: String,
}

impl FeedView {
    fn new(t: &FeedToken) -> Self {
        Self {
            id: t.id.clone(),
            created_by: t.created_by.clone(),
            created_at: format_ms(t.created_at),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "schedule.html")]
struct SchedulePage {
    layout: Layout,
    id: String,
    name: String,
    team_id: String,
    team: String,
    zone: String,
    now: OnCallView,
    layers: Vec<LayerView>,
    month_view: bool,
    nav: Nav,
    grid: Option<Grid>,
    weeks: Vec<Vec<MonthDay>>,
    overrides: Vec<OverrideView>,
    people: Vec<(String, String)>,
    can_override: bool,
    feeds: Vec<FeedView>,
}

/// A `YYYY-MM-DD` (or, for months, `YYYY-MM`) query value; empty means today.
fn parse_date(text: &str, month: bool, today: Date) -> Result<Date, AppError> {
    if text.is_empty() {
        return Ok(today);
    }
    let full = if month {
        format!("{text}-01")
    } else {
        text.to_string()
    };
    full.parse::<Date>().map_err(|_| {
        let want = if month { "YYYY-MM" } else { "YYYY-MM-DD" };
        AppError::BadRequest(format!("{text:?} is not a date: expected {want}"))
    })
}

fn shift_text(count: u32, unit: ShiftUnit) -> String {
    let unit = match unit {
        ShiftUnit::Hours => "hour",
        ShiftUnit::Days => "day",
        ShiftUnit::Weeks => "week",
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

fn names(c: &Catalog, ids: &[String]) -> String {
    ids.iter()
        .map(|i| person_name(c, i))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn detail(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Path(id): Path<String>,
    Query(q): Query<ViewQuery>,
) -> Result<SchedulePage, PageError> {
    let c = s.catalog().await.or_page(&p, "schedules")?;
    let schedule = c
        .schedule(&id)
        .ok_or(AppError::NotFound)
        .or_page(&p, "schedules")?;
    let tz = TimeZone::get(&schedule.time_zone).unwrap_or(TimeZone::UTC);
    let now = s.clock.now_ms();
    let today = s.clock.now().to_zoned(tz.clone()).date();
    let base = format!("/schedules/{}", encode(&id));
    let month_view = q.view == "month";
    let (first, days, nav) = if month_view {
        let m = parse_date(&q.month, true, today)
            .or_page(&p, "schedules")?
            .first_of_month();
        let link = |d: Date| format!("{base}?view=month&month={}", d.strftime("%Y-%m"));
        let start = monday(m);
        let nav = Nav {
            prev: link(add_days(m, -1).first_of_month()),
            next: link(add_days(m.last_of_month(), 1)),
            today: format!("{base}?view=month"),
            label: m.strftime("%B %Y").to_string(),
        };
        (start, 42, (nav, m))
    } else {
        let w = monday(parse_date(&q.week, false, today).or_page(&p, "schedules")?);
        let link = |d: Date| format!("{base}?week={d}");
        let last = add_days(w, 13);
        let nav = Nav {
            prev: link(add_days(w, -7)),
            next: link(add_days(w, 7)),
            today: base.clone(),
            label: format!("{} – {}", w.strftime("%-d %b"), last.strftime("%-d %b %Y")),
        };
        (w, 14, (nav, w))
    };
    let (nav, anchor) = nav;
    let (from, to) = (day_start(first, &tz), day_start(add_days(first, days), &tz));
    let overrides = store::overrides(&s.db, Some(&id), from.min(now), to.max(now + 1))
        .await
        .or_page(&p, "schedules")?;
    let shifts = rotation::shifts(schedule, &overrides, from, to)
        .map_err(|e| AppError::Internal(e.to_string()))
        .or_page(&p, "schedules")?;
    let (grid, weeks) = if month_view {
        (None, calendar::month(&c, &tz, &shifts, anchor, today))
    } else {
        (
            Some(calendar::grid(
                &c, schedule, &tz, &shifts, first, days, today,
            )),
            Vec::new(),
        )
    };
    let horizon = now.saturating_add(10 * 366 * DAY_MS);
    let mut upcoming = store::overrides(&s.db, Some(&id), now, horizon)
        .await
        .or_page(&p, "schedules")?;
    upcoming.sort_by_key(|o| (o.start, o.created_at));
    let feeds = store::list_feed_tokens(&s.db)
        .await
        .or_page(&p, "schedules")?;
    let mut people: Vec<(String, String)> = c
        .people
        .iter()
        .map(|x| (x.id.clone(), x.name.clone()))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let now_overrides = store::overrides(&s.db, Some(&id), now, now + current::HORIZON_MS)
        .await
        .or_page(&p, "schedules")?;
    Ok(SchedulePage {
        layout: Layout::new(&p, "schedules", schedule.name.clone()),
        id: schedule.id.clone(),
        name: schedule.name.clone(),
        team_id: schedule.team.clone(),
        team: team_name(&c, &schedule.team),
        zone: schedule.time_zone.clone(),
        now: OnCallView::new(&c, &current::on_call(&c, &now_overrides, schedule, now)),
        layers: schedule
            .layers
            .iter()
            .map(|l| LayerView {
                name: l.name.clone(),
                people: names(&c, &l.people),
                shift: shift_text(l.shift.count, l.shift.unit),
                start: l.start.replace('T', " "),
                restrictions: l
                    .restrictions
                    .iter()
                    .map(|r| {
                        let days: Vec<String> = r.days.iter().map(|d| format!("{d:?}")).collect();
                        format!("{} {}–{}", days.join(" "), r.from, r.to)
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            })
            .collect(),
        month_view,
        nav,
        grid,
        weeks,
        overrides: upcoming
            .iter()
            .map(|o| OverrideView {
                id: o.id.clone(),
                person: person_name(&c, &o.person),
                start: local_time(o.start, &schedule.time_zone),
                end: local_time(o.end, &schedule.time_zone),
                replaces: o
                    .replaces
                    .as_deref()
                    .map(|r| person_name(&c, r))
                    .unwrap_or_default(),
                reason: o.reason.clone(),
                created_by: o.created_by.clone(),
            })
            .collect(),
        people,
        can_override: p.is_responder(),
        feeds: visible_feeds(&feeds, &p, FeedScope::Schedule, &id),
    })
}

/// The live feeds of a schedule or person that `p` may see and revoke: their own, or all of
/// them for an admin.
fn visible_feeds(all: &[FeedToken], p: &Principal, scope: FeedScope, id: &str) -> Vec<FeedView> {
    all.iter()
        .filter(|t| t.scope == scope && t.scope_id == id && t.revoked_at.is_none())
        .filter(|t| p.is_admin() || t.created_by == p.name)
        .map(FeedView::new)
        .collect()
}

/// Text, not a number: a bad value should be an HTML page that says so, not a bare 400.
#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    weeks: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "readiness.html")]
struct ReadinessPage {
    layout: Layout,
    weeks: u32,
    from: String,
    errors: usize,
    warnings: usize,
    findings: Vec<Finding>,
    candidates: Vec<crate::alerts::candidates::Candidate>,
}

async fn readiness_page(
    State(s): State<AppState>,
    WebUser(p): WebUser,
    Query(q): Query<AuditQuery>,
) -> Result<ReadinessPage, PageError> {
    let weeks = match q.weeks.trim() {
        "" => 4,
        text => text
            .parse::<u32>()
            .ok()
            .filter(|w| (1..=52).contains(w))
            .ok_or_else(|| AppError::BadRequest("weeks: expected a number from 1 to 52".into()))
            .or_page(&p, "schedules")?,
    };
    let c = s.catalog().await.or_page(&p, "schedules")?;
    let options = Options::weeks(s.clock.now_ms(), weeks, readiness::DEFAULT_MAX_SHARE);
    let (from, to) = options.span();
    let overrides = store::overrides(&s.db, None, from, to)
        .await
        .or_page(&p, "schedules")?;
    let report = readiness::audit(&c, &overrides, &options);
    let candidates = crate::alerts::candidates::load(&s.db, s.clock.now_ms())
        .await
        .or_page(&p, "schedules")?;
    Ok(ReadinessPage {
        candidates,
        layout: Layout::new(&p, "schedules", "Readiness"),
        weeks,
        from: format_ms(report.from),
        errors: report.count(Severity::Error),
        warnings: report.count(Severity::Warning),
        findings: report.findings,
    })
}
