//! `tocsin postmortem draft | list | show | export | write | reviewer | submit | approve |
//! publish | action`, straight against the database through the same postmortem commands as the API
//! and the web pages. Refusals are one line on standard error: exit status 2 for a request
//! wrong in itself (unknown person, bad type), 1 for one the postmortem's state refuses.

use clap::Subcommand;

use crate::catalog::snapshot::Snapshot;
use crate::clock::format_ms;
use crate::db::Db;
use crate::incidents::command::Ctx;
use crate::incidents::store as istore;
use crate::postmortems::api::{flags_of, people_names};
use crate::postmortems::command::{self, ActionInput};
use crate::postmortems::store::{self, library::Search};
use crate::postmortems::template::Template;
use crate::postmortems::{PostmortemError, render, workflow};

use super::DbArgs;
use super::incident::{Refused, actor, reference, usage};

#[derive(Subcommand, Debug)]
pub enum PostmortemAction {
    /// Draft the postmortem of a resolved incident from the template.
    Draft {
        incident: String,
        #[arg(long = "as")]
        person: Option<String>,
    },
    /// Postmortems, newest incident first; WORDS search their text.
    List {
        words: Vec<String>,
        /// draft, in_review or published.
        #[arg(long)]
        status: Option<String>,
    },
    /// Status, what review still needs, and blaming language found.
    Show { incident: String },
    /// The postmortem as Markdown.
    Export {
        incident: String,
        #[arg(long, default_value = "UTC")]
        tz: String,
    },
    /// Replace a section's text with Markdown read from standard input (or --file).
    Write {
        incident: String,
        /// The section's key (people, summary, problem, impact, lessons…).
        section: String,
        #[arg(long)]
        file: Option<String>,
        #[arg(long = "as")]
        person: Option<String>,
    },
    /// Name PERSON as a reviewer.
    Reviewer {
        incident: String,
        person: String,
        #[arg(long = "as")]
        as_person: Option<String>,
    },
    /// Submit for review.
    Submit {
        incident: String,
        #[arg(long = "as")]
        person: Option<String>,
    },
    /// Approve as a named reviewer (--as is required: approval is personal).
    Approve {
        incident: String,
        #[arg(long = "as")]
        person: String,
    },
    /// Publish (every reviewer approved); the incident closes.
    Publish {
        incident: String,
        #[arg(long = "as")]
        person: String,
    },
    /// Add an action item.
    Action {
        incident: String,
        #[arg(long)]
        title: String,
        /// prevent, mitigate, detect, automate or process.
        #[arg(long = "type")]
        kind: String,
        /// A person id.
        #[arg(long)]
        owner: String,
        /// Due date, YYYY-MM-DD (UTC midnight).
        #[arg(long)]
        due: Option<String>,
        #[arg(long = "as")]
        person: Option<String>,
    },
}

impl From<PostmortemError> for Refused {
    fn from(e: PostmortemError) -> Self {
        match e {
            PostmortemError::NotFound => Refused("no such postmortem".into(), 1),
            PostmortemError::Invalid(m) => Refused(m, 2),
            PostmortemError::Conflict(m) | PostmortemError::Forbidden(m) => Refused(m, 1),
            PostmortemError::Store(s) => Refused(format!("database: {s}"), 1),
        }
    }
}

impl From<crate::db::StoreError> for Refused {
    fn from(e: crate::db::StoreError) -> Self {
        PostmortemError::from(e).into()
    }
}

pub async fn run(action: PostmortemAction, args: &DbArgs) -> anyhow::Result<i32> {
    let settings = args.settings()?;
    let template = settings.template().map_err(anyhow::Error::msg)?;
    let db = crate::app::open_db(&settings.database_url).await?;
    let snap = Snapshot::new(crate::catalog::store::load(&db).await?);
    match dispatch(action, &db, &snap, &settings.public_url(), &template).await {
        Ok(()) => Ok(0),
        Err(Refused(m, code)) => {
            eprintln!("error: {m}");
            Ok(code)
        }
    }
}

fn due_date(s: &str) -> Result<i64, Refused> {
    let d: jiff::civil::Date = s
        .parse()
        .map_err(|_| usage(format!("--due {s:?}: use YYYY-MM-DD")))?;
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| usage(format!("--due {s:?}: {e}")))
}

async fn dispatch(
    action: PostmortemAction,
    db: &Db,
    snap: &Snapshot,
    base_url: &str,
    template: &Template,
) -> Result<(), Refused> {
    let now = jiff::Timestamp::now().as_millisecond();
    let ctx = |actor| Ctx {
        db,
        snap,
        now,
        actor,
        base_url,
    };
    let done = |id: i64, what: &str| println!("INC-{id}: postmortem {what}");
    match action {
        PostmortemAction::Draft { incident, person } => {
            let id = reference(&incident)?;
            let a = actor(snap, person.as_deref())?;
            let pm = command::draft_incident(&ctx(&a), id, template).await?;
            done(id, "drafted");
            let missing = workflow::missing(&pm);
            if !missing.is_empty() {
                println!("to write before review: {}", missing.join(", "));
            }
        }
        PostmortemAction::List { words, status } => {
            let search = Search {
                words,
                status,
                limit: 500,
                ..Search::default()
            };
            let mut tx = db.begin_read().await?;
            for h in store::library::search(&mut tx, &search).await? {
                println!(
                    "INC-{:<5} {:<10} {:<6} {}  {}",
                    h.incident_id,
                    h.status,
                    h.severity,
                    format_ms(h.started_at),
                    h.title
                );
            }
        }
        PostmortemAction::Show { incident } => {
            let id = reference(&incident)?;
            let pm = store::full(db, id).await?;
            let p = &pm.postmortem;
            println!("INC-{id}: {}", p.title);
            println!("status: {}", p.status.label());
            println!(
                "owner: {}",
                if p.owner.is_empty() { "none" } else { &p.owner }
            );
            if let Some(d) = p.due_at {
                println!("due: {}", format_ms(d));
            }
            for r in &pm.reviewers {
                let state = if r.approved_at.is_some() {
                    "approved"
                } else {
                    "waiting"
                };
                println!("reviewer: {} ({state})", r.person_id);
            }
            println!("action items: {}", pm.actions.len());
            let missing = workflow::missing(&pm);
            if !missing.is_empty() {
                println!("required and empty: {}", missing.join(", "));
            }
            for s in flags_of(&pm, &people_names(snap)) {
                for f in s.flags {
                    println!(
                        "[{}] “{}”: {}. {}",
                        s.section, f.phrase, f.why, f.suggestion
                    );
                }
            }
        }
        PostmortemAction::Export { incident, tz } => {
            if jiff::tz::TimeZone::get(&tz).is_err() {
                return Err(usage(format!("unknown time zone {tz:?}")));
            }
            let id = reference(&incident)?;
            let pm = store::full(db, id).await?;
            let full = istore::full(db, id).await?;
            print!("{}", render::markdown(&pm, &full, &snap.catalog, &tz, now));
        }
        PostmortemAction::Write {
            incident,
            section,
            file,
            person,
        } => {
            let id = reference(&incident)?;
            let a = actor(snap, person.as_deref())?;
            let text = match file {
                Some(f) => std::fs::read_to_string(&f)
                    .map_err(|e| usage(format!("cannot read {f}: {e}")))?,
                None => std::io::read_to_string(std::io::stdin())
                    .map_err(|e| usage(format!("cannot read standard input: {e}")))?,
            };
            let s = command::edit_section(&ctx(&a), id, &section, &text).await?;
            done(id, &format!("section {:?} saved", s.title));
            for f in crate::postmortems::blameless::check(&s.body, &people_names(snap)) {
                println!(
                    "blameless check: “{}”: {}. {}",
                    f.phrase, f.why, f.suggestion
                );
            }
        }
        PostmortemAction::Reviewer {
            incident,
            person,
            as_person,
        } => {
            let id = reference(&incident)?;
            let a = actor(snap, as_person.as_deref())?;
            command::add_reviewer(&ctx(&a), id, &person).await?;
            done(id, &format!("reviewer {person} named"));
        }
        PostmortemAction::Submit { incident, person } => {
            let id = reference(&incident)?;
            let a = actor(snap, person.as_deref())?;
            command::submit(&ctx(&a), id).await?;
            done(id, "submitted for review");
        }
        PostmortemAction::Approve { incident, person } => {
            let id = reference(&incident)?;
            let a = actor(snap, Some(&person))?;
            command::approve(&ctx(&a), id).await?;
            done(id, &format!("approved by {person}"));
        }
        PostmortemAction::Publish { incident, person } => {
            let id = reference(&incident)?;
            let a = actor(snap, Some(&person))?;
            command::publish(&ctx(&a), id, false).await?;
            done(id, "published; the incident is closed");
        }
        PostmortemAction::Action {
            incident,
            title,
            kind,
            owner,
            due,
            person,
        } => {
            let id = reference(&incident)?;
            let a = actor(snap, person.as_deref())?;
            let input = ActionInput {
                title: Some(title),
                kind: Some(kind),
                owner: Some(owner),
                due_at: due.as_deref().map(due_date).transpose()?,
                ..ActionInput::default()
            };
            let item = command::add_action(&ctx(&a), id, &input).await?;
            println!("INC-{id}: action item {} added", item.id);
        }
    }
    Ok(())
}
