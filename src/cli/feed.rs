//! `tocsin feed create | list | revoke`: calendar feed tokens from the command line. The URL
//! (with its secret) is printed once; the server keeps only a hash.

use clap::{ArgGroup, Subcommand};

use crate::oncall::feeds::{self, FeedScope};
use crate::oncall::store;

use super::DbArgs;

#[derive(Subcommand, Debug)]
pub enum FeedAction {
    /// Create a read-only iCalendar feed of a schedule or of a person's shifts; the URL is
    /// printed once.
    #[command(group(ArgGroup::new("scope").required(true).args(["schedule", "person"])))]
    Create {
        #[arg(long)]
        schedule: Option<String>,
        #[arg(long)]
        person: Option<String>,
        /// The server's public address (e.g. https://tocsin.example.com), printed before
        /// the feed path.
        #[arg(long, env = "TOCSIN_BASE_URL")]
        base_url: Option<String>,
    },
    /// List feed tokens (never their secrets).
    List,
    /// Revoke a feed token by id: its URL answers 404 from now on.
    Revoke { id: String },
}

fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

pub async fn run(action: FeedAction, args: &DbArgs) -> anyhow::Result<i32> {
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    let now = jiff::Timestamp::now().as_millisecond();
    match action {
        FeedAction::Create {
            schedule,
            person,
            base_url,
        } => {
            let (scope, id) = match (schedule, person) {
                (Some(s), _) => (FeedScope::Schedule, s),
                (None, Some(p)) => (FeedScope::Person, p),
                (None, None) => {
                    eprintln!("error: give --schedule ID or --person ID");
                    return Ok(2);
                }
            };
            let catalog = crate::catalog::store::load(&db).await?;
            let (token, secret) =
                match feeds::create_feed(&db, &catalog, now, &actor(), scope, &id).await {
                    Ok(created) => created,
                    Err(crate::db::StoreError::NotFound) => {
                        eprintln!("error: no {} {id:?}", scope.as_str());
                        return Ok(1);
                    }
                    Err(e) => return Err(e.into()),
                };
            let base = base_url.unwrap_or_default();
            eprintln!(
                "Created feed {} ({} {id}). Copy the URL now; it is not shown again:",
                token.id,
                scope.as_str()
            );
            println!(
                "{}{}",
                base.trim_end_matches('/'),
                feeds::feed_path(scope, &id, &secret)
            );
        }
        FeedAction::List => {
            for t in store::list_feed_tokens(&db).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}  {:<8} {:<28} {state:<7}  created by {} at {}",
                    t.id,
                    t.scope.as_str(),
                    t.scope_id,
                    t.created_by,
                    crate::clock::format_ms(t.created_at)
                );
            }
        }
        FeedAction::Revoke { id } => match feeds::revoke_feed(&db, now, &actor(), &id).await {
            Ok(t) => println!("revoked {id} ({} {})", t.scope.as_str(), t.scope_id),
            Err(crate::db::StoreError::NotFound) => {
                eprintln!("error: no active feed {id:?}");
                return Ok(1);
            }
            Err(e) => return Err(e.into()),
        },
    }
    Ok(0)
}
