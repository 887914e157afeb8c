//! `tocsin incident declare | list | show | doc | status | role | note | update`, straight
//! against the database like the other admin commands, through the same incident commands
//! as the API and the web pages (so the timeline, messages and cadence are the same). Open
//! incident pages catch up by their periodic check: the CLI has no live channel to poke.
//! Refusals are one line on standard error: exit status 2 for a request that is wrong in
//! itself (unknown person, bad status), 1 for one the incident's state refuses or a missing
//! incident.

use std::fmt::Write;

use clap::Subcommand;

use crate::catalog::Catalog;
use crate::catalog::snapshot::Snapshot;
use crate::clock::format_ms;
use crate::db::Db;
use crate::incidents::command::{self, Actor, Ctx, Declaration, NewNote, NewUpdate};
use crate::incidents::{EntryKind, IncidentError, Role, Status, document, parse_reference, store};

use crate::incidents::Full;
use crate::oncall::current::person_name;

use super::DbArgs;

#[derive(Subcommand, Debug)]
pub enum IncidentAction {
    /// Declare an incident; prints its reference.
    Declare {
        #[arg(long)]
        title: String,
        /// A severity level id (sev0…); omitted: Tocsin's suggestion.
        #[arg(long)]
        severity: Option<String>,
        /// An affected service (repeat for more).
        #[arg(long = "service")]
        services: Vec<String>,
        /// An alert to attach (repeat for more).
        #[arg(long = "alert")]
        alerts: Vec<String>,
        /// Act as this catalog person (they count as acknowledging it).
        #[arg(long = "as")]
        person: Option<String>,
    },
    /// Open incidents (with --all, every incident), newest first.
    List {
        #[arg(long)]
        all: bool,
    },
    /// An incident's state, roles and latest timeline entries.
    Show { id: String },
    /// The incident document as Markdown.
    Doc {
        id: String,
        /// The time zone times are shown in.
        #[arg(long, default_value = "UTC")]
        tz: String,
    },
    /// Move an incident to investigating, identified, monitoring or resolved.
    Status {
        id: String,
        status: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long = "as")]
        person: Option<String>,
    },
    /// Give a role (ic, ol, cl) to PERSON; the previous holder steps down.
    Role {
        id: String,
        role: String,
        person: String,
        /// The handover note for the new holder.
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long = "as")]
        as_person: Option<String>,
    },
    /// Add a timeline entry: note, finding, decision, question, link or chat.
    Note {
        id: String,
        text: String,
        #[arg(long, default_value = "note")]
        kind: String,
        #[arg(long = "as")]
        person: Option<String>,
    },
    /// Post a stakeholder update; the update cadence starts again.
    Update {
        id: String,
        #[arg(long, default_value = "")]
        impact: String,
        #[arg(long, default_value = "")]
        actions: String,
        /// Also move the incident to this status.
        #[arg(long)]
        status: Option<String>,
        #[arg(long = "as")]
        person: Option<String>,
    },
}

/// A refusal: the message and the exit status (also `tocsin postmortem`'s).
pub(super) struct Refused(pub(super) String, pub(super) i32);

impl From<IncidentError> for Refused {
    fn from(e: IncidentError) -> Self {
        match e {
            IncidentError::NotFound => Refused("no such incident".into(), 1),
            IncidentError::Invalid(m) => Refused(m, 2),
            IncidentError::Conflict(m) => Refused(m, 1),
            IncidentError::Store(s) => Refused(format!("database: {s}"), 1),
        }
    }
}

pub(super) fn usage(m: impl Into<String>) -> Refused {
    Refused(m.into(), 2)
}

pub async fn run(action: IncidentAction, args: &DbArgs) -> anyhow::Result<i32> {
    let settings = args.settings()?;
    let db = crate::app::open_db(&settings.database_url).await?;
    let snap = Snapshot::new(crate::catalog::store::load(&db).await?);
    match dispatch(action, &db, &snap, &settings.public_url()).await {
        Ok(()) => Ok(0),
        Err(Refused(m, code)) => {
            eprintln!("error: {m}");
            Ok(code)
        }
    }
}

pub(super) fn reference(s: &str) -> Result<i64, Refused> {
    parse_reference(s).ok_or_else(|| usage(format!("{s:?} is not an incident (try INC-12 or 12)")))
}

/// The actor: `--as PERSON` (who must be in the catalog), else the operator's login name.
pub(super) fn actor(snap: &Snapshot, person: Option<&str>) -> Result<Actor, Refused> {
    match person {
        Some(p) if snap.person(p).is_some() => Ok(Actor::person(snap, p)),
        Some(p) => Err(usage(format!("unknown person {p:?}"))),
        None => Ok(Actor {
            name: format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            ),
            person: None,
        }),
    }
}

async fn dispatch(
    action: IncidentAction,
    db: &Db,
    snap: &Snapshot,
    base_url: &str,
) -> Result<(), Refused> {
    let now = jiff::Timestamp::now().as_millisecond();
    let ctx = |actor| Ctx {
        db,
        snap,
        now,
        actor,
        base_url,
    };
    match action {
        IncidentAction::Declare {
            title,
            severity,
            services,
            alerts,
            person,
        } => {
            let actor = actor(snap, person.as_deref())?;
            let d = Declaration {
                title,
                severity,
                services,
                alerts,
                ..Declaration::default()
            };
            let i = command::declare(&ctx(&actor), &d, "cli").await?;
            println!("{} declared: {} ({})", i.reference(), i.title, i.severity);
        }
        IncidentAction::List { all } => {
            let mut tx = db.begin_read().await.map_err(IncidentError::from)?;
            let f = store::Filter {
                open: !all,
                limit: 500,
                ..store::Filter::default()
            };
            for i in store::list(&mut tx, &f)
                .await
                .map_err(IncidentError::from)?
            {
                println!(
                    "{:<8} {:<13} {:<6} {}  {}",
                    i.reference(),
                    i.status.as_str(),
                    i.severity,
                    format_ms(i.declared_at),
                    i.title
                );
            }
        }
        IncidentAction::Show { id } => {
            let full = store::full(db, reference(&id)?)
                .await
                .map_err(IncidentError::from)?;
            print!("{}", render(&full, &snap.catalog));
        }
        IncidentAction::Doc { id, tz } => {
            if jiff::tz::TimeZone::get(&tz).is_err() {
                return Err(usage(format!("unknown time zone {tz:?}")));
            }
            let full = store::full(db, reference(&id)?)
                .await
                .map_err(IncidentError::from)?;
            print!("{}", document::markdown(&full, &snap.catalog, &tz, now));
        }
        IncidentAction::Status {
            id,
            status,
            note,
            person,
        } => {
            let id = reference(&id)?;
            let to = Status::parse(&status).ok_or_else(|| {
                usage(format!(
                    "status must be investigating, identified, monitoring or resolved, not {status:?}"
                ))
            })?;
            let actor = actor(snap, person.as_deref())?;
            let i = command::set_status(&ctx(&actor), id, to, &note).await?;
            println!("{} is {}", i.reference(), i.status.as_str());
        }
        IncidentAction::Role {
            id,
            role,
            person,
            note,
            as_person,
        } => {
            let id = reference(&id)?;
            let role = Role::parse(&role)
                .ok_or_else(|| usage(format!("role must be ic, ol or cl, not {role:?}")))?;
            let actor = actor(snap, as_person.as_deref())?;
            let i = command::assign(&ctx(&actor), id, role, &person, &note, None).await?;
            let name = person_name(&snap.catalog, &person);
            println!("{}: {name} is {}", i.reference(), role.title());
        }
        IncidentAction::Note {
            id,
            text,
            kind,
            person,
        } => {
            let id = reference(&id)?;
            let kind = EntryKind::parse(&kind)
                .filter(|k| k.is_written())
                .ok_or_else(|| {
                    usage(format!(
                        "--kind must be note, finding, decision, question, link or chat, not {kind:?}"
                    ))
                })?;
            let actor = actor(snap, person.as_deref())?;
            let n = NewNote {
                kind,
                body: text,
                link_url: None,
                image_url: None,
                starred: false,
            };
            let e = command::add_entry(&ctx(&actor), id, &n).await?;
            println!("{} entry {} added", kind.as_str(), e.id);
        }
        IncidentAction::Update {
            id,
            impact,
            actions,
            status,
            person,
        } => {
            let id = reference(&id)?;
            let status = match status.as_deref() {
                None => None,
                Some(s) => {
                    Some(Status::parse(s).ok_or_else(|| usage(format!("unknown status {s:?}")))?)
                }
            };
            let actor = actor(snap, person.as_deref())?;
            let u = NewUpdate {
                status,
                impact,
                actions,
                next_update_minutes: None,
            };
            let posted = command::post_update(&ctx(&actor), id, &u).await?;
            let next = posted
                .next_update_at
                .map_or_else(|| "none".to_string(), format_ms);
            println!("update posted; next update due {next}");
        }
    }
    Ok(())
}

/// `show`: an incident at a glance for a terminal (the document is `doc`): its state, who
/// holds each role, the latest timeline entries. Times in UTC.
/// Timeline entries shown, newest last.
const LATEST: usize = 15;

fn render(f: &Full, c: &Catalog) -> String {
    let i = &f.incident;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", i.reference(), i.title);
    let sev = c
        .severity(&i.severity)
        .map_or_else(|| i.severity.clone(), |s| s.name.clone());
    let _ = writeln!(out, "status:    {}", i.status.as_str());
    let _ = writeln!(out, "severity:  {sev}");
    let _ = writeln!(
        out,
        "declared:  {} by {} (via {})",
        format_ms(i.declared_at),
        i.declared_by,
        i.source
    );
    if let Some(due) = i.update_due_at {
        let _ = writeln!(out, "update due {} ({} lapses)", format_ms(due), i.lapses);
    }
    if !f.services.is_empty() {
        let _ = writeln!(out, "services:  {}", f.services.join(", "));
    }
    if !f.alerts.is_empty() {
        let _ = writeln!(out, "alerts:    {}", f.alerts.join(", "));
    }
    for role in Role::ALL {
        let who = f
            .holder(role)
            .map_or_else(|| "(vacant)".to_string(), |h| person_name(c, &h.person_id));
        let _ = writeln!(out, "{:<20} {who}", format!("{}:", role.title()));
    }
    out.push_str("\ntimeline:\n");
    let skip = f.timeline.len().saturating_sub(LATEST);
    for e in &f.timeline[skip..] {
        let line = e.body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let _ = writeln!(
            out,
            "  {}  {:<15} {:<12} {line}",
            format_ms(e.at),
            e.kind.as_str(),
            e.actor
        );
    }
    out
}
