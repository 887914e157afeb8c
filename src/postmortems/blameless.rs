//! The blameless check, pure: flags language that puts the cause on a person rather than on
//! the system ("human error", "Bob's fault", "careless", "should have known", a person named
//! as the cause) and suggests a systems-focused phrasing. It reads words, not substrings, so
//! "the error rate rose", "fault-tolerant" and "blameless" pass. It warns, it never blocks:
//! a person decides whether the sentence is fair.

use serde::Serialize;
use utoipa::ToSchema;

/// One flagged phrase: where it is in the text (byte offsets), and what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Flag {
    pub start: usize,
    pub end: usize,
    /// The text as written.
    pub phrase: String,
    pub why: String,
    pub suggestion: String,
}

/// A word of the text, lowercased, with its byte span. "Bob's" is "bob" then "'s".
#[derive(Debug)]
struct Word {
    text: String,
    start: usize,
    end: usize,
    /// The first word of a sentence: a capital there is not a name.
    sentence_start: bool,
}

fn words(text: &str) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut start: Option<usize> = None;
    let mut sentence_start = true;
    let mut next_starts = true;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let push = |out: &mut Vec<Word>, s: usize, e: usize, first: bool| {
        let raw = &text[s..e];
        let lower = raw.to_lowercase().replace('’', "'");
        if let Some(stem) = lower.strip_suffix("'s") {
            let cut = e - raw.len() + stem.len();
            out.push(Word {
                text: stem.to_string(),
                start: s,
                end: cut,
                sentence_start: first,
            });
            out.push(Word {
                text: "'s".into(),
                start: cut,
                end: e,
                sentence_start: false,
            });
        } else {
            out.push(Word {
                text: lower,
                start: s,
                end: e,
                sentence_start: first,
            });
        }
    };
    for (i, &(at, c)) in chars.iter().enumerate() {
        let inner_quote = (c == '\'' || c == '’')
            && start.is_some()
            && chars.get(i + 1).is_some_and(|(_, n)| n.is_alphabetic());
        if c.is_alphanumeric() || inner_quote || (c == '-' && start.is_some()) {
            if start.is_none() {
                start = Some(at);
                sentence_start = next_starts;
                next_starts = false;
            }
            continue;
        }
        if let Some(s) = start.take() {
            push(&mut out, s, at, sentence_start);
        }
        if matches!(c, '.' | '!' | '?' | '\n' | ':' | ';') || c == '#' || c == '-' || c == '*' {
            next_starts = true;
        }
    }
    if let Some(s) = start {
        push(&mut out, s, text.len(), sentence_start);
    }
    out
}

/// Single words that judge a person.
const JUDGING: [&str; 14] = [
    "careless",
    "carelessly",
    "carelessness",
    "negligent",
    "negligence",
    "sloppy",
    "lazy",
    "incompetent",
    "incompetence",
    "stupid",
    "reckless",
    "recklessly",
    "inattentive",
    "clumsy",
];

const SHOULD_VERBS: [&str; 12] = [
    "known", "noticed", "caught", "checked", "realised", "realized", "seen", "tested", "asked",
    "thought", "read", "looked",
];

/// What people are blamed for when named as the cause.
const CAUSE_WORDS: [&str; 10] = [
    "caused",
    "broke",
    "forgot",
    "neglected",
    "mistake",
    "fault",
    "blame",
    "blamed",
    "messed",
    "screwed",
];

const POSSESSIVES: [&str; 7] = ["'s", "his", "her", "their", "your", "my", "our"];

fn flag(text: &str, ws: &[Word], from: usize, to: usize, why: &str, suggestion: &str) -> Flag {
    let (start, end) = (ws[from].start, ws[to].end);
    Flag {
        start,
        end,
        phrase: text[start..end].to_string(),
        why: why.into(),
        suggestion: suggestion.into(),
    }
}

/// Every flag in `text`. `people` are the names of the organisation's people (full names;
/// first names count too) so that "Alice caused the outage" is caught.
pub fn check(text: &str, people: &[String]) -> Vec<Flag> {
    let ws = words(text);
    let w = |i: usize| ws.get(i).map_or("", |w| w.text.as_str());
    let mut out = Vec::new();
    for i in 0..ws.len() {
        let here = w(i);
        if matches!(here, "human" | "operator" | "user" | "engineer" | "pilot")
            && w(i + 1) == "error"
        {
            out.push(flag(text, &ws, i, i + 1, "“human error” ends the inquiry where it should start",
                "Describe what in the system made the action possible or likely: a missing guard, an unclear tool, a risky default."));
        } else if POSSESSIVES.contains(&here)
            && matches!(w(i + 1), "fault" | "mistake" | "error" | "negligence")
        {
            let from = if here == "'s" && i > 0 { i - 1 } else { i };
            out.push(flag(text, &ws, from, i + 1, "it puts the cause on a person",
                "Name the condition that allowed the failure (for example “the deploy pipeline did not check…”)."));
        } else if here == "at" && w(i + 1) == "fault" {
            out.push(flag(
                text,
                &ws,
                i,
                i + 1,
                "it looks for someone at fault",
                "Describe the contributing factors instead.",
            ));
        } else if matches!(here, "blame" | "blamed" | "blaming") {
            out.push(flag(
                text,
                &ws,
                i,
                i,
                "blame has no place in a postmortem",
                "Say what happened and which safeguards were missing.",
            ));
        } else if JUDGING.contains(&here) {
            out.push(flag(
                text,
                &ws,
                i,
                i,
                "it judges a person instead of describing the system",
                "Describe what the person saw and why the action made sense at the time.",
            ));
        } else if matches!(here, "should" | "should've" | "ought") {
            let mut j = i + 1;
            if w(j) == "to" {
                j += 1;
            }
            if w(j) == "have" {
                j += 1;
            }
            if here == "should've" {
                j = i + 1;
            }
            let hindsight = SHOULD_VERBS.contains(&w(j))
                || (w(j) == "been" && matches!(w(j + 1), "more" | "careful" | "aware"));
            if (j > i + 1 || here == "should've") && hindsight {
                let end = if w(j) == "been" { j + 1 } else { j };
                out.push(flag(text, &ws, i, end, "hindsight: it expects people to know what only the outcome showed",
                    "Ask what information was available at the time, and how the system could surface it (an alert, a check, a clearer dashboard)."));
            }
        } else if matches!(here, "made" | "make") && w(i + 1) == "a" && w(i + 2) == "mistake" {
            out.push(flag(
                text,
                &ws,
                i,
                i + 2,
                "it puts the cause on a person",
                "Describe the step that went wrong and what would have caught it.",
            ));
        }
    }
    out.extend(named_as_cause(text, &ws, people));
    // Overlaps keep the longest phrase ("Bob's fault" over "Bob").
    out.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    out.dedup_by(|later, kept| later.start < kept.end);
    out
}

/// A person's name in the same sentence as a word of cause ("Alice caused…", "caused by Bob").
fn named_as_cause(text: &str, ws: &[Word], people: &[String]) -> Vec<Flag> {
    let names: Vec<Vec<String>> = people
        .iter()
        .map(|p| p.split_whitespace().map(str::to_lowercase).collect())
        .filter(|n: &Vec<String>| !n.is_empty())
        .collect();
    let mut out = Vec::new();
    let mut sentence = 0;
    for i in 0..ws.len() {
        if ws[i].sentence_start {
            sentence = i;
        }
        // A name: the first word of a person's name, capitalised in the text (or anywhere in
        // a sentence but its first word), optionally followed by the rest of it.
        let first = &text[ws[i].start..ws[i].end];
        let capital = first.chars().next().is_some_and(char::is_uppercase);
        let Some(name) = names.iter().find(|n| n[0] == ws[i].text) else {
            continue;
        };
        if !capital {
            continue;
        }
        let mut end = i;
        while end + 1 < ws.len()
            && end + 1 - i < name.len()
            && ws[end + 1].text == name[end + 1 - i]
        {
            end += 1;
        }
        let sentence_end = (i + 1..ws.len())
            .find(|&k| ws[k].sentence_start)
            .unwrap_or(ws.len());
        let cause = (sentence..sentence_end)
            .filter(|&k| k < i || k > end)
            .find(|&k| {
                CAUSE_WORDS.contains(&ws[k].text.as_str())
                    || (ws[k].text == "failed" && ws.get(k + 1).is_some_and(|n| n.text == "to"))
            });
        if cause.is_some() {
            out.push(flag(text, ws, i, end, "a person is named as the cause",
                "Name the role and the system instead (“the on-call engineer ran the documented command; the command had no dry run”)."));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> Vec<String> {
        vec!["Alice Martin".into(), "Bob Chen".into()]
    }

    #[test]
    fn blaming_sentences_are_flagged() {
        let table = [
            ("The outage was caused by human error.", "human error"),
            ("It was Bob's fault.", "Bob's fault"),
            (
                "This was operator error during the deploy.",
                "operator error",
            ),
            (
                "A careless change to the config took the site down.",
                "careless",
            ),
            (
                "The on-call engineer should have known the flag was on.",
                "should have known",
            ),
            ("They should've checked the dashboard.", "should've checked"),
            (
                "We ought to have noticed the disk filling.",
                "ought to have noticed",
            ),
            (
                "Alice caused the outage by restarting the primary.",
                "Alice",
            ),
            ("The outage was caused by Bob Chen.", "Bob Chen"),
            ("Bob forgot to renew the certificate.", "Bob"),
            ("Alice Martin failed to follow the runbook.", "Alice Martin"),
            ("The team is to blame for the delay.", "blame"),
            ("He made a mistake in the migration.", "made a mistake"),
            ("It was his mistake.", "his mistake"),
            (
                "Negligence in reviewing the change led to this.",
                "Negligence",
            ),
            (
                "Someone should have been more careful.",
                "should have been more",
            ),
            ("Blame sits with the release manager.", "Blame"),
        ];
        for (sentence, phrase) in table {
            let flags = check(sentence, &people());
            assert!(
                flags.iter().any(|f| f.phrase == phrase),
                "{sentence:?} should flag {phrase:?}, got {flags:?}"
            );
            assert!(flags.iter().all(|f| !f.suggestion.is_empty()));
        }
    }

    #[test]
    fn systems_focused_sentences_are_not_flagged() {
        let table = [
            "The error rate rose to 40% after the deploy.",
            "Errors from the payment gateway were not retried.",
            "The database is fault-tolerant across two zones.",
            "A network fault in one zone dropped connections.",
            "We run blameless postmortems.",
            "Alice restarted the primary at 14:02, which restored checkout.",
            "Bob Chen paged the payments team.",
            "The deploy caused a spike in latency.",
            "The alert should fire earlier; we will lower the threshold.",
            "The disk filled because log rotation was off.",
            "Alice noticed the error budget burning and declared the incident.",
            "The failover failed over to the replica within 30 seconds.",
            "Users saw an error page for 12 minutes.",
        ];
        for sentence in table {
            let flags = check(sentence, &people());
            assert!(flags.is_empty(), "{sentence:?} was flagged: {flags:?}");
        }
    }

    #[test]
    fn offsets_point_at_the_phrase_in_multibyte_text() {
        let text = "Café déjà vu — it was human error, again.";
        let f = &check(text, &[])[0];
        assert_eq!(&text[f.start..f.end], "human error");
        assert!(check("", &people()).is_empty());
    }
}
