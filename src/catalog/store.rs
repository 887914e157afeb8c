//! SQL for the catalog: loading the whole snapshot, writing records inside a transaction, and
//! the impact queries (recursive CTEs, which both backends run unchanged).

use std::collections::HashMap;

use crate::db::{Db, StoreError, Tx};
use crate::{escalation, oncall, people};
use crate::{on_db, on_tx};

use super::impact::{self, Graph, Impact, ServiceRef};
use super::{
    BusinessFunction, Catalog, Criticality, Domain, Kind, Link, Service, ServiceType, Tier,
};

/// Reads the whole catalog, every list ordered by id (tiers by level). The order is fixed here,
/// in Rust, because PostgreSQL's `order by` on text follows the server's collation.
pub async fn load(db: &Db) -> Result<Catalog, StoreError> {
    // One read transaction: a consistent snapshot even while a writer commits.
    let mut tx = db.begin_read().await?;
    let catalog = load_in(&mut tx).await?;
    // End the read transaction now rather than leaving a deferred rollback to the pool: until
    // it runs, the connection sits idle in a transaction holding its read locks.
    tx.commit().await?;
    Ok(catalog)
}

/// [`load`] inside a transaction, on its connection (the catalog writer reads under its lock).
pub async fn load_in(tx: &mut Tx) -> Result<Catalog, StoreError> {
    let mut c = Catalog {
        tiers: load_tiers(tx).await?,
        teams: people::store::load_teams(tx).await?,
        domains: load_domains(tx).await?,
        people: people::store::load_people(tx).await?,
        schedules: oncall::store::load_schedules(tx).await?,
        escalation_policies: escalation::store::load_policies(tx).await?,
        severities: crate::severity::store::load(tx).await?,
        business_functions: load_functions(tx).await?,
        services: load_services(tx).await?,
        playbooks: super::alerting::store::load_playbooks(tx).await?,
        alert_rules: super::alerting::store::load_rules(tx).await?,
        slos: crate::slo::store::load(tx).await?,
    };
    c.teams.sort_by(|a, b| a.id.cmp(&b.id));
    c.domains.sort_by(|a, b| a.id.cmp(&b.id));
    c.people.sort_by(|a, b| a.id.cmp(&b.id));
    c.business_functions.sort_by(|a, b| a.id.cmp(&b.id));
    c.services.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(c)
}

async fn load_tiers(tx: &mut Tx) -> Result<Vec<Tier>, StoreError> {
    const SQL: &str = "select level, name, description from tiers order by level";
    let rows: Vec<(i64, String, String)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    Ok(rows
        .into_iter()
        .map(|(level, name, description)| Tier {
            level: u8::try_from(level).unwrap_or(u8::MAX),
            name,
            description,
        })
        .collect())
}

async fn load_domains(tx: &mut Tx) -> Result<Vec<Domain>, StoreError> {
    const SQL: &str = "select id, name, description from domains order by id";
    let rows: Vec<(String, String, String)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, description)| Domain {
            id,
            name,
            description,
        })
        .collect())
}

async fn load_functions(tx: &mut Tx) -> Result<Vec<BusinessFunction>, StoreError> {
    const SQL: &str = "select id, name, description, primary_domain, owner_team, criticality \
        from business_functions order by id";
    const DOMAINS: &str =
        "select function_id, domain_id from function_domains order by function_id, position";
    type Row = (String, String, String, String, String, String);
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    let mut domains = group(on_tx!(tx, |c| sqlx::query_as(DOMAINS)
        .fetch_all(&mut *c)
        .await)?);
    Ok(rows
        .into_iter()
        .map(
            |(id, name, description, primary_domain, owner_team, criticality)| BusinessFunction {
                depends_on_domains: domains.remove(&id).unwrap_or_default(),
                criticality: Criticality::parse(&criticality).unwrap_or(Criticality::Medium),
                id,
                name,
                description,
                primary_domain,
                owner_team,
            },
        )
        .collect())
}

async fn load_services(tx: &mut Tx) -> Result<Vec<Service>, StoreError> {
    const SQL: &str = "select id, name, description, kind, stateful, owner_team, tier, domain, \
        escalation_policy from services order by id";
    const DEPS: &str =
        "select service_id, depends_on from service_dependencies order by service_id, position";
    const LINKS: &str =
        "select service_id, title, url from service_links order by service_id, position";
    type Row = (
        String,
        String,
        String,
        String,
        bool,
        String,
        i64,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    let mut deps = group(on_tx!(tx, |c| sqlx::query_as(DEPS)
        .fetch_all(&mut *c)
        .await)?);
    let link_rows: Vec<(String, String, String)> =
        on_tx!(tx, |c| sqlx::query_as(LINKS).fetch_all(&mut *c).await)?;
    let mut links: HashMap<String, Vec<Link>> = HashMap::new();
    for (service, title, url) in link_rows {
        links.entry(service).or_default().push(Link { title, url });
    }
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                name,
                description,
                kind,
                stateful,
                owner_team,
                tier,
                domain,
                escalation_policy,
            )| Service {
                escalation_policy,
                depends_on: deps.remove(&id).unwrap_or_default(),
                links: links.remove(&id).unwrap_or_default(),
                kind: ServiceType::parse(&kind).unwrap_or(ServiceType::Other),
                tier: u8::try_from(tier).unwrap_or(u8::MAX),
                id,
                name,
                description,
                stateful,
                owner_team,
                domain,
            },
        )
        .collect())
}

fn group(pairs: Vec<(String, String)>) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

/// Takes the catalog write lock for the rest of `tx` (see migration 0002): concurrent catalog
/// writers queue here instead of overwriting each other's snapshots.
pub async fn lock_catalog(tx: &mut Tx) -> Result<(), StoreError> {
    const SQL: &str = "update locks set version = version + 1 where name = 'catalog'";
    on_tx!(tx, |c| sqlx::query(SQL)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Creates or replaces the record `id` of `kind`, taken from `catalog`.
///
/// `fresh` says the record is new, so it has no child rows to clear.
pub async fn upsert(
    tx: &mut Tx,
    catalog: &Catalog,
    kind: Kind,
    id: &str,
    fresh: bool,
) -> Result<(), StoreError> {
    let missing = || StoreError::NotFound;
    match kind {
        Kind::Tier => {
            let t = catalog
                .tiers
                .iter()
                .find(|t| t.level.to_string() == id)
                .ok_or_else(missing)?;
            upsert_tier(tx, t).await
        }
        Kind::Severity => {
            let (position, s) = catalog
                .severities
                .iter()
                .enumerate()
                .find(|(_, s)| s.id == id)
                .ok_or_else(missing)?;
            crate::severity::store::upsert(tx, s, position).await
        }
        Kind::Team => people::store::upsert_team(tx, catalog.team(id).ok_or_else(missing)?).await,
        Kind::Domain => upsert_domain(tx, catalog.domain(id).ok_or_else(missing)?).await,
        Kind::Person => {
            let p = catalog
                .people
                .iter()
                .find(|p| p.id == id)
                .ok_or_else(missing)?;
            people::store::upsert_person(tx, p, fresh).await
        }
        Kind::Schedule => {
            oncall::store::upsert_schedule(tx, catalog.schedule(id).ok_or_else(missing)?).await
        }
        Kind::EscalationPolicy => {
            let p = catalog.escalation_policy(id).ok_or_else(missing)?;
            escalation::store::upsert_policy(tx, p).await
        }
        Kind::BusinessFunction => {
            let f = catalog
                .business_functions
                .iter()
                .find(|f| f.id == id)
                .ok_or_else(missing)?;
            upsert_function(tx, f, fresh).await
        }
        Kind::Service => upsert_service(tx, catalog.service(id).ok_or_else(missing)?, fresh).await,
        Kind::Playbook => {
            let p = catalog.playbook(id).ok_or_else(missing)?;
            super::alerting::store::upsert_playbook(tx, p).await
        }
        Kind::AlertRule => {
            let at = catalog
                .alert_rules
                .iter()
                .position(|r| r.id == id)
                .ok_or_else(missing)?;
            super::alerting::store::upsert_rule(tx, &catalog.alert_rules[at], at).await
        }
        Kind::Slo => crate::slo::store::upsert(tx, catalog.slo(id).ok_or_else(missing)?).await,
    }
}

/// Deletes the record `id` of `kind`; its child rows (links, memberships) go with it.
pub async fn delete(tx: &mut Tx, kind: Kind, id: &str) -> Result<(), StoreError> {
    let sql = match kind {
        Kind::Tier => {
            let level: i64 = id.parse().map_err(|_| StoreError::NotFound)?;
            on_tx!(tx, |c| sqlx::query("delete from tiers where level = $1")
                .bind(level)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
            return Ok(());
        }
        Kind::Team => return people::store::delete_team(tx, id).await,
        Kind::Person => return people::store::delete_person(tx, id).await,
        Kind::Domain => "delete from domains where id = $1",
        Kind::Severity => "delete from severities where id = $1",
        Kind::Schedule => "delete from schedules where id = $1",
        Kind::EscalationPolicy => "delete from escalation_policies where id = $1",
        Kind::BusinessFunction => "delete from business_functions where id = $1",
        Kind::Service => "delete from services where id = $1",
        Kind::Playbook => "delete from playbooks where id = $1",
        Kind::AlertRule => "delete from alert_rules where id = $1",
        Kind::Slo => "delete from slos where id = $1",
    };
    on_tx!(tx, |c| sqlx::query(sql)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

async fn upsert_tier(tx: &mut Tx, t: &Tier) -> Result<(), StoreError> {
    const SQL: &str = "insert into tiers (level, name, description) values ($1, $2, $3) \
        on conflict (level) do update set name = excluded.name, description = excluded.description";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(i64::from(t.level))
        .bind(&t.name)
        .bind(&t.description)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

async fn upsert_domain(tx: &mut Tx, d: &Domain) -> Result<(), StoreError> {
    const SQL: &str = "insert into domains (id, name, description) values ($1, $2, $3) \
        on conflict (id) do update set name = excluded.name, description = excluded.description";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&d.id)
        .bind(&d.name)
        .bind(&d.description)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

async fn upsert_function(tx: &mut Tx, f: &BusinessFunction, fresh: bool) -> Result<(), StoreError> {
    const SQL: &str = "insert into business_functions \
        (id, name, description, primary_domain, owner_team, criticality) values ($1, $2, $3, $4, $5, $6) \
        on conflict (id) do update set name = excluded.name, description = excluded.description, \
        primary_domain = excluded.primary_domain, owner_team = excluded.owner_team, \
        criticality = excluded.criticality";
    const CLEAR: &str = "delete from function_domains where function_id = $1";
    on_tx!(tx, |c| {
        sqlx::query(SQL)
            .bind(&f.id)
            .bind(&f.name)
            .bind(&f.description)
            .bind(&f.primary_domain)
            .bind(&f.owner_team)
            .bind(f.criticality.as_str())
            .execute(&mut *c)
            .await?;
        if !fresh {
            sqlx::query(CLEAR).bind(&f.id).execute(&mut *c).await?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    let domains: Vec<Vec<&str>> = f
        .depends_on_domains
        .iter()
        .map(|d| vec![d.as_str()])
        .collect();
    tx.insert_rows(
        "function_domains (function_id, domain_id, position)",
        &[&f.id],
        &domains,
        true,
    )
    .await
}

async fn upsert_service(tx: &mut Tx, s: &Service, fresh: bool) -> Result<(), StoreError> {
    const SQL: &str = "insert into services \
        (id, name, description, kind, stateful, owner_team, tier, domain, escalation_policy) \
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
        on conflict (id) do update set name = excluded.name, description = excluded.description, \
        kind = excluded.kind, stateful = excluded.stateful, owner_team = excluded.owner_team, \
        tier = excluded.tier, domain = excluded.domain, escalation_policy = excluded.escalation_policy";
    const CLEAR_DEPS: &str = "delete from service_dependencies where service_id = $1";
    const CLEAR_LINKS: &str = "delete from service_links where service_id = $1";
    on_tx!(tx, |c| {
        sqlx::query(SQL)
            .bind(&s.id)
            .bind(&s.name)
            .bind(&s.description)
            .bind(s.kind.as_str())
            .bind(s.stateful)
            .bind(&s.owner_team)
            .bind(i64::from(s.tier))
            .bind(&s.domain)
            .bind(&s.escalation_policy)
            .execute(&mut *c)
            .await?;
        if !fresh {
            sqlx::query(CLEAR_DEPS).bind(&s.id).execute(&mut *c).await?;
            sqlx::query(CLEAR_LINKS)
                .bind(&s.id)
                .execute(&mut *c)
                .await?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    let deps: Vec<Vec<&str>> = s.depends_on.iter().map(|d| vec![d.as_str()]).collect();
    tx.insert_rows(
        "service_dependencies (service_id, depends_on, position)",
        &[&s.id],
        &deps,
        true,
    )
    .await?;
    let links: Vec<Vec<&str>> = s
        .links
        .iter()
        .map(|l| vec![l.title.as_str(), l.url.as_str()])
        .collect();
    tx.insert_rows(
        "service_links (service_id, title, url, position)",
        &[&s.id],
        &links,
        true,
    )
    .await
}

/// The catalog's version: bumped by every committed catalog write (it is the lock row), so a
/// cached snapshot is current exactly when its version matches.
pub async fn version(db: &Db) -> Result<i64, StoreError> {
    const SQL: &str = "select version from locks where name = 'catalog'";
    Ok(on_db!(db, |p| sqlx::query_scalar(SQL).fetch_one(p).await)?)
}

/// [`version`] inside a transaction: read together with the snapshot it labels.
pub async fn version_in(tx: &mut Tx) -> Result<i64, StoreError> {
    const SQL: &str = "select version from locks where name = 'catalog'";
    Ok(on_tx!(tx, |c| sqlx::query_scalar(SQL)
        .fetch_one(&mut *c)
        .await)?)
}

/// What fails when `service` fails (see `impact`); NotFound for an unknown service.
pub async fn impact_of_service(db: &Db, service: &str) -> Result<Impact, StoreError> {
    let c = load(db).await?;
    impact::impact_of(&c, &Graph::new(&c), service).ok_or(StoreError::NotFound)
}

/// Every service a business function relies on; NotFound for an unknown function.
pub async fn dependencies_of_function(
    db: &Db,
    function: &str,
) -> Result<Vec<ServiceRef>, StoreError> {
    let c = load(db).await?;
    impact::relied_on_by(&c, &Graph::new(&c), function).ok_or(StoreError::NotFound)
}
