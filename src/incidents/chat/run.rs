//! Runs one parsed `/incident` command as the chat user who typed it: finds the incident (named,
//! else bound to the channel), calls the incident command, records the chat message on the
//! timeline, and says what happened. Refusals come back as ephemeral text, never as errors:
//! chat platforms show anything but a 200 as a failure of the integration itself.
//!
//! Who acts: the catalog person whose id, or whose email's local part, is the chat user name
//! (`parse::person_named`); anyone else acts as "<user_name> (via Slack)" with no person, so
//! `me` cannot name them and declaring makes nobody Incident Commander on their behalf.

use crate::catalog::snapshot::Snapshot;
use crate::http::AppState;
use crate::incidents::command::{self, Actor, Ctx, Declaration, NewNote, NewUpdate};
use crate::incidents::{EntryKind, IncidentError, Status, document, reference, store};

use super::parse::{self, Command, Parsed, person_named};
use super::store::{self as bindings, Channel};

/// Who ran the command, where, and what they typed.
#[derive(Clone, Debug)]
pub struct Caller {
    /// slack or mattermost.
    pub platform: &'static str,
    pub team_id: String,
    pub channel_id: String,
    pub user_name: String,
    /// `/incident` (whatever the command is called in that workspace).
    pub command: String,
    pub text: String,
}

impl Caller {
    fn channel(&self) -> Channel<'_> {
        Channel {
            platform: self.platform,
            team_id: &self.team_id,
            channel_id: &self.channel_id,
        }
    }

    /// Escapes text for this platform's reply (Slack's control characters, Mattermost's
    /// Markdown and mentions).
    fn esc(&self, s: &str) -> String {
        match self.platform {
            "slack" => crate::notify::chat::slack_escape(s),
            _ => crate::notify::chat::md_escape(s),
        }
    }

    fn platform_name(&self) -> &'static str {
        match self.platform {
            "slack" => "Slack",
            _ => "Mattermost",
        }
    }
}

/// What to answer, and which incident changed (for the live pages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Seen by the whole channel, or only by the caller.
    pub in_channel: bool,
    pub text: String,
    pub changed: Option<i64>,
}

impl Reply {
    pub fn ephemeral(text: impl Into<String>) -> Self {
        Self {
            in_channel: false,
            text: text.into(),
            changed: None,
        }
    }

    fn changed(id: i64, text: String) -> Self {
        Self {
            in_channel: true,
            text,
            changed: Some(id),
        }
    }
}

/// Runs `caller`'s command at `now`.
pub async fn run(state: &AppState, caller: &Caller, now: i64) -> Reply {
    let parsed = match parse::parse(&caller.text) {
        Ok(p) => p,
        Err(e) => return Reply::ephemeral(e),
    };
    match run_parsed(state, caller, parsed, now).await {
        Ok(reply) => reply,
        Err(IncidentError::NotFound) => Reply::ephemeral("No such incident."),
        Err(IncidentError::Invalid(m) | IncidentError::Conflict(m)) => Reply::ephemeral(m),
        Err(IncidentError::Store(e)) => {
            tracing::error!(error = %e, "chat command failed");
            Reply::ephemeral("Tocsin could not do that (an internal error); try again.")
        }
    }
}

fn actor(snap: &Snapshot, caller: &Caller) -> Actor {
    match person_named(&snap.catalog, &caller.user_name) {
        Some(id) => Actor::person(snap, &id),
        None => Actor {
            name: format!("{} (via {})", caller.user_name, caller.platform_name()),
            person: None,
        },
    }
}

async fn run_parsed(
    state: &AppState,
    caller: &Caller,
    parsed: Parsed,
    now: i64,
) -> Result<Reply, IncidentError> {
    let snap = state.catalog().await?;
    let actor = actor(&snap, caller);
    let ctx = Ctx {
        db: &state.db,
        snap: &snap,
        now,
        actor: &actor,
        base_url: &state.settings.base_url,
    };
    let Parsed { incident, command } = parsed;
    if let Command::Help = command {
        return Ok(Reply::ephemeral(parse::HELP));
    }
    if let Command::Declare {
        title,
        severity,
        services,
    } = command
    {
        let d = Declaration {
            title,
            severity,
            services,
            ..Declaration::default()
        };
        let i = command::declare(&ctx, &d, "chat").await?;
        bind(&ctx, caller, i.id).await?;
        record(&ctx, caller, i.id).await?;
        let text = format!(
            "{} declared: {} ({}). {}\nThis channel now follows {}: `/incident help` for commands.",
            i.reference(),
            caller.esc(&i.title),
            ctx.severity_name(&i.severity),
            ctx.url(i.id),
            i.reference()
        );
        return Ok(Reply::changed(i.id, text));
    }
    let id = match incident {
        Some(id) => id,
        None => bindings::bound(ctx.db, &caller.channel())
            .await?
            .ok_or_else(|| {
                IncidentError::Invalid(
                    "No incident is bound to this channel: name one (`/incident INC-12 status \
                     monitoring`) or bind it with `/incident link INC-12`."
                        .into(),
                )
            })?,
    };
    let r = reference(id);
    let text = match command {
        // Answered above; kept here so the match stays exhaustive without a panic.
        Command::Help | Command::Declare { .. } => return Ok(Reply::ephemeral(parse::HELP)),
        Command::Doc => {
            let full = store::full(ctx.db, id).await?;
            // Reading the document changes nothing, so its chat line is best effort: a
            // closed incident's document is still there to read.
            let recorded = match record(&ctx, caller, id).await {
                Ok(()) => Some(id),
                Err(e) => {
                    tracing::debug!(error = %e, "chat line for doc not recorded");
                    None
                }
            };
            return Ok(Reply {
                changed: recorded,
                ..Reply::ephemeral(doc(&ctx, caller, &full))
            });
        }
        Command::Link => {
            bind(&ctx, caller, id).await?;
            let i = store::get(&mut ctx.db.begin_read().await?, id).await?;
            format!("This channel now follows {r}: {}", caller.esc(&i.title))
        }
        Command::Status { to, note } => {
            let i = command::set_status(&ctx, id, to, &note).await?;
            format!("{r} is now *{}*.", i.status.as_str())
        }
        Command::Resolve(note) => {
            command::set_status(&ctx, id, Status::Resolved, &note).await?;
            format!("{r} is resolved.")
        }
        Command::Severity(s) => {
            let sev = severity_id(&snap, &s)
                .ok_or_else(|| IncidentError::Invalid(format!("unknown severity {s:?}")))?;
            command::set_severity(&ctx, id, &sev).await?;
            format!("{r} is now {}.", ctx.severity_name(&sev))
        }
        Command::Role { role, person } => {
            let who = if person.eq_ignore_ascii_case("me") {
                actor.person.clone().ok_or_else(|| {
                    IncidentError::Invalid(format!(
                        "Tocsin does not know which person you are: no one in the catalog has \
                         the id or email name {:?}.",
                        caller.user_name
                    ))
                })?
            } else {
                person_named(&snap.catalog, &person)
                    .ok_or_else(|| IncidentError::Invalid(format!("unknown person {person:?}")))?
            };
            command::assign(&ctx, id, role, &who, "", None).await?;
            format!("{} is now {} of {r}.", ctx.person_name(&who), role.title())
        }
        Command::Note(body) => {
            let n = NewNote {
                kind: EntryKind::Note,
                body,
                link_url: None,
                image_url: None,
                starred: false,
            };
            command::add_entry(&ctx, id, &n).await?;
            format!("Noted on {r}.")
        }
        Command::Update { impact, actions } => {
            let u = NewUpdate {
                impact,
                actions,
                ..NewUpdate::default()
            };
            let posted = command::post_update(&ctx, id, &u).await?;
            let next = posted.next_update_at.map_or(String::new(), |n| {
                format!(
                    " Next update due {}.",
                    crate::oncall::current::local_time(n, "UTC")
                )
            });
            format!("Stakeholder update posted for {r}.{next}")
        }
    };
    record(&ctx, caller, id).await?;
    Ok(Reply::changed(id, text))
}

/// Binds the caller's channel to incident `id`.
async fn bind(ctx: &Ctx<'_>, caller: &Caller, id: i64) -> Result<(), IncidentError> {
    let mut tx = ctx.db.begin().await?;
    store::get(&mut tx, id).await?;
    bindings::bind(&mut tx, &caller.channel(), id, ctx.now, &ctx.actor.name).await?;
    tx.commit().await?;
    Ok(())
}

/// The chat message itself, on the timeline: what was typed, by whom.
async fn record(ctx: &Ctx<'_>, caller: &Caller, id: i64) -> Result<(), IncidentError> {
    let n = NewNote {
        kind: EntryKind::Chat,
        body: format!(
            "`{} {}`",
            caller.command,
            caller.text.trim().replace('`', "'")
        ),
        link_url: None,
        image_url: None,
        starred: false,
    };
    command::add_entry(ctx, id, &n).await.map(|_| ())
}

/// A severity by id, or by name ignoring case and spaces ("Sev 1", "SEV1").
fn severity_id(snap: &Snapshot, typed: &str) -> Option<String> {
    if snap.severity(typed).is_some() {
        return Some(typed.to_string());
    }
    let squash = |s: &str| s.replace(char::is_whitespace, "").to_ascii_lowercase();
    let want = squash(typed);
    snap.catalog
        .severities
        .iter()
        .find(|s| squash(&s.name) == want || squash(&s.id) == want)
        .map(|s| s.id.clone())
}

/// Longest document sent whole; Slack cuts messages near 4,000 characters.
const DOC_MAX: usize = 3_500;

/// The document's Markdown when it fits a chat message, else its link and the key facts.
fn doc(ctx: &Ctx<'_>, caller: &Caller, full: &crate::incidents::Full) -> String {
    let md = document::markdown(full, &ctx.snap.catalog, "UTC", ctx.now);
    if md.chars().count() <= DOC_MAX {
        return md;
    }
    let i = &full.incident;
    let mut out = format!(
        "{}: {} ({}, {})\n{}",
        i.reference(),
        caller.esc(&i.title),
        ctx.severity_name(&i.severity),
        i.status.as_str(),
        ctx.url(i.id)
    );
    for role in crate::incidents::Role::ALL {
        if let Some(h) = full.holder(role) {
            out.push_str(&format!(
                "\n{}: {}",
                role.title(),
                ctx.person_name(&h.person_id)
            ));
        }
    }
    if !i.summary.is_empty() {
        let summary = crate::notify::chat::truncate(&i.summary, 1_000);
        out.push_str(&format!("\nSummary: {}", caller.esc(&summary)));
    }
    out.push_str("\nThe whole document is on the incident page.");
    out
}
