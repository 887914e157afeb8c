//! A small RFC 5545 (iCalendar) writer for the on-call feeds: one VCALENDAR of VEVENTs with
//! times in UTC. Written here rather than taken from a crate because the feed needs a dozen
//! properties and exact control of the three rules clients are strict about: CRLF line
//! endings, lines folded at 75 octets (never inside a UTF-8 character) and escaped text.

use jiff::Timestamp;

/// One event of a calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Globally unique and stable across fetches, so clients update rather than duplicate.
    pub uid: String,
    /// Milliseconds since the epoch (UTC), inclusive.
    pub start: i64,
    /// Milliseconds since the epoch (UTC), exclusive.
    pub end: i64,
    pub summary: String,
    pub description: String,
}

/// A published calendar: a name for the subscriber's list and its events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub name: String,
    pub events: Vec<Event>,
}

/// `20240617T080000Z`: the UTC form of DATE-TIME (RFC 5545 3.3.5, form #2).
pub fn utc(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// Escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            // A CR alone or before LF carries no meaning in a value; dropping it keeps
            // "\r\n" from becoming "\n" plus a stray control character.
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded to 75 octets per physical line (RFC 5545 3.1): continuation lines
/// start with one space, which counts towards their 75. Breaks only at character boundaries.
fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// Renders the calendar; `now` (ms) is every event's DTSTAMP, the time the feed was made.
pub fn render(calendar: &Calendar, now: i64) -> String {
    let mut out = String::new();
    let mut line = |s: &str| push_folded(&mut out, s);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Tocsin//On-call feed//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape(&calendar.name)));
    let stamp = utc(now);
    for e in &calendar.events {
        line("BEGIN:VEVENT");
        // UIDs are our own ids joined with '-' and '@': no characters that need escaping.
        line(&format!("UID:{}", e.uid));
        line(&format!("DTSTAMP:{stamp}"));
        line(&format!("DTSTART:{}", utc(e.start)));
        line(&format!("DTEND:{}", utc(e.end)));
        line(&format!("SUMMARY:{}", escape(&e.summary)));
        if !e.description.is_empty() {
            line(&format!("DESCRIPTION:{}", escape(&e.description)));
        }
        // An on-call shift does not make the person unavailable for meetings.
        line("TRANSP:TRANSPARENT");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a,b;c\\d\ne\r\n"), "a\\,b\\;c\\\\d\\ne\\n");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let value = "é".repeat(100);
        push_folded(&mut out, &format!("SUMMARY:{value}"));
        let lines: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        assert!(lines[1..].iter().all(|l| l.starts_with(' ')));
        let unfolded: String = lines
            .iter()
            .enumerate()
            .map(|(i, l)| if i == 0 { *l } else { &l[1..] })
            .collect();
        assert_eq!(unfolded, format!("SUMMARY:{value}"));
    }

    #[test]
    fn a_calendar_has_crlf_lines_and_utc_times() {
        let cal = Calendar {
            name: "SRE, primary".into(),
            events: vec![Event {
                uid: "sre-primary-1718611200000@tocsin".into(),
                start: 1_718_611_200_000,
                end: 1_719_216_000_000,
                summary: "On call: Foo Bar (SRE primary)".into(),
                description: String::new(),
            }],
        };
        let text = render(&cal, 1_718_614_800_000);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(text.contains("X-WR-CALNAME:SRE\\, primary\r\n"));
        assert!(text.contains("DTSTART:20240617T080000Z\r\n"));
        assert!(text.contains("DTEND:20240624T080000Z\r\n"));
        assert!(text.contains("DTSTAMP:20240617T090000Z\r\n"));
    }
}
