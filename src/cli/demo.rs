//! `tocsin demo`: a database loaded with the example organisation, an admin account with a
//! fresh password, and the server. The example files are compiled into the binary so the demo
//! works from any directory.

use crate::auth::{self, Role};
use crate::catalog::store;
use crate::clock::{Clock, SystemClock};
use crate::config::{self, Source};
use crate::settings::Settings;

/// The example organisation's files, as (name, text).
pub const EXAMPLE: [(&str, &str); 6] = [
    (
        "examples/ecommerce/people.yaml",
        include_str!("../../examples/ecommerce/people.yaml"),
    ),
    (
        "examples/ecommerce/oncall.yaml",
        include_str!("../../examples/ecommerce/oncall.yaml"),
    ),
    (
        "examples/ecommerce/catalog.yaml",
        include_str!("../../examples/ecommerce/catalog.yaml"),
    ),
    (
        "examples/ecommerce/alerting.yaml",
        include_str!("../../examples/ecommerce/alerting.yaml"),
    ),
    (
        "examples/ecommerce/severities.yaml",
        include_str!("../../examples/ecommerce/severities.yaml"),
    ),
    (
        "examples/ecommerce/slos.yaml",
        include_str!("../../examples/ecommerce/slos.yaml"),
    ),
];

/// The example organisation as sources for `config::load`.
pub fn example_sources() -> Vec<Source> {
    EXAMPLE
        .iter()
        .map(|(path, text)| Source {
            path: (*path).into(),
            text: (*text).into(),
        })
        .collect()
}

/// Loads the example organisation into `db` (idempotent) and returns the admin password.
pub async fn seed(db: &crate::db::Db, at: i64) -> anyhow::Result<String> {
    let current = store::load(db).await?;
    let loaded = config::load(example_sources(), &current).map_err(|errors| {
        anyhow::anyhow!(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    config::apply::apply(db, at, "demo", &loaded.catalog, false).await?;
    let password = auth::new_password();
    auth::accounts::set_account(db, "admin", Role::Admin, None, &password, "demo").await?;
    Ok(password)
}

pub async fn run(listen: &str, database_url: &str) -> anyhow::Result<i32> {
    let db = crate::app::open_db(database_url).await?;
    let now = SystemClock.now_ms();
    let password = seed(&db, now).await?;
    let made = super::demo_history::seed(&db, now).await?;
    if made > 0 {
        println!(
            "Ninety days of demo history: {made} past incidents, their alerts and postmortems."
        );
    }
    db.close().await;
    let settings = Settings {
        listen: listen.into(),
        database_url: database_url.into(),
        ..Settings::default()
    };
    println!("Tocsin demo: the example online shop is loaded into {database_url}.");
    println!("Open http://{listen}/ and sign in as admin with password {password}");
    crate::app::serve(&settings).await?;
    Ok(0)
}
