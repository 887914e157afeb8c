-- Delivery: each outbox row is now one message on one channel (a person's notification rule,
-- or their default when they have none), may be a bundle of several alerts (a throttled
-- storm), and may be cancelled unsent (the alert was acknowledged or resolved before its
-- delayed rule came due). Every attempt is kept for the alert page. Alerts carry their
-- response target and its breach.
alter table outbox drop constraint outbox_kind_check;
alter table outbox add constraint outbox_kind_check check (kind in ('page', 'bundle'));
alter table outbox drop constraint outbox_status_check;
alter table outbox add constraint outbox_status_check
    check (status in ('pending', 'sent', 'failed', 'cancelled'));
alter table outbox add column service_id text not null default '';
-- Null: the person's default (their catalog email address).
alter table outbox add column contact_method_id text;
alter table outbox add column channel text not null default 'email';
create index outbox_person_recent on outbox(person_id, service_id, created_at);

-- The alerts a bundle row carries besides its own.
create table outbox_items (
    outbox_id bigint not null references outbox(id) on delete cascade,
    alert_id text not null,
    primary key (outbox_id, alert_id)
);

create table outbox_attempts (
    id bigint generated always as identity primary key,
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
