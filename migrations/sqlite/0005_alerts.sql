-- Alerts: integration keys per service (stored as SHA-256 hashes), the alerts themselves and
-- each alert's event log. Deduplication is the partial unique index: one open alert per
-- (service, dedup key), and a new one may start once the previous is resolved. Alerts keep no
-- foreign keys to the catalog or to integrations: they are history and outlive both.
create table integrations (
    id text primary key,
    service_id text not null references services(id) on delete cascade,
    kind text not null
        check (kind in ('alertmanager', 'grafana', 'alertmanager_api', 'pagerduty', 'generic')),
    name text not null,
    key_hash text not null unique,
    created_by text not null,
    created_at bigint not null,
    rotated_at bigint
);
create index integrations_service on integrations(service_id);

create table alerts (
    id text primary key,
    service_id text not null,
    integration_id text,
    dedup_key text not null,
    status text not null check (status in ('triggered', 'acknowledged', 'resolved')),
    severity text,
    summary text not null,
    source text not null default '',
    labels text not null default '{}',
    annotations text not null default '{}',
    details text not null default 'null',
    links text not null default '[]',
    images text not null default '[]',
    started_at bigint,
    created_at bigint not null,
    last_event_at bigint not null,
    acknowledged_at bigint,
    acknowledged_by text,
    resolved_at bigint,
    resolved_by text,
    event_count bigint not null default 1
);
create unique index alerts_open_dedup on alerts(service_id, dedup_key) where status <> 'resolved';
create index alerts_status_created on alerts(status, created_at);
create index alerts_created on alerts(created_at);

create table alert_log (
    id integer primary key autoincrement,
    alert_id text not null references alerts(id) on delete cascade,
    at bigint not null,
    kind text not null,
    actor text not null,
    detail text not null default ''
);
create index alert_log_alert on alert_log(alert_id, id);
