//! The `/incident` command language, parsed from the `text` a chat platform sends (pure).
//!
//! `[INC-12] <command> [INC-12] <arguments>`: an incident reference (`INC-12` or `#12`) may
//! come first or right after the command; without one the command acts on the incident bound
//! to the channel. Free text (notes, updates, titles) keeps its line breaks.

use crate::catalog::Catalog;
use crate::incidents::{Role, Status, parse_reference};

/// One parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Declare {
        title: String,
        severity: Option<String>,
        services: Vec<String>,
    },
    Status {
        to: Status,
        note: String,
    },
    Severity(String),
    Role {
        role: Role,
        /// A person as typed: `me`, an id, a chat user name (see [`person_named`]).
        person: String,
    },
    Note(String),
    Update {
        impact: String,
        actions: String,
    },
    Resolve(String),
    Doc,
    /// Binds the channel to the named incident.
    Link,
    Help,
}

/// A command and the incident it names, if it names one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub incident: Option<i64>,
    pub command: Command,
}

pub const HELP: &str =
    "`/incident` commands (name an incident with `INC-12` first, else the channel's incident):
• `declare <title> [--sev sev0] [--service id]`: declare an incident bound to this channel
• `status investigating|identified|monitoring|resolved [note]`
• `sev <severity id>`
• `ic|ol|cl <person|me>`: assign Incident Commander, Ops Lead, Communications Lead
• `note <markdown>`: add a note to the timeline
• `update <impact> actions: <what we are doing>`: post a stakeholder update
• `resolve [note]`
• `doc`: the incident document
• `link INC-12`: bind this channel to an incident
• `help`";

/// The first word and the rest (leading whitespace dropped, inner line breaks kept).
fn first_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// An explicit reference: `INC-12` or `#12` (a bare number is not, so it is never taken for
/// an argument).
fn reference(word: &str) -> Option<i64> {
    let explicit = word.starts_with('#')
        || word
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("inc-"));
    explicit.then(|| parse_reference(word)).flatten()
}

fn usage(what: &str) -> String {
    format!("usage: `/incident {what}`")
}

/// Parses the text after `/incident`.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let (mut word, mut rest) = first_word(text);
    let mut incident = reference(word);
    if incident.is_some() {
        (word, rest) = first_word(rest);
    }
    let name = word.to_ascii_lowercase();
    if incident.is_none() && name != "declare" {
        let (next, after) = first_word(rest);
        if let Some(id) = reference(next) {
            incident = Some(id);
            rest = after;
        }
    }
    let rest = rest.trim();
    let command = match name.as_str() {
        "" | "help" => Command::Help,
        "declare" => declare(rest)?,
        "status" => {
            let (s, note) = first_word(rest);
            let to = Status::parse(&s.to_ascii_lowercase()).ok_or_else(|| {
                format!(
                    "{}; the status is one of investigating, identified, monitoring, resolved",
                    usage("status <status> [note]")
                )
            })?;
            Command::Status {
                to,
                note: note.trim().to_string(),
            }
        }
        "sev" | "severity" => match first_word(rest) {
            ("", _) => return Err(usage("sev <severity id>")),
            (s, _) => Command::Severity(s.to_string()),
        },
        "note" if rest.is_empty() => return Err(usage("note <text>")),
        "note" => Command::Note(rest.to_string()),
        "update" => {
            let (impact, actions) = split_update(rest);
            if impact.is_empty() && actions.is_empty() {
                return Err(usage("update <impact> actions: <what we are doing>"));
            }
            Command::Update { impact, actions }
        }
        "resolve" => Command::Resolve(rest.to_string()),
        "doc" | "document" => Command::Doc,
        "link" if incident.is_none() => return Err(usage("link INC-12")),
        "link" => Command::Link,
        other => match Role::parse(other) {
            Some(role) => match first_word(rest) {
                ("", _) => return Err(usage(&format!("{other} <person|me>"))),
                (p, _) => Command::Role {
                    role,
                    person: p.trim_start_matches('@').to_string(),
                },
            },
            None => {
                return Err(format!(
                    "unknown command `{}`; try `/incident help`",
                    crate::notify::chat::truncate(other, 40)
                ));
            }
        },
    };
    Ok(Parsed { incident, command })
}

/// `declare <title> [--sev X] [--service Y]…`: flags anywhere, the other words the title.
fn declare(rest: &str) -> Result<Command, String> {
    let mut title = Vec::new();
    let mut severity = None;
    let mut services = Vec::new();
    let mut words = rest.split_whitespace();
    while let Some(w) = words.next() {
        // `--sev sev0` or `--sev=sev0`.
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (w, None),
        };
        let mut value = |what: &str| {
            inline
                .or_else(|| words.next())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("{flag} needs {what}"))
        };
        match flag {
            "--sev" | "--severity" => severity = Some(value("a severity id")?),
            "--service" => services.push(value("a service id")?),
            _ => title.push(w),
        }
    }
    if title.is_empty() {
        return Err(usage("declare <title> [--sev sev0] [--service id]"));
    }
    Ok(Command::Declare {
        title: title.join(" "),
        severity,
        services,
    })
}

/// Splits an update's text: `actions:` (or `doing:`) starts what we are doing, `impact:` may
/// label the impact, and unlabelled text is the impact. Labels are case-insensitive.
pub fn split_update(text: &str) -> (String, String) {
    let lower = text.to_ascii_lowercase();
    let mut marks: Vec<(usize, usize, bool)> = Vec::new();
    for (label, is_actions) in [("impact:", false), ("actions:", true), ("doing:", true)] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(label).map(|i| i + from) {
            let at_word = lower[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            if at_word {
                marks.push((i, i + label.len(), is_actions));
            }
            from = i + label.len();
        }
    }
    marks.sort_unstable();
    let (mut impact, mut actions) = (Vec::new(), Vec::new());
    let lead = &text[..marks.first().map_or(text.len(), |m| m.0)];
    impact.push(lead);
    for (n, &(_, end, is_actions)) in marks.iter().enumerate() {
        let stop = marks.get(n + 1).map_or(text.len(), |m| m.0);
        let part = &text[end..stop];
        if is_actions {
            actions.push(part);
        } else {
            impact.push(part);
        }
    }
    let join = |parts: Vec<&str>| {
        parts
            .iter()
            .map(|p| p.trim().trim_end_matches(['|', ';']).trim())
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    (join(impact), join(actions))
}

/// The catalog person a chat user (or a name typed in a command) stands for: the person whose
/// id is the name, else whose email's local part is the name (Slack and Mattermost user names
/// are usually that: `jon.doe`), ignoring case. None when nobody matches.
pub fn person_named(catalog: &Catalog, name: &str) -> Option<String> {
    let name = name.trim().trim_start_matches('@');
    if name.is_empty() {
        return None;
    }
    let people = &catalog.people;
    people
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(name))
        .or_else(|| {
            people.iter().find(|p| {
                p.email
                    .split_once('@')
                    .is_some_and(|(local, _)| local.eq_ignore_ascii_case(name))
            })
        })
        .map(|p| p.id.clone())
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
