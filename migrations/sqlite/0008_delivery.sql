-- Delivery: each outbox row is now one message on one channel (a person's notification rule,
-- or their default when they have none), may be a bundle of several alerts (a throttled
-- storm), and may be cancelled unsent (the alert was acknowledged or resolved before its
-- delayed rule came due). Every attempt is kept for the alert page. Alerts carry their
-- response target and its breach. SQLite cannot alter a check constraint, hence the rebuild.
create table outbox_new (
    id integer primary key autoincrement,
    idempotency_key text not null unique,
    alert_id text not null,
    person_id text not null,
    level bigint not null,
    round bigint not null,
    kind text not null check (kind in ('page', 'bundle')),
    created_at bigint not null,
    next_attempt_at bigint not null,
    attempts bigint not null default 0,
    status text not null check (status in ('pending', 'sent', 'failed', 'cancelled')),
    lease_owner text,
    lease_until bigint,
    last_error text,
    sent_at bigint,
    service_id text not null default '',
    -- Null: the person's default (their catalog email address).
    contact_method_id text,
    channel text not null default 'email'
);
insert into outbox_new (id, idempotency_key, alert_id, person_id, level, round, kind,
    created_at, next_attempt_at, attempts, status, lease_owner, lease_until, last_error, sent_at)
    select id, idempotency_key, alert_id, person_id, level, round, kind, created_at,
    next_attempt_at, attempts, status, lease_owner, lease_until, last_error, sent_at from outbox;
drop table outbox;
alter table outbox_new rename to outbox;
create index outbox_due on outbox(next_attempt_at) where status = 'pending';
create index outbox_alert on outbox(alert_id, id);
create index outbox_person_recent on outbox(person_id, service_id, created_at);

-- The alerts a bundle row carries besides its own.
create table outbox_items (
    outbox_id bigint not null references outbox(id) on delete cascade,
    alert_id text not null,
    primary key (outbox_id, alert_id)
);

create table outbox_attempts (
    id integer primary key autoincrement,
    outbox_id bigint not null references outbox(id) on delete cascade,
    at bigint not null,
    ok boolean not null,
    error text,
    duration_ms bigint not null
);
create index outbox_attempts_outbox on outbox_attempts(outbox_id, id);

alter table alerts add column response_due_at bigint;
alter table alerts add column breached_at bigint;
create index alerts_response_due on alerts(response_due_at) where status = 'triggered' and breached_at is null;

-- Secrets the server makes for itself once and every instance shares (the ack-link key).
create table server_secrets (
    name text primary key,
    value text not null
);
