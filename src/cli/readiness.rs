//! `tocsin audit`: the on-call readiness audit over the next weeks, as a table or JSON. Exit
//! status 1 when there is an error finding, so a config repository's CI can gate on it.

use clap::Args;

use crate::oncall::readiness::{self, Options, Report, Severity};
use crate::oncall::store;

use super::DbArgs;

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// How many weeks ahead to check (1 to 52).
    #[arg(long, default_value_t = 4)]
    weeks: u32,
    /// Largest healthy share of time on call per person (0.167: about one week in six).
    #[arg(long, default_value_t = readiness::DEFAULT_MAX_SHARE)]
    max_share: f64,
    /// Start of the window instead of now (RFC 3339, e.g. 2024-06-17T09:00Z).
    #[arg(long)]
    from: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DbArgs,
}

pub async fn run(a: AuditArgs) -> anyhow::Result<i32> {
    if !(1..=52).contains(&a.weeks) {
        eprintln!("error: --weeks must be between 1 and 52");
        return Ok(2);
    }
    if !(a.max_share > 0.0 && a.max_share <= 1.0) {
        eprintln!("error: --max-share must be above 0 and at most 1");
        return Ok(2);
    }
    let from = match &a.from {
        None => jiff::Timestamp::now().as_millisecond(),
        Some(text) => match crate::oncall::overrides::parse_time(text, None) {
            Ok(ms) => ms,
            Err(e) => {
                eprintln!("error: --from: {e}");
                return Ok(2);
            }
        },
    };
    let db = crate::app::open_db(&a.db.settings()?.database_url).await?;
    let catalog = crate::catalog::store::load(&db).await?;
    let options = Options::weeks(from, a.weeks, a.max_share);
    let (start, end) = options.span();
    let overrides = store::overrides(&db, None, start, end).await?;
    let report = readiness::audit(&catalog, &overrides, &options);
    let candidates = crate::alerts::candidates::load(&db, from).await?;
    if a.json {
        let mut json = serde_json::to_value(&report)?;
        if let Some(o) = json.as_object_mut() {
            o.insert(
                "automation_candidates".into(),
                serde_json::to_value(&candidates)?,
            );
        }
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", table(&report, a.weeks));
        print!("{}", candidates_table(&candidates));
    }
    Ok(i32::from(report.count(Severity::Error) > 0))
}

/// The report as an aligned table with a summary line.
fn table(r: &Report, weeks: u32) -> String {
    let mut out = String::new();
    let head = ("SEVERITY", "CHECK", "SUBJECT");
    let w_sub = r
        .findings
        .iter()
        .map(|f| f.subject.len())
        .chain([head.2.len()])
        .max()
        .unwrap_or(0);
    if !r.findings.is_empty() {
        out.push_str(&format!(
            "{:<8}  {:<10}  {:<w_sub$}  FINDING\n",
            head.0, head.1, head.2
        ));
    }
    for f in &r.findings {
        out.push_str(&format!(
            "{:<8}  {:<10}  {:<w_sub$}  {}\n",
            f.severity.as_str(),
            f.check,
            f.subject,
            f.message
        ));
    }
    out.push_str(&format!(
        "{} errors, {} warnings, {} info over {weeks} weeks from {}\n",
        r.count(Severity::Error),
        r.count(Severity::Warning),
        r.count(Severity::Info),
        crate::clock::format_ms(r.from)
    ));
    out
}

/// Alerts that fired often without a playbook, after the readiness findings.
fn candidates_table(found: &[crate::alerts::candidates::Candidate]) -> String {
    use crate::alerts::candidates::{DAYS, MIN_COUNT};
    let mut out = format!(
        "\nCandidates for automation (fired {MIN_COUNT}+ times in {DAYS} days without a playbook): {}\n",
        found.len()
    );
    let w = found
        .iter()
        .map(|c| c.service.len())
        .chain([7])
        .max()
        .unwrap_or(7);
    for c in found {
        out.push_str(&format!(
            "  {:>5}x  {:<w$}  {}\n",
            c.count, c.service, c.alert
        ));
    }
    out
}
