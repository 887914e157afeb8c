//! Catalog commands: validate, apply, export, impact, handbook.

use crate::catalog::{Catalog, store};
use crate::config::{self, Source, apply::ApplyError, plan};
use crate::db::StoreError;

use super::DbArgs;

fn read_sources(files: &[String]) -> Result<Vec<Source>, Vec<config::ConfigError>> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match Source::read(f) {
            Ok(s) => sources.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(errors)
    }
}

fn print_errors(errors: &[config::ConfigError]) -> i32 {
    for e in errors {
        eprintln!("{e}");
    }
    eprintln!("{} error(s)", errors.len());
    1
}

/// Who the audit log names for CLI changes.
fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

pub fn validate(files: &[String]) -> anyhow::Result<i32> {
    let loaded = read_sources(files).and_then(|s| config::load(s, &Catalog::default()));
    match loaded {
        Ok(l) => {
            let c = &l.catalog;
            println!(
                "ok: {} tiers, {} teams, {} domains, {} people, {} business functions, {} services",
                c.tiers.len(),
                c.teams.len(),
                c.domains.len(),
                c.people.len(),
                c.business_functions.len(),
                c.services.len()
            );
            Ok(0)
        }
        Err(errors) => Ok(print_errors(&errors)),
    }
}

pub async fn apply(files: &[String], dry_run: bool, args: &DbArgs) -> anyhow::Result<i32> {
    let sources = match read_sources(files) {
        Ok(s) => s,
        Err(errors) => return Ok(print_errors(&errors)),
    };
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    let current = store::load(&db).await?;
    let loaded = match config::load(sources, &current) {
        Ok(l) => l,
        Err(errors) => return Ok(print_errors(&errors)),
    };
    let now = jiff::Timestamp::now().as_millisecond();
    // Unmanaged kinds come from the database as it is under the lock, not as it was read above.
    let edit = |current: Catalog| Ok(plan::overlay(&current, &loaded.catalog, &loaded.managed));
    match config::apply::apply_with(&db, now, &actor(), dry_run, edit, |_, p| {
        ApplyError::Invalid(p)
    })
    .await
    {
        Ok(plan) if plan.is_empty() => println!("No changes: the database matches the files."),
        Ok(plan) => {
            println!("{plan}");
            println!(
                "{}",
                if dry_run {
                    "Dry run: nothing was changed."
                } else {
                    "Applied."
                }
            );
        }
        Err(ApplyError::Invalid(problems)) => {
            let errors: Vec<_> = problems.iter().map(|p| loaded.locate(p)).collect();
            return Ok(print_errors(&errors));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(0)
}

pub async fn export(output: Option<&str>, args: &DbArgs) -> anyhow::Result<i32> {
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    let yaml = config::export(&store::load(&db).await?).map_err(anyhow::Error::msg)?;
    match output {
        Some(path) => std::fs::write(path, yaml)?,
        None => print!("{yaml}"),
    }
    Ok(0)
}

pub async fn impact(id: &str, function: bool, args: &DbArgs) -> anyhow::Result<i32> {
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    if function {
        match store::dependencies_of_function(&db, id).await {
            Ok(services) => {
                println!(
                    "Business function {id} relies on {} service(s):",
                    services.len()
                );
                for s in services {
                    println!("  {:<30} tier {}  ({} hop(s) away)", s.id, s.tier, s.depth);
                }
                Ok(0)
            }
            Err(StoreError::NotFound) => {
                eprintln!("error: no business function {id:?}");
                Ok(1)
            }
            Err(e) => Err(e.into()),
        }
    } else {
        match store::impact_of_service(&db, id).await {
            Ok(impact) => {
                println!(
                    "If {id} fails, {} business function(s) are affected:",
                    impact.business_functions.len()
                );
                for f in &impact.business_functions {
                    let how = if f.via_primary_domain {
                        "primary domain"
                    } else {
                        "depended-on domain"
                    };
                    println!("  {:<30} {:<9} via {how}", f.id, f.criticality);
                }
                println!("Services affected ({}):", impact.services.len());
                for s in &impact.services {
                    println!("  {:<30} tier {}  ({} hop(s) away)", s.id, s.tier, s.depth);
                }
                Ok(0)
            }
            Err(StoreError::NotFound) => {
                eprintln!("error: no service {id:?}");
                Ok(1)
            }
            Err(e) => Err(e.into()),
        }
    }
}

pub async fn handbook(html: bool, args: &DbArgs) -> anyhow::Result<i32> {
    let db = crate::app::open_db(&args.settings()?.database_url).await?;
    let now = jiff::Timestamp::now().as_millisecond();
    let overrides = crate::handbook::overrides_for(&db, now).await?;
    let md = crate::handbook::markdown(&store::load(&db).await?, &overrides, now);
    if html {
        println!("{}", crate::handbook::to_html(&md));
    } else {
        print!("{md}");
    }
    Ok(0)
}
