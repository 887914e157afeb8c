//! `tocsin report [NAME] [--from DATE] [--to DATE] [--service ID] [--severity ID]
//! [--format text|json]`: the learning reports straight from the database, as the pages and
//! `/api/v1/reports/{name}` show them. Without a name, every report. Exit status 2 for a
//! wrong request (unknown report, bad date, unknown service).

use clap::{Args, ValueEnum};

use crate::catalog::snapshot::Snapshot;
use crate::clock::{Clock, SystemClock};
use crate::reports::{self, Name, Query};

use super::DbArgs;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// response, services, oncall, breaches or alerts (default: all of them).
    pub name: Option<String>,
    /// Start: a date (YYYY-MM-DD, UTC), RFC 3339 or ms (default: 90 days before --to).
    #[arg(long)]
    pub from: Option<String>,
    /// End: a date (that day included), RFC 3339 or ms (default: now).
    #[arg(long)]
    pub to: Option<String>,
    /// Only this service's incidents, alerts and pages.
    #[arg(long)]
    pub service: Option<String>,
    /// Only incidents of this severity level.
    #[arg(long)]
    pub severity: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(a: ReportArgs) -> anyhow::Result<i32> {
    let names = match a.name.as_deref() {
        None => Name::ALL.to_vec(),
        Some(n) => match Name::parse(n) {
            Some(n) => vec![n],
            None => {
                let known: Vec<&str> = Name::ALL.iter().map(|n| n.as_str()).collect();
                eprintln!(
                    "error: no report {n:?}; expected one of: {}",
                    known.join(", ")
                );
                return Ok(2);
            }
        },
    };
    let settings = a.db.settings()?;
    let db = crate::app::open_db(&settings.database_url).await?;
    let snap = Snapshot::new(crate::catalog::store::load(&db).await?);
    let now = SystemClock.now_ms();
    let q = Query {
        from: a.from,
        to: a.to,
        service: a.service,
        severity: a.severity,
    };
    let (period, filters) = match q.resolve(&snap, now) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    let mut built = Vec::new();
    for n in names {
        built.push(reports::build(&db, &snap, n, period, &filters, now).await?);
    }
    match a.format {
        Format::Json if built.len() == 1 => {
            println!("{}", serde_json::to_string_pretty(&built[0])?);
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&built)?),
        Format::Text => {
            let texts: Vec<String> = built.iter().map(reports::view::text).collect();
            print!("{}", texts.join("\n"));
        }
    }
    Ok(0)
}
