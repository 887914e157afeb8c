-- Incidents: the record a declared incident keeps. Current state lives on `incidents`; its
-- history is in the append-only timeline; role holders keep every stint (`to_at` null: the
-- current holder). Incident messages (chat channel posts, stakeholder updates, reminders)
-- go through their own outbox, claimed with a lease like the alert outbox. No foreign keys
-- to the catalog: incidents are history and outlive the services and people they name.
create table incidents (
    id integer primary key autoincrement,
    title text not null,
    summary text not null default '',
    status text not null check (status in ('investigating', 'identified', 'monitoring', 'resolved', 'closed')),
    severity_id text not null,
    -- How it was declared: web, api, cli, chat, alert, auto.
    source text not null,
    declared_at bigint not null,
    declared_by text not null,
    -- When the trouble started: the first attached alert's start, else the declaration.
    started_at bigint not null,
    acknowledged_at bigint,
    mitigated_at bigint,
    resolved_at bigint,
    closed_at bigint,
    channel_kind text,
    channel_url text,
    last_update_at bigint,
    -- When the Comms Lead owes the next stakeholder update (the severity's cadence).
    update_due_at bigint,
    -- Lapses of the cadence since the last update (the second one also reminds the IC).
    lapses bigint not null default 0,
    updated_at bigint not null
);
create index incidents_open on incidents(status, declared_at);
create index incidents_update_due on incidents(update_due_at) where update_due_at is not null;

create table incident_services (
    incident_id bigint not null references incidents(id) on delete cascade,
    service_id text not null,
    primary key (incident_id, service_id)
);

-- The impacted business functions, computed from the catalog when services are attached.
create table incident_functions (
    incident_id bigint not null references incidents(id) on delete cascade,
    function_id text not null,
    name text not null,
    criticality text not null,
    primary key (incident_id, function_id)
);

create table incident_alerts (
    incident_id bigint not null references incidents(id) on delete cascade,
    alert_id text not null,
    attached_at bigint not null,
    primary key (incident_id, alert_id)
);
create index incident_alerts_alert on incident_alerts(alert_id);

-- Every stint of every role: commander, ops, comms.
create table incident_roles (
    id integer primary key autoincrement,
    incident_id bigint not null references incidents(id) on delete cascade,
    role text not null check (role in ('commander', 'ops', 'comms')),
    person_id text not null,
    from_at bigint not null,
    to_at bigint,
    assigned_by text not null,
    -- The note the previous holder left when handing over to this one.
    handover_note text not null default '',
    -- When Tocsin asked this holder to hand over because their on-call shift ended.
    prompted_at bigint
);
create index incident_roles_current on incident_roles(incident_id, role) where to_at is null;

-- Teams pulled in and individual investigators.
create table incident_participants (
    incident_id bigint not null references incidents(id) on delete cascade,
    kind text not null check (kind in ('team', 'person')),
    ref_id text not null,
    added_at bigint not null,
    added_by text not null,
    primary key (incident_id, kind, ref_id)
);

create table incident_timeline (
    id integer primary key autoincrement,
    incident_id bigint not null references incidents(id) on delete cascade,
    at bigint not null,
    kind text not null,
    actor text not null,
    body text not null default '',
    link_url text,
    image_url text,
    starred boolean not null default false
);
create index incident_timeline_incident on incident_timeline(incident_id, id);

create table incident_updates (
    id integer primary key autoincrement,
    incident_id bigint not null references incidents(id) on delete cascade,
    at bigint not null,
    author text not null,
    status text not null,
    impact text not null default '',
    actions text not null default '',
    next_update_at bigint
);
create index incident_updates_incident on incident_updates(incident_id, id);

-- Who hears about the incident: people, teams, and addresses of a stakeholder list.
create table incident_subscribers (
    incident_id bigint not null references incidents(id) on delete cascade,
    kind text not null check (kind in ('person', 'team', 'email', 'webhook', 'slack', 'mattermost')),
    target text not null,
    primary key (incident_id, kind, target)
);

create table incident_messages (
    id integer primary key autoincrement,
    incident_id bigint not null references incidents(id) on delete cascade,
    idempotency_key text not null unique,
    channel text not null check (channel in ('email', 'webhook', 'slack', 'mattermost')),
    target text not null,
    subject text not null,
    body text not null,
    created_at bigint not null,
    next_attempt_at bigint not null,
    attempts bigint not null default 0,
    status text not null check (status in ('pending', 'sent', 'failed')),
    lease_owner text,
    lease_until bigint,
    last_error text,
    sent_at bigint
);
create index incident_messages_due on incident_messages(next_attempt_at) where status = 'pending';
create index incident_messages_incident on incident_messages(incident_id, id);

-- Alerts whose severity declares incidents on its own: due at once or after N minutes.
create table declare_watches (
    alert_id text primary key,
    severity_id text not null,
    due_at bigint not null
);
create index declare_watches_due on declare_watches(due_at);
