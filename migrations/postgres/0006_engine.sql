-- The engine's state: one escalation row per alert that is being escalated (its deadline,
-- `next_at`, lives here rather than in a timer, so a restart resumes it), and the outbox: one
-- row per message to send, written in the same transaction as the decision to send it.
--
-- Both tables carry a lease (`lease_owner`, `lease_until`): an instance claims due rows by
-- setting them, and a crashed instance's claims expire on their own. Portable to SQLite and
-- PostgreSQL alike, unlike `for update skip locked`.
create table escalations (
    alert_id text primary key references alerts(id) on delete cascade,
    policy_id text not null,
    -- The level notified next, in which pass through the policy (0 = first), and when.
    next_level bigint not null,
    round bigint not null,
    next_at bigint not null,
    state text not null check (state in ('active', 'stopped')),
    lease_owner text,
    lease_until bigint,
    started_at bigint not null,
    stopped_at bigint
);
create index escalations_due on escalations(next_at) where state = 'active';

-- The idempotency key (`alert:level:round:person` for pages) is unique: a retried or doubled
-- engine step inserts `on conflict do nothing`, and receivers get the key to drop repeats of a
-- delivery whose outcome was unknown. No foreign key to alerts: a sent message is history.
create table outbox (
    id bigint generated always as identity primary key,
    idempotency_key text not null unique,
    alert_id text not null,
    person_id text not null,
    level bigint not null,
    round bigint not null,
    kind text not null check (kind in ('page')),
    created_at bigint not null,
    next_attempt_at bigint not null,
    attempts bigint not null default 0,
    status text not null check (status in ('pending', 'sent', 'failed')),
    lease_owner text,
    lease_until bigint,
    last_error text,
    sent_at bigint
);
create index outbox_due on outbox(next_attempt_at) where status = 'pending';
create index outbox_alert on outbox(alert_id, id);
