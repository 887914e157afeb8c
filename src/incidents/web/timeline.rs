//! One timeline entry as HTML, the same markup on the incident page and in the live event
//! stream (so an entry that arrives live looks exactly like one that was there on load). The
//! body is the HTML rendered when the entry was written (`incidents::markdown`).

use askama::Template;
use jiff::tz::TimeZone;

use crate::incidents::{Entry, EntryKind};

pub use crate::incidents::markdown::markdown_html;

/// Only http(s) URLs become links or images; anything else stays out of the page.
pub fn web_url(url: Option<&str>) -> Option<String> {
    let u = url?.trim();
    let lower = u.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| u.to_string())
}

/// What a kind of entry is called on the page.
pub fn kind_label(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Declared => "Declared",
        EntryKind::Status => "Status",
        EntryKind::Severity => "Severity",
        EntryKind::Role => "Role",
        EntryKind::Handover => "Handover",
        EntryKind::HandoverPrompt => "Handover prompt",
        EntryKind::Alert => "Alert",
        EntryKind::Page => "Page",
        EntryKind::Ack => "Acknowledged",
        EntryKind::Team => "Team",
        EntryKind::Investigator => "Investigator",
        EntryKind::Service => "Service",
        EntryKind::Note => "Note",
        EntryKind::Finding => "Finding",
        EntryKind::Decision => "Decision",
        EntryKind::Question => "Question",
        EntryKind::Link => "Link",
        EntryKind::Chat => "Chat",
        EntryKind::Update => "Stakeholder update",
        EntryKind::Reminder => "Reminder",
        EntryKind::Summary => "Current understanding",
        EntryKind::Postmortem => "Postmortem",
    }
}

/// `templates/incidents/_entry.html`: one `<li>` of the timeline.
#[derive(Template)]
#[template(path = "incidents/_entry.html")]
pub struct EntryHtml<'a> {
    pub incident: i64,
    pub id: i64,
    pub at: String,
    pub kind: &'static str,
    pub label: &'static str,
    pub actor: &'a str,
    pub body: String,
    pub link: Option<String>,
    pub image: Option<String>,
    pub starred: bool,
    /// Responders get the star / unstar button, which needs the session's CSRF token.
    pub can_act: bool,
    pub csrf: &'a str,
}

/// Who renders: their zone, whether they may act, their CSRF token.
pub struct Renderer<'a> {
    pub incident: i64,
    pub tz: &'a str,
    pub can_act: bool,
    pub csrf: &'a str,
}

/// "Mon 17 Jun 09:00 BST", like `oncall::current::local_time`, with the zone looked up once.
fn at(ms: i64, tz: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%a %-d %b %H:%M %Z")
                .to_string()
        })
        .unwrap_or_else(|_| ms.to_string())
}

impl Renderer<'_> {
    /// Every entry's `<li>`, the zone looked up once for all of them.
    pub fn entries(&self, entries: &[Entry]) -> Vec<String> {
        let tz = TimeZone::get(self.tz).unwrap_or(TimeZone::UTC);
        entries.iter().map(|e| self.entry_in(e, &tz)).collect()
    }

    /// The entry's `<li>`. Rendering our own template into a String cannot fail short of a
    /// bug; the fallback keeps a page up rather than answering 500 for one entry.
    pub fn entry(&self, e: &Entry) -> String {
        self.entry_in(e, &TimeZone::get(self.tz).unwrap_or(TimeZone::UTC))
    }

    fn entry_in(&self, e: &Entry, tz: &TimeZone) -> String {
        let t = EntryHtml {
            incident: self.incident,
            id: e.id,
            at: at(e.at, tz),
            kind: e.kind.as_str(),
            label: kind_label(e.kind),
            actor: &e.actor,
            body: e
                .body_html
                .clone()
                .unwrap_or_else(|| markdown_html(&e.body)),
            link: web_url(e.link_url.as_deref()),
            image: web_url(e.image_url.as_deref()),
            starred: e.starred,
            can_act: self.can_act,
            csrf: self.csrf,
        };
        t.render().unwrap_or_else(|err| {
            tracing::error!(%err, "timeline entry did not render");
            format!(r#"<li id="entry-{}" data-entry="{}"></li>"#, e.id, e.id)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_are_kept() {
        assert_eq!(
            web_url(Some(" https://x.example/a ")),
            Some("https://x.example/a".into())
        );
        assert_eq!(
            web_url(Some("HTTP://x.example")),
            Some("HTTP://x.example".into())
        );
        assert_eq!(web_url(Some("javascript:alert(1)")), None);
        assert_eq!(web_url(Some("data:image/png;base64,xx")), None);
        assert_eq!(web_url(None), None);
    }
}
