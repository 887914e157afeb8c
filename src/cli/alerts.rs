//! `tocsin integration create | list | rotate | delete` and `tocsin alert list | ack | resolve`
//! (`tocsin alert send`, which talks to a server instead, is `alerts/send.rs`),
//! straight against the database like the other admin commands. An integration's key is
//! printed once; the server keeps only its hash.

mod send;

use clap::Subcommand;

use crate::alerts::integration::{self, IntegrationKind};
use crate::alerts::lifecycle::{PersonAction, Status};
use crate::alerts::store::{self, Filter};
use crate::db::StoreError;

use super::DbArgs;

#[derive(Subcommand, Debug)]
pub enum IntegrationAction {
    /// Create an integration key for a service; the key is printed once.
    Create {
        #[arg(long)]
        service: String,
        /// alertmanager, grafana, alertmanager_api, pagerduty or generic.
        #[arg(long = "type")]
        kind: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List integrations (never their keys).
    List {
        #[arg(long)]
        service: Option<String>,
    },
    /// Replace an integration's key; the old one stops working at once.
    Rotate { id: String },
    /// Delete an integration; its key stops working, its alerts stay.
    Delete { id: String },
}

#[derive(Subcommand, Debug)]
pub enum AlertAction {
    /// The newest alerts.
    List {
        /// triggered, acknowledged or resolved.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        service: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Acknowledge an alert: whoever is paged about it has it.
    Ack { id: String },
    /// Resolve an alert.
    Resolve { id: String },
    /// Send an event to a Tocsin server's generic endpoint, as a script would (no database).
    Send(send::SendArgs),
}

fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub async fn integration_cmd(action: IntegrationAction, args: &DbArgs) -> anyhow::Result<i32> {
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    match action {
        IntegrationAction::Create {
            service,
            kind,
            name,
        } => {
            let Some(kind) = IntegrationKind::parse(&kind) else {
                let known: Vec<_> = IntegrationKind::ALL.iter().map(|k| k.as_str()).collect();
                eprintln!("error: --type must be one of {}", known.join(", "));
                return Ok(2);
            };
            let catalog = crate::catalog::store::load(&db).await?;
            let name = name.unwrap_or_default();
            let created =
                integration::create(&db, &catalog, now(), &actor(), &service, kind, &name).await;
            let (i, key) = match created {
                Ok(created) => created,
                Err(StoreError::NotFound) => {
                    eprintln!("error: no service {service:?}");
                    return Ok(1);
                }
                Err(e) => return Err(e.into()),
            };
            eprintln!(
                "Created integration {} ({}, {} for {}). Copy the key now; it is not shown again:",
                i.id,
                i.name,
                kind.as_str(),
                i.service
            );
            println!("{key}");
        }
        IntegrationAction::List { service } => {
            for i in store::list_integrations(&db, service.as_deref()).await? {
                let rotated = i
                    .rotated_at
                    .map(|t| format!(", rotated {}", crate::clock::format_ms(t)))
                    .unwrap_or_default();
                println!(
                    "{}  {:<24} {:<16} {:<24} created by {} at {}{rotated}",
                    i.id,
                    i.service,
                    i.kind.as_str(),
                    i.name,
                    i.created_by,
                    crate::clock::format_ms(i.created_at)
                );
            }
        }
        IntegrationAction::Rotate { id } => {
            match integration::rotate(&db, now(), &actor(), &id).await {
                Ok((i, key)) => {
                    eprintln!(
                        "Rotated integration {id} ({}); the old key no longer works. New key:",
                        i.service
                    );
                    println!("{key}");
                }
                Err(StoreError::NotFound) => {
                    eprintln!("error: no integration {id:?}");
                    return Ok(1);
                }
                Err(e) => return Err(e.into()),
            }
        }
        IntegrationAction::Delete { id } => {
            match integration::delete(&db, now(), &actor(), &id).await {
                Ok(i) => println!("deleted {id} ({} {})", i.kind.as_str(), i.service),
                Err(StoreError::NotFound) => {
                    eprintln!("error: no integration {id:?}");
                    return Ok(1);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(0)
}

pub async fn alert_cmd(action: AlertAction, args: &DbArgs) -> anyhow::Result<i32> {
    let (id, action) = match action {
        AlertAction::List {
            status,
            service,
            limit,
        } => {
            let status = match status.as_deref().map(|s| (s, Status::parse(s))) {
                None => None,
                Some((_, Some(s))) => Some(s),
                Some((text, None)) => {
                    eprintln!(
                        "error: --status must be triggered, acknowledged or resolved, not {text:?}"
                    );
                    return Ok(2);
                }
            };
            let filter = Filter {
                status,
                service,
                limit,
                ..Filter::default()
            };
            let db = crate::app::open_db(&args.settings()?.database_url).await?;
            for a in store::list(&db, &filter).await? {
                let severity = a.severity.map_or("-", store::severity_str);
                println!(
                    "{}  {:<12} {:<8} {:<20} x{:<4} {}  {}",
                    a.id,
                    a.status.as_str(),
                    severity,
                    a.service,
                    a.event_count,
                    crate::clock::format_ms(a.created_at),
                    a.summary
                );
            }
            return Ok(0);
        }
        AlertAction::Ack { id } => (id, PersonAction::Acknowledge),
        AlertAction::Resolve { id } => (id, PersonAction::Resolve),
        // A sender: no database.
        AlertAction::Send(a) => return send::run(a).await,
    };
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    let mut tx = db.begin().await?;
    match store::act(&mut tx, &id, action, &actor(), now()).await {
        Ok((alert, changed)) => {
            tx.commit().await?;
            let note = if changed { "" } else { " (already)" };
            println!("{id} {}{note}: {}", alert.status.as_str(), alert.summary);
            Ok(0)
        }
        Err(StoreError::NotFound) => {
            eprintln!("error: no alert {id:?}");
            Ok(1)
        }
        Err(StoreError::Conflict(why)) => {
            eprintln!("error: {id}: {why}");
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}
