//! What an incident tells the outside world, and to whom. The composing is pure: an
//! [`Announcement`] (one event of one incident) becomes a Slack or Mattermost webhook body,
//! a generic webhook body or an email. [`queue`] expands an audience (the incident's chat
//! channel, its subscribers, named people) into outbox rows inside the caller's transaction.
//!
//! Everything people typed (titles, notes) is escaped per dialect, as for alert pages, so an
//! incident title cannot mention `@channel` or forge a link.

use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::db::{StoreError, Tx};
use crate::notify::chat::{md_escape, no_mentions, slack_escape, truncate};

use super::store::messages::{self, NewMessage};
use super::{Incident, Subscriber};

/// One event of one incident, to announce.
#[derive(Clone, Debug)]
pub struct Announcement<'a> {
    pub incident: &'a Incident,
    /// Which event: declared, status, severity, role, update, resolved, reminder, handover…
    pub event: &'a str,
    /// "Sev 0".
    pub severity_name: String,
    /// One line, plain text: "Foo Bar is now Incident Commander".
    pub headline: String,
    /// More lines, plain text (an update's impact and actions).
    pub details: Vec<(String, String)>,
    /// The incident's page.
    pub url: String,
    /// Distinguishes two announcements of the same event (the timeline entry's id).
    pub key: String,
}

fn title_line(a: &Announcement) -> String {
    format!(
        "{} {}: {}",
        a.incident.reference(),
        a.severity_name,
        truncate(&a.incident.title, 150)
    )
}

/// The Slack incoming-webhook body: Block Kit with a `text` fallback.
pub fn slack(a: &Announcement) -> Value {
    let mut text = format!(
        "*<{}|{}>*\n{}",
        a.url.replace('|', "%7C").replace('>', "%3E"),
        slack_escape(&title_line(a)).replace('|', "¦"),
        slack_escape(&a.headline)
    );
    for (k, v) in &a.details {
        text.push_str(&format!("\n*{}:* {}", slack_escape(k), slack_escape(v)));
    }
    json!({
        "text": slack_escape(&format!("{} — {}", title_line(a), a.headline)),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, 3000)}}],
    })
}

/// The Mattermost incoming-webhook body: Markdown `text` (it ignores Slack's blocks).
pub fn mattermost(a: &Announcement) -> Value {
    let mut text = format!(
        "**[{}]({})**\n{}",
        md_escape(&title_line(a)),
        a.url.replace(' ', "%20").replace(')', "%29"),
        md_escape(&a.headline)
    );
    for (k, v) in &a.details {
        text.push_str(&format!("\n**{}:** {}", md_escape(k), md_escape(v)));
    }
    json!({ "text": text })
}

/// The generic webhook body: the event and the incident's fields, for machines.
pub fn webhook(a: &Announcement) -> Value {
    let i = a.incident;
    json!({
        "event": format!("incident.{}", a.event),
        "incident": {
            "id": i.id,
            "reference": i.reference(),
            "title": i.title,
            "status": i.status.as_str(),
            "severity": i.severity,
            "declared_at": i.declared_at,
            "url": a.url,
        },
        "headline": a.headline,
        "details": a.details.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
    })
}

/// The email: (subject, plain text).
pub fn email(a: &Announcement) -> (String, String) {
    let subject = no_mentions(&format!("[{}] {}", title_line(a), a.headline));
    let mut body = format!("{}\n\n{}\n", title_line(a), a.headline);
    for (k, v) in &a.details {
        body.push_str(&format!("\n{k}: {v}"));
    }
    body.push_str(&format!(
        "\n\nStatus: {}\nIncident page: {}\n",
        a.incident.status.as_str(),
        a.url
    ));
    (truncate(&subject, 200), body)
}

/// Where a message goes: a channel and its address.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Destination {
    /// email, webhook, slack or mattermost.
    pub channel: String,
    pub target: String,
}

/// The destinations of a person: their chat and email contact methods, and their catalog
/// email (a stakeholder message is never delayed, so notification rules do not apply).
pub async fn person_destinations(
    tx: &mut Tx,
    catalog: &Catalog,
    person: &str,
) -> Result<Vec<Destination>, StoreError> {
    let mut out = Vec::new();
    for (kind, target) in crate::notify::store::targets_of(tx, person).await? {
        out.push(Destination {
            channel: kind,
            target,
        });
    }
    if let Some(p) = catalog.person(person).filter(|p| !p.email.is_empty()) {
        out.push(Destination {
            channel: "email".into(),
            target: p.email.clone(),
        });
    }
    Ok(out)
}

/// Expands subscribers into destinations: people through their own, teams through each
/// member's, addresses as they are. Each destination once.
pub async fn subscriber_destinations(
    tx: &mut Tx,
    catalog: &Catalog,
    subscribers: &[Subscriber],
) -> Result<Vec<Destination>, StoreError> {
    let mut out = Vec::new();
    for s in subscribers {
        match s.kind.as_str() {
            "person" => out.extend(person_destinations(tx, catalog, &s.target).await?),
            "team" => {
                let members: Vec<String> = catalog
                    .people
                    .iter()
                    .filter(|p| p.teams.contains(&s.target))
                    .map(|p| p.id.clone())
                    .collect();
                for m in members {
                    out.extend(person_destinations(tx, catalog, &m).await?);
                }
            }
            channel => out.push(Destination {
                channel: channel.into(),
                target: s.target.clone(),
            }),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The incident's chat channel, if it has one.
pub fn channel_of(i: &Incident) -> Option<Destination> {
    match (i.channel_kind.as_deref(), i.channel_url.as_deref()) {
        (Some(kind), Some(url)) if !url.is_empty() => Some(Destination {
            channel: kind.into(),
            target: url.into(),
        }),
        _ => None,
    }
}

/// Queues `a` to each destination, due at `now`; how many rows were new.
pub async fn queue(
    tx: &mut Tx,
    a: &Announcement<'_>,
    to: &[Destination],
    now: i64,
) -> Result<usize, StoreError> {
    let mut queued = 0;
    for d in to {
        let (subject, body) = match d.channel.as_str() {
            "slack" => (String::new(), slack(a).to_string()),
            "mattermost" => (String::new(), mattermost(a).to_string()),
            "webhook" => (String::new(), webhook(a).to_string()),
            _ => email(a),
        };
        let key = format!(
            "incident:{}:{}:{}:{}:{}",
            a.incident.id, a.event, a.key, d.channel, d.target
        );
        let m = NewMessage {
            key: &key,
            channel: &d.channel,
            target: &d.target,
            subject: &subject,
            body: &body,
            created_at: now,
            send_at: now,
        };
        if messages::insert(tx, a.incident.id, &m).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incidents::Status;

    fn incident() -> Incident {
        Incident {
            id: 7,
            title: "Checkout <!channel> down @all".into(),
            summary: String::new(),
            status: Status::Investigating,
            severity: "sev0".into(),
            source: "web".into(),
            declared_at: 0,
            declared_by: "Foo Bar".into(),
            started_at: 0,
            acknowledged_at: None,
            mitigated_at: None,
            resolved_at: None,
            closed_at: None,
            channel_kind: None,
            channel_url: None,
            last_update_at: None,
            update_due_at: None,
            lapses: 0,
            updated_at: 0,
        }
    }

    fn announcement(i: &Incident) -> Announcement<'_> {
        Announcement {
            incident: i,
            event: "declared",
            severity_name: "Sev 0".into(),
            headline: "Declared by Foo Bar".into(),
            details: vec![("Impact".into(), "Checkout *fails*".into())],
            url: "http://tocsin.test/incidents/7".into(),
            key: "1".into(),
        }
    }

    #[test]
    fn chat_bodies_escape_what_people_typed() {
        let i = incident();
        let s = slack(&announcement(&i)).to_string();
        assert!(!s.contains("<!channel>"), "{s}");
        assert!(s.contains("INC-7"), "{s}");
        let m = mattermost(&announcement(&i))["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(!m.contains("@all"), "{m}");
        assert!(m.contains("\\*fails\\*"), "{m}");
        let w = webhook(&announcement(&i));
        assert_eq!(w["event"], "incident.declared");
        assert_eq!(w["incident"]["reference"], "INC-7");
        let (subject, body) = email(&announcement(&i));
        assert!(subject.starts_with("[INC-7"), "{subject}");
        assert!(body.contains("Impact: Checkout *fails*"), "{body}");
    }
}
