//! SQL for teams and people (membership rows keep the order the person lists them in).

use std::collections::HashMap;

use crate::db::{StoreError, Tx};
use crate::on_tx;

use super::{Person, Team};

pub async fn load_teams(tx: &mut Tx) -> Result<Vec<Team>, StoreError> {
    const SQL: &str = "select id, name, description, escalation_policy from teams order by id";
    let rows: Vec<(String, String, String, Option<String>)> =
        on_tx!(tx, |c| sqlx::query_as(SQL).fetch_all(&mut *c).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, description, escalation_policy)| Team {
            id,
            name,
            description,
            escalation_policy,
        })
        .collect())
}

pub async fn load_people(tx: &mut Tx) -> Result<Vec<Person>, StoreError> {
    const PEOPLE: &str = "select id, name, email, time_zone, title from people order by id";
    const TEAMS: &str = "select person_id, team_id from person_teams order by person_id, position";
    let rows: Vec<(String, String, String, String, String)> =
        on_tx!(tx, |c| sqlx::query_as(PEOPLE).fetch_all(&mut *c).await)?;
    let links: Vec<(String, String)> =
        on_tx!(tx, |c| sqlx::query_as(TEAMS).fetch_all(&mut *c).await)?;
    let mut teams: HashMap<String, Vec<String>> = HashMap::new();
    for (person, team) in links {
        teams.entry(person).or_default().push(team);
    }
    Ok(rows
        .into_iter()
        .map(|(id, name, email, time_zone, title)| Person {
            teams: teams.remove(&id).unwrap_or_default(),
            id,
            name,
            email,
            time_zone,
            title,
        })
        .collect())
}

pub async fn upsert_team(tx: &mut Tx, t: &Team) -> Result<(), StoreError> {
    const SQL: &str = "insert into teams (id, name, description, escalation_policy) \
        values ($1, $2, $3, $4) on conflict (id) do update set name = excluded.name, \
        description = excluded.description, escalation_policy = excluded.escalation_policy";
    on_tx!(tx, |c| sqlx::query(SQL)
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.description)
        .bind(&t.escalation_policy)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Creates or replaces a person and their memberships; `fresh` (a new person) skips clearing
/// memberships that cannot exist yet.
pub async fn upsert_person(tx: &mut Tx, p: &Person, fresh: bool) -> Result<(), StoreError> {
    const SQL: &str = "insert into people (id, name, email, time_zone, title) \
        values ($1, $2, $3, $4, $5) on conflict (id) do update set name = excluded.name, \
        email = excluded.email, time_zone = excluded.time_zone, title = excluded.title";
    const CLEAR: &str = "delete from person_teams where person_id = $1";
    on_tx!(tx, |c| {
        sqlx::query(SQL)
            .bind(&p.id)
            .bind(&p.name)
            .bind(&p.email)
            .bind(&p.time_zone)
            .bind(&p.title)
            .execute(&mut *c)
            .await?;
        if !fresh {
            sqlx::query(CLEAR).bind(&p.id).execute(&mut *c).await?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    let teams: Vec<Vec<&str>> = p.teams.iter().map(|t| vec![t.as_str()]).collect();
    tx.insert_rows(
        "person_teams (person_id, team_id, position)",
        &[&p.id],
        &teams,
        true,
    )
    .await
}

pub async fn delete_team(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query("delete from teams where id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_person(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query("delete from people where id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
