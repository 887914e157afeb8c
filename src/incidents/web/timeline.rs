//! One timeline entry as HTML, the same markup on the incident page and in the live event
//! stream (so an entry that arrives live looks exactly like one that was there on load), and
//! the Markdown renderer for what people write. Everything people write is sanitised, and
//! Markdown images are dropped: an image loads only from the entry's own http(s) image URL,
//! without a referrer, so an entry cannot make every reader's browser call a tracker.

use askama::Template;

use crate::incidents::{Entry, EntryKind};
use crate::oncall::current::local_time;

/// Markdown written by people or by Tocsin, as safe HTML: no images, no scripts, links that
/// open without telling the target where they came from.
pub fn markdown_html(md: &str) -> String {
    let options =
        pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH;
    let parser = pulldown_cmark::Parser::new_ext(md, options);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::Builder::default()
        .rm_tags(["img"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&html)
        .to_string()
}

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

impl Renderer<'_> {
    /// The entry's `<li>`. Rendering our own template into a String cannot fail short of a
    /// bug; the fallback keeps a page up rather than answering 500 for one entry.
    pub fn entry(&self, e: &Entry) -> String {
        let t = EntryHtml {
            incident: self.incident,
            id: e.id,
            at: local_time(e.at, self.tz),
            kind: e.kind.as_str(),
            label: kind_label(e.kind),
            actor: &e.actor,
            body: markdown_html(&e.body),
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
    fn markdown_is_sanitised_and_images_dropped() {
        let html = markdown_html(
            "**bold** <script>alert(1)</script> ![x](http://tracker.example/p.gif) \
             [a](javascript:alert(1)) [b](https://ok.example/)",
        );
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            html.contains(r#"href="https://ok.example/" rel="noopener noreferrer nofollow""#),
            "{html}"
        );
    }

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
