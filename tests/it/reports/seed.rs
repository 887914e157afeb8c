//! A scripted month of incidents, alerts and pages over the example organisation, written
//! with plain SQL so every instant is exact and the expected numbers can be worked out by
//! hand (see the comments in `api.rs`). Times are September 2026, UTC.

use tocsin::db::Db;

pub const MIN: i64 = 60_000;
/// 2026-09-01T00:00:00Z, a Tuesday.
pub const SEP: i64 = 1_788_220_800_000;
pub const DAY: i64 = 86_400_000;
pub const HOUR: i64 = 3_600_000;

/// INC-1 starts here: Tuesday 10:00Z (11:00 in London, 12:00 in Berlin).
pub const S1: i64 = SEP + 10 * HOUR;
/// INC-2: Thursday 3 September 06:30Z.
pub const S2: i64 = SEP + 2 * DAY + 6 * HOUR + 30 * MIN;
/// INC-3: Monday 21 September 09:00Z, still open.
pub const S3: i64 = SEP + 20 * DAY + 9 * HOUR;
/// INC-4: 40 days before September, outside every window the tests use.
pub const S4: i64 = SEP - 40 * DAY;

async fn exec(db: &Db, sql: String) {
    let sql = sqlx::AssertSqlSafe(sql);
    match db {
        Db::Sqlite(p, _) => {
            sqlx::raw_sql(sql).execute(p).await.expect("seed");
        }
        Db::Postgres(p) => {
            sqlx::raw_sql(sql).execute(p).await.expect("seed");
        }
    }
}

fn opt(v: Option<i64>) -> String {
    v.map_or_else(|| "null".into(), |v| v.to_string())
}

/// (id, title, severity, start, ack, declared, mitigated, resolved).
type IncidentRow = (
    i64,
    &'static str,
    &'static str,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    Option<i64>,
);
/// (id, service, severity, created, breached, rule, playbook, summary, events).
type AlertRow = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<i64>,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    i64,
);

/// Writes the scripted history into `db` (which holds the example catalog).
pub async fn history(db: &Db) {
    let mut sql = String::new();
    // (id, title, severity, start, ack, declared, mitigated, resolved) in minutes after start.
    let incidents: [IncidentRow; 4] = [
        (
            1,
            "Checkout 5xx",
            "sev0",
            S1,
            Some(3),
            10,
            Some(30),
            Some(60),
        ),
        (2, "Payments slow", "sev0", S2, Some(9), 5, None, Some(120)),
        (3, "Storefront errors", "sev1", S3, Some(45), 20, None, None),
        (4, "Old outage", "sev0", S4, Some(1), 1, Some(10), Some(20)),
    ];
    for (id, title, sev, start, ack, dec, mit, res) in incidents {
        let at = |m: Option<i64>| opt(m.map(|m| start + m * MIN));
        let status = if res.is_some() {
            "resolved"
        } else {
            "investigating"
        };
        sql.push_str(&format!(
            "insert into incidents (id, title, status, severity_id, source, declared_at, \
             declared_by, started_at, acknowledged_at, mitigated_at, resolved_at, updated_at) \
             values ({id}, '{title}', '{status}', '{sev}', 'api', {}, 'test', {start}, {}, {}, {}, {start});\n",
            start + dec * MIN,
            at(ack),
            at(mit),
            at(res)
        ));
    }
    for (id, service) in [
        (1, "checkout-api"),
        (1, "payment-gateway"),
        (2, "payment-gateway"),
        (3, "web-storefront"),
        (4, "checkout-api"),
    ] {
        sql.push_str(&format!(
            "insert into incident_services (incident_id, service_id) values ({id}, '{service}');\n"
        ));
    }
    for (id, role, person) in [
        (1, "commander", "jon-doe"),
        (1, "ops", "jane-doe"),
        (2, "commander", "jane-doe"),
        (4, "commander", "jon-doe"),
    ] {
        sql.push_str(&format!(
            "insert into incident_roles (incident_id, role, person_id, from_at, assigned_by) \
             values ({id}, '{role}', '{person}', 0, 'test');\n"
        ));
    }
    // (id, service, severity, created, breached, rule, playbook, summary, events).
    let alerts: [AlertRow; 5] = [
        (
            "a1",
            "checkout-api",
            "critical",
            S1,
            Some(S1 + 5 * MIN),
            Some("checkout-5xx"),
            Some("checkout-errors"),
            "Checkout 5xx above 5%",
            3,
        ),
        (
            "a2",
            "checkout-api",
            "critical",
            S1 + HOUR,
            None,
            Some("checkout-5xx"),
            Some("checkout-errors"),
            "Checkout 5xx above 10%",
            2,
        ),
        (
            "a3",
            "payment-gateway",
            "error",
            S2,
            Some(S2 + 30 * MIN),
            None,
            None,
            "Payment latency",
            7,
        ),
        (
            "a4",
            "payment-gateway",
            "error",
            S2 + DAY,
            None,
            None,
            None,
            "Payment latency",
            1,
        ),
        (
            "a5",
            "checkout-api",
            "critical",
            S4,
            Some(S4 + MIN),
            Some("checkout-5xx"),
            None,
            "Old",
            1,
        ),
    ];
    for (id, service, sev, created, breached, rule, playbook, summary, events) in alerts {
        let text = |v: Option<&str>| v.map_or_else(|| "null".into(), |v| format!("'{v}'"));
        sql.push_str(&format!(
            "insert into alerts (id, service_id, dedup_key, status, severity, summary, created_at, \
             last_event_at, event_count, breached_at, rule_id, playbook_id) values ('{id}', \
             '{service}', '{id}', 'resolved', '{sev}', '{summary}', {created}, {created}, {events}, \
             {}, {}, {});\n",
            opt(breached),
            text(rule),
            text(playbook)
        ));
    }
    // (key, alert, person, level, kind, channel, created). Jon is in London (BST, +1), Jane in
    // Berlin (CEST, +2), Mei in Toronto.
    let pages = [
        // Tue 10:00Z = 11:00 BST: working hours. Two channels, one page.
        ("p1", "a1", "jon-doe", 0, "page", "email", S1),
        ("p2", "a1", "jon-doe", 0, "page", "slack", S1 + MIN),
        // Sun 6 Sep 21:00Z = 22:00 BST: outside.
        (
            "p3",
            "a4",
            "jon-doe",
            0,
            "page",
            "email",
            SEP + 5 * DAY + 21 * HOUR,
        ),
        // Thu 06:30Z = 08:30 CEST: outside; 07:00Z = 09:00 CEST: inside.
        ("p4", "a3", "jane-doe", 0, "page", "email", S2),
        ("p5", "a3", "jane-doe", 1, "bundle", "email", S2 + 30 * MIN),
        // Before September.
        ("p6", "a5", "mei-lin", 0, "page", "email", S4),
    ];
    for (key, alert, person, level, kind, channel, created) in pages {
        let service = if matches!(alert, "a3" | "a4") {
            "payment-gateway"
        } else {
            "checkout-api"
        };
        sql.push_str(&format!(
            "insert into outbox (idempotency_key, alert_id, person_id, level, round, kind, \
             created_at, next_attempt_at, status, service_id, channel) values ('{key}', \
             '{alert}', '{person}', {level}, 0, '{kind}', {created}, {created}, 'sent', \
             '{service}', '{channel}');\n"
        ));
    }
    exec(db, sql).await;
}
