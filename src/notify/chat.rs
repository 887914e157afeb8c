//! Chat channels through incoming webhooks: Slack (Block Kit `blocks` with a `text` fallback)
//! and Mattermost (Slack-compatible `text` + `attachments`; it ignores `blocks`, see
//! `shared/reference/ingest-formats.md` §6.4). Pure payload builders; the sender is in `mod.rs`.
//!
//! Everything an alert sender wrote (summary, labels, link titles) is untrusted: it is escaped
//! for each dialect so it cannot forge links or mention a whole channel, and cut to the
//! platform's field limits so a long summary cannot make the whole message bounce.

use serde_json::{Value, json};

use crate::alerts::Severity;
use crate::clock::Millis;

use super::message::{Message, MessageLink, severity_label};
use super::test_message::TestMessage;

/// Slack Block Kit limits: header text 150 chars, section text 3000, a field 2000.
const SLACK_HEADER_MAX: usize = 150;
const SLACK_SECTION_MAX: usize = 3000;
const SLACK_FIELD_MAX: usize = 2000;
/// Mattermost accepts long posts, but a page is read on a phone: keep the summary short.
const SUMMARY_MAX: usize = 500;

/// The Slack incoming-webhook body.
pub fn slack(m: &Message) -> Value {
    let severity = severity_label(m.severity);
    let header = truncate(&format!("{severity}: {}", m.summary), SLACK_HEADER_MAX);
    let field = |title: &str, value: &str| json!({"type": "mrkdwn", "text": truncate(&format!("*{title}*\n{value}"), SLACK_FIELD_MAX)});
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": header}}),
        json!({"type": "section", "fields": [
            field("Severity", severity),
            field("Service", &slack_escape(&m.service_name)),
            field("Started", &slack_date(m.started_at)),
            field("Paged", &format!("{} (level {})", slack_escape(&m.person), m.level)),
        ]}),
    ];
    let mut lines = Vec::new();
    if let Some(p) = &m.playbook {
        lines.push(format!("*Playbook:* {}", slack_link(p)));
    }
    if !m.links.is_empty() {
        let links: Vec<String> = m.links.iter().map(slack_link).collect();
        lines.push(format!("*Links:* {}", links.join(" · ")));
    }
    if !lines.is_empty() {
        let text = truncate(&lines.join("\n"), SLACK_SECTION_MAX);
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}));
    }
    blocks.push(json!({"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"},
         "style": "primary", "url": m.ack_url, "action_id": "tocsin_ack"},
        {"type": "button", "text": {"type": "plain_text", "text": "Open in Tocsin"},
         "url": m.alert_url, "action_id": "tocsin_open"},
    ]}));
    // `text` is what notifications and screen readers show when blocks are present.
    let fallback = format!(
        "{severity} alert on {}: {}",
        slack_escape(&m.service_name),
        slack_escape(&truncate(&m.summary, SUMMARY_MAX))
    );
    json!({"text": fallback, "blocks": blocks})
}

/// The Mattermost incoming-webhook body.
pub fn mattermost(m: &Message) -> Value {
    let severity = severity_label(m.severity);
    let summary = truncate(&m.summary, SUMMARY_MAX);
    let mut lines = vec![format!(
        "**[Acknowledge]({})** · [Open in Tocsin]({})",
        md_url(&m.ack_url),
        md_url(&m.alert_url)
    )];
    if let Some(p) = &m.playbook {
        lines.push(format!("**Playbook:** {}", md_link(p)));
    }
    if !m.links.is_empty() {
        let links: Vec<String> = m.links.iter().map(md_link).collect();
        lines.push(format!("**Links:** {}", links.join(" · ")));
    }
    let field = |title: &str, value: String| json!({"short": true, "title": title, "value": value});
    let attachment = json!({
        "fallback": format!("{severity} alert on {}: {}", m.service_name, no_mentions(&summary)),
        "color": color(m.severity),
        "title": no_mentions(&summary),
        "title_link": m.alert_url,
        "text": lines.join("\n"),
        "fields": [
            field("Severity", severity.to_string()),
            field("Service", md_escape(&m.service_name)),
            field("Started", utc(m.started_at)),
            field("Paged", format!("{} (level {})", md_escape(&m.person), m.level)),
        ],
        "footer": "Tocsin",
    });
    json!({
        "text": format!("**{severity}** alert on {}: {}", md_escape(&m.service_name), md_escape(&summary)),
        "attachments": [attachment],
    })
}

/// The Slack body of a test notification: says plainly it is a test, links to the person's
/// notification settings, and has no Acknowledge button (there is nothing to acknowledge).
pub fn slack_test(t: &TestMessage) -> Value {
    let headline = t.headline_with(slack_escape);
    let settings = t.settings_url.replace('|', "%7C").replace('>', "%3E");
    let context = format!(
        "Contact method `{}` · test {} · <{settings}|Notification settings>",
        slack_escape(&t.method_id),
        t.outbox_id
    );
    json!({
        "text": headline,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{headline}*\n{}", t.explanation())}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    })
}

/// The Mattermost body of a test notification (attachments; Mattermost ignores `blocks`).
pub fn mattermost_test(t: &TestMessage) -> Value {
    let headline = t.headline_with(md_escape);
    json!({
        "text": headline,
        "attachments": [{
            "fallback": t.headline_with(no_mentions),
            "color": color(Some(Severity::Info)),
            "title": "Test notification",
            "title_link": t.settings_url,
            "text": t.explanation(),
            "fields": [
                {"short": true, "title": "Contact method", "value": md_escape(&t.method_id)},
                {"short": true, "title": "Test", "value": t.outbox_id.to_string()},
            ],
            "footer": "Tocsin",
        }],
    })
}

/// The attachment colour bar: red for critical down to blue for info, grey when unknown.
pub fn color(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Critical) => "#d00000",
        Some(Severity::Error) => "#e8590c",
        Some(Severity::Warning) => "#f2c744",
        Some(Severity::Info) => "#1c7ed6",
        None => "#868e96",
    }
}

/// Cuts to at most `max` characters, marking the cut with an ellipsis.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Slack's three control characters; escaping `<` is what stops `<!channel>` and forged links.
pub(crate) fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn slack_link(l: &MessageLink) -> String {
    // `|` and `>` end the URL part of `<url|title>`; percent-encoding keeps the URL intact.
    let url = l
        .url
        .replace('|', "%7C")
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace('&', "&amp;");
    format!("<{url}|{}>", slack_escape(&l.title).replace('|', "¦"))
}

/// Shown in each reader's own time zone by Slack, with the UTC text as the fallback.
fn slack_date(ms: Millis) -> String {
    format!(
        "<!date^{}^{{date_short_pretty}} {{time}}|{}>",
        ms.div_euclid(1000),
        utc(ms)
    )
}

fn utc(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// Backslash-escapes Markdown punctuation so a summary cannot become a link or heading, and
/// breaks `@` mentions.
pub(crate) fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in no_mentions(s).chars() {
        if "\\`*_[]()#<>~|!".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Mattermost turns `@channel`, `@all`, `@here` (and `@someone`) in any text into
/// notifications; a word joiner after `@` keeps the text readable and inert.
pub(crate) fn no_mentions(s: &str) -> String {
    s.replace('@', "@\u{2060}")
}

fn md_url(url: &str) -> String {
    url.replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
        .replace('<', "%3C")
        .replace('>', "%3E")
}

fn md_link(l: &MessageLink) -> String {
    format!("[{}]({})", md_escape(&l.title), md_url(&l.url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_characters_not_bytes() {
        assert_eq!(truncate("ééé", 3), "ééé");
        assert_eq!(truncate("éééé", 3), "éé…");
    }

    #[test]
    fn escapes_untrusted_text() {
        assert_eq!(
            slack_escape("<!channel> & <x|y>"),
            "&lt;!channel&gt; &amp; &lt;x|y&gt;"
        );
        assert_eq!(md_escape("[x](y) @all"), "\\[x\\]\\(y\\) @\u{2060}all");
        let l = MessageLink {
            title: "a|b".into(),
            url: "https://x/?a=1&b=|".into(),
        };
        assert_eq!(slack_link(&l), "<https://x/?a=1&amp;b=%7C|a¦b>");
    }

    #[test]
    fn slack_date_has_a_utc_fallback() {
        assert_eq!(
            slack_date(1_718_614_800_000),
            "<!date^1718614800^{date_short_pretty} {time}|2024-06-17 09:00 UTC>"
        );
    }
}
