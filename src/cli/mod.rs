//! The command line: `tocsin serve | demo | validate | apply | export | impact | handbook |
//! token | user | oncall | override | feed | audit | incident | migrate`. Each subcommand is a thin adapter over the same modules the HTTP
//! server uses; this module only parses arguments and prints.

mod admin;
mod alerts;
mod catalog;
mod contact;
mod demo;
mod demo_history;
mod feed;
mod incident;
mod oncall;
mod postmortem;
mod readiness;
mod report;

pub use demo::{example_sources, seed};
pub use demo_history::seed as seed_history;

use clap::{Args, Parser, Subcommand};

use crate::auth::Role;
use crate::settings::{LogFormat, Settings};

#[derive(Parser, Debug)]
#[command(
    name = "tocsin",
    version,
    about = "Self-hosted incident management for SRE teams"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the database is (every command that touches it takes this).
#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// sqlite://PATH (created on first use) or postgres://USER@HOST/DB.
    #[arg(long, env = "TOCSIN_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// A TOML settings file (listen, database_url, secure_cookies, log_format, …).
    #[arg(long, env = "TOCSIN_CONFIG", global = true)]
    pub config: Option<String>,
}

impl DbArgs {
    /// Settings from the file (if any) with flags and environment on top.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut s = match &self.config {
            Some(path) => Settings::from_file(path).map_err(anyhow::Error::msg)?,
            None => Settings::default(),
        };
        if let Some(url) = &self.database_url {
            s.database_url.clone_from(url);
        }
        // A broken template is a startup error, named by file, line and column.
        s.template().map_err(anyhow::Error::msg)?;
        Ok(s)
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long, env = "TOCSIN_LISTEN")]
        listen: Option<String>,
        /// Log as JSON lines instead of text.
        #[arg(long, env = "TOCSIN_LOG_FORMAT", value_enum)]
        log_format: Option<LogFormat>,
    },
    /// Start on an embedded database loaded with the example organisation (an online shop).
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "TOCSIN_LISTEN")]
        listen: String,
        /// Where to keep the demo database.
        #[arg(long, default_value = "sqlite://tocsin-demo.db")]
        database_url: String,
    },
    /// Check catalog YAML files; errors name file, line and column. Exit status 1 on errors.
    Validate {
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Print the plan that makes the database match the files, then apply it in one transaction.
    Apply {
        #[arg(required = true)]
        files: Vec<String>,
        /// Only print the plan.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write the catalog as YAML that `apply` accepts unchanged.
    Export {
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Which business functions are affected if SERVICE fails (or, with --function, which
    /// services a business function relies on).
    Impact {
        id: String,
        #[arg(long)]
        function: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Render the incident-management handbook (Markdown, or HTML with --html).
    Handbook {
        #[arg(long)]
        html: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage login accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Who is on call now (or --at TIME), per schedule; with --service, who its escalation
    /// policy reaches. TIME: RFC 3339 or a local YYYY-MM-DDTHH:MM in the schedule's zone.
    Oncall {
        #[arg(long)]
        schedule: Option<String>,
        #[arg(long)]
        team: Option<String>,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage on-call overrides (someone covering part of a schedule).
    Override {
        #[command(subcommand)]
        action: OverrideAction,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Calendar feeds: read-only iCalendar URLs of a schedule or a person's shifts.
    Feed {
        #[command(subcommand)]
        action: feed::FeedAction,
        #[command(flatten)]
        db: DbArgs,
    },
    /// On-call readiness over the next weeks: coverage gaps, load, overlaps, escalation
    /// levels that reach nobody, Tier 0 services without a policy. Exit status 1 on errors.
    Audit(readiness::AuditArgs),
    /// Integration keys: how monitoring systems send alerts for a service.
    Integration {
        #[command(subcommand)]
        action: alerts::IntegrationAction,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Alerts: list, acknowledge, resolve.
    Alert {
        #[command(subcommand)]
        action: alerts::AlertAction,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Incidents: declare, list, show, doc, status, role, note, update.
    Incident {
        #[command(subcommand)]
        action: incident::IncidentAction,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Postmortems: draft, list, show, export, write, reviewer, submit, approve, publish, action.
    Postmortem {
        #[command(subcommand)]
        action: postmortem::PostmortemAction,
        #[command(flatten)]
        db: DbArgs,
    },
    /// People's contact methods and notification rules ("Slack at once, email after 2m").
    Contact {
        #[command(subcommand)]
        action: contact::ContactAction,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Learning reports: response times, incidents per service, on-call load, breaches, top alerts.
    Report(report::ReportArgs),
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// Create a token; its secret is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: Role,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// Create an account, or reset its password and role. Reads the password from standard
    /// input with --password-stdin, or generates one and prints it.
    Set {
        username: String,
        #[arg(long, value_enum)]
        role: Role,
        /// The catalog person this account belongs to.
        #[arg(long)]
        person: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum OverrideAction {
    /// Put PERSON on call on a schedule from --from to --to (TIME: RFC 3339, or a local
    /// YYYY-MM-DDTHH:MM in the schedule's zone).
    Add {
        #[arg(long)]
        schedule: String,
        #[arg(long)]
        person: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Only where this person would have been on call (a swap).
        #[arg(long)]
        replaces: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Current and upcoming overrides.
    List {
        #[arg(long)]
        schedule: Option<String>,
    },
    /// Remove an override by id.
    Remove { id: String },
}

/// Runs a parsed command; the returned code is the process exit status.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve {
            db,
            listen,
            log_format: _,
        } => {
            let mut settings = db.settings()?;
            if let Some(l) = listen {
                settings.listen = l;
            }
            crate::app::serve(&settings).await?;
            Ok(0)
        }
        Command::Demo {
            listen,
            database_url,
        } => demo::run(&listen, &database_url).await,
        Command::Validate { files } => catalog::validate(&files),
        Command::Apply { files, dry_run, db } => catalog::apply(&files, dry_run, &db).await,
        Command::Export { output, db } => catalog::export(output.as_deref(), &db).await,
        Command::Impact { id, function, db } => catalog::impact(&id, function, &db).await,
        Command::Handbook { html, db } => catalog::handbook(html, &db).await,
        Command::Token { action, db } => admin::token(action, &db).await,
        Command::User { action, db } => admin::user(action, &db).await,
        Command::Oncall {
            schedule,
            team,
            service,
            at,
            db,
        } => {
            let filter = oncall::Filter {
                schedule,
                team,
                service,
                at,
            };
            oncall::oncall(filter, &db).await
        }
        Command::Override { action, db } => oncall::override_cmd(action, &db).await,
        Command::Feed { action, db } => feed::run(action, &db).await,
        Command::Audit(args) => readiness::run(args).await,
        Command::Integration { action, db } => alerts::integration_cmd(action, &db).await,
        Command::Alert { action, db } => alerts::alert_cmd(action, &db).await,
        Command::Contact { action, db } => contact::run(action, &db).await,
        Command::Incident { action, db } => incident::run(action, &db).await,
        Command::Postmortem { action, db } => postmortem::run(action, &db).await,
        Command::Report(args) => report::run(args).await,
        Command::Migrate { db } => {
            crate::app::open_db(&db.settings()?.database_url).await?;
            println!("migrations applied");
            Ok(0)
        }
    }
}

/// The log format a command line asks for (before settings files are read).
pub fn log_format(cli: &Cli) -> LogFormat {
    match &cli.command {
        Command::Serve {
            log_format: Some(f),
            ..
        } => *f,
        Command::Serve { db, .. } => db.settings().map_or(LogFormat::Text, |s| s.log_format),
        _ => LogFormat::Text,
    }
}
