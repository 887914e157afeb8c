//! `tocsin contact add | list | remove | test` and `tocsin contact rule add | remove`: people's
//! contact methods and notification rules, straight against the database like the other admin
//! commands, through the same audited operations as the API and the person page. `test`
//! queues a test notification that the running server delivers (the outbox), and with
//! `--wait` watches the outbox row until it is sent or given up.

use clap::Subcommand;

use crate::db::StoreError;
use crate::notify::contact::{self, ContactError, ContactKind};
use crate::notify::store;
use crate::notify::test_message::{self, TestError};

use super::DbArgs;

#[derive(Subcommand, Debug)]
pub enum ContactAction {
    /// Add a contact method for PERSON; a webhook's signing secret is printed once.
    Add {
        person: String,
        /// webhook, slack, mattermost or email.
        #[arg(long)]
        kind: String,
        /// An http(s) URL (webhook, slack, mattermost) or an email address.
        #[arg(long)]
        target: String,
    },
    /// PERSON's contact methods and notification rules.
    List { person: String },
    /// Remove a contact method (its rules go with it).
    Remove { id: String },
    /// Send a test notification through contact method ID (one per 10 s per method). The
    /// running server delivers it, like a page.
    Test {
        id: String,
        /// Wait up to this many seconds for the outcome (0: just queue it).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Notification rules: which method, how long after the page.
    Rule {
        #[command(subcommand)]
        action: RuleAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum RuleAction {
    /// Notify PERSON through --method, --after a delay (0, 2m, 120s, 1h, 1h30m; bare numbers
    /// are minutes).
    Add {
        person: String,
        #[arg(long)]
        method: String,
        #[arg(long, default_value = "0")]
        after: String,
    },
    /// Remove a notification rule.
    Remove { id: String },
}

fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// A delay as whole minutes: a bare number is minutes; `h`, `m` and `s` parts add up
/// ("1h30m"); seconds must make whole minutes, since rules count in minutes.
pub fn parse_delay(text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the delay is empty".into());
    }
    if let Ok(m) = t.parse::<u32>() {
        return Ok(m);
    }
    let bad = || format!("{text:?} is not a delay like 0, 2m, 90s, 1h or 1h30m");
    let mut seconds: u64 = 0;
    let mut digits = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        seconds = n
            .checked_mul(unit)
            .and_then(|v| v.checked_add(seconds))
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    if !seconds.is_multiple_of(60) {
        return Err(format!("{text:?} is not a whole number of minutes"));
    }
    u32::try_from(seconds / 60).map_err(|_| bad())
}

fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub async fn run(action: ContactAction, args: &DbArgs) -> anyhow::Result<i32> {
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    let catalog = crate::catalog::store::load(&db).await?;
    let no_person = |person: &str| {
        eprintln!("error: no person {person:?} in the catalog");
        Ok(1)
    };
    match action {
        ContactAction::Add {
            person,
            kind,
            target,
        } => {
            let Some(kind) = ContactKind::parse(kind.trim()) else {
                eprintln!("error: --kind must be webhook, slack, mattermost or email");
                return Ok(2);
            };
            if catalog.person(&person).is_none() {
                return no_person(&person);
            }
            let m = match contact::add_method(&db, now(), &actor(), &person, kind, &target).await {
                Ok(m) => m,
                Err(ContactError::Invalid(why)) => {
                    eprintln!("error: --target: {why}");
                    return Ok(2);
                }
                Err(ContactError::Store(e)) => return Err(e.into()),
            };
            println!("{}  {} {} for {person}", m.id, kind.as_str(), m.target);
            if let Some(secret) = m.secret {
                eprintln!("The webhook's signing secret; copy it now, it is not shown again:");
                println!("{secret}");
            }
        }
        ContactAction::List { person } => {
            if catalog.person(&person).is_none() {
                return no_person(&person);
            }
            let methods = store::list_methods(&db, &person).await?;
            let rules = store::list_rules(&db, &person).await?;
            let tests = test_message::last_of_person(&db, &person).await?;
            println!("contact methods:");
            for m in &methods {
                let verified = if m.verified_at.is_some() {
                    "  verified"
                } else {
                    ""
                };
                println!("  {}  {:<10} {}{verified}", m.id, m.kind.as_str(), m.target);
                if let Some(t) = tests.iter().find(|t| t.contact_method == m.id) {
                    println!("      last test: {}", t.describe());
                }
            }
            println!("notification rules:");
            for r in &rules {
                println!(
                    "  {}  method {} after {} min",
                    r.id, r.contact_method, r.delay_minutes
                );
            }
            let summary = crate::notify::web::summary(&methods, &rules);
            if summary.is_empty() {
                println!("no rules: a page goes to every contact method at once");
            } else {
                println!("when paged: {summary}");
            }
        }
        ContactAction::Remove { id } => {
            match contact::remove_method(&db, now(), &actor(), &id).await {
                Ok(()) => println!("removed contact method {id}"),
                Err(StoreError::NotFound) => {
                    eprintln!("error: no contact method {id:?}");
                    return Ok(1);
                }
                Err(e) => return Err(e.into()),
            }
        }
        ContactAction::Test { id, wait } => return test(&db, &id, wait).await,
        ContactAction::Rule { action } => return rule(action, &db, &catalog).await,
    }
    Ok(0)
}

/// Queues a test of method `id`; with `wait`, polls its outbox row each second until it is
/// sent (exit 0) or given up (1), or the wait runs out (1, still queued).
async fn test(db: &crate::db::Db, id: &str, wait: u64) -> anyhow::Result<i32> {
    let queued = match test_message::queue(db, now(), &actor(), id).await {
        Ok(q) => q,
        Err(TestError::Store(StoreError::NotFound)) => {
            eprintln!("error: no contact method {id:?}");
            return Ok(1);
        }
        Err(e @ TestError::Throttled { .. }) => {
            eprintln!("error: {e}");
            return Ok(1);
        }
        Err(TestError::Store(e)) => return Err(e.into()),
    };
    println!(
        "queued test {} for contact method {id}; the running server sends it",
        queued.id
    );
    if wait == 0 {
        return Ok(0);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
    loop {
        let latest = test_message::history(db, id)
            .await?
            .into_iter()
            .find(|t| t.id == queued.id);
        let Some(t) = latest else {
            eprintln!("error: the test is gone (the contact method was removed?)");
            return Ok(1);
        };
        match t.status.as_str() {
            "sent" => {
                println!("{}", t.describe());
                return Ok(0);
            }
            "failed" | "cancelled" => {
                println!("{}", t.describe());
                return Ok(1);
            }
            _ if std::time::Instant::now() >= deadline => {
                println!("{} (is `tocsin serve` running?)", t.describe());
                return Ok(1);
            }
            _ => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
        }
    }
}

async fn rule(
    action: RuleAction,
    db: &crate::db::Db,
    catalog: &crate::catalog::Catalog,
) -> anyhow::Result<i32> {
    match action {
        RuleAction::Add {
            person,
            method,
            after,
        } => {
            let delay = match parse_delay(&after) {
                Ok(d) => d,
                Err(why) => {
                    eprintln!("error: --after: {why}");
                    return Ok(2);
                }
            };
            if catalog.person(&person).is_none() {
                eprintln!("error: no person {person:?} in the catalog");
                return Ok(1);
            }
            match contact::add_rule(db, now(), &actor(), &person, &method, delay).await {
                Ok(r) => println!("{}  {person}: method {method} after {delay} min", r.id),
                Err(ContactError::Invalid(why)) => {
                    eprintln!("error: --after: {why}");
                    return Ok(2);
                }
                Err(ContactError::Store(StoreError::NotFound)) => {
                    eprintln!("error: {person} has no contact method {method:?}");
                    return Ok(1);
                }
                Err(ContactError::Store(StoreError::Conflict(_))) => {
                    eprintln!("error: {person} already has a rule for {method} after {delay} min");
                    return Ok(1);
                }
                Err(ContactError::Store(e)) => return Err(e.into()),
            }
        }
        RuleAction::Remove { id } => match contact::remove_rule(db, now(), &actor(), &id).await {
            Ok(()) => println!("removed notification rule {id}"),
            Err(StoreError::NotFound) => {
                eprintln!("error: no notification rule {id:?}");
                return Ok(1);
            }
            Err(e) => return Err(e.into()),
        },
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::parse_delay;

    #[test]
    fn delays_read_as_minutes() {
        assert_eq!(parse_delay("0"), Ok(0));
        assert_eq!(parse_delay("5"), Ok(5));
        assert_eq!(parse_delay("2m"), Ok(2));
        assert_eq!(
            parse_delay("90s").unwrap_err(),
            "\"90s\" is not a whole number of minutes"
        );
        assert_eq!(parse_delay("120s"), Ok(2));
        assert_eq!(parse_delay("1h30m"), Ok(90));
        assert_eq!(parse_delay("1h"), Ok(60));
        for bad in ["", "m", "2x", "1.5m", "-1", "2m3", "99999999999h"] {
            assert!(parse_delay(bad).is_err(), "{bad:?}");
        }
    }
}
