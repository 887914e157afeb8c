-- Test notifications ("Send test" on a contact method): an outbox row of kind 'test' for one
-- person and method, delivered like a page so a test proves the path a page takes. The
-- method remembers when its last test was queued: the throttle is one conditional update of
-- that row, so two clicks at once cannot both get through.
--
-- SQLite cannot alter a check constraint, hence the rebuild. Dropping the old table deletes
-- its attempts and bundle items by cascade (foreign keys are on, and cannot be switched off
-- inside the migration's transaction), so they are kept aside and put back: their foreign
-- keys name `outbox`, which the rebuilt table is called again by then.
create temp table keep_outbox_items as select * from outbox_items;
create temp table keep_outbox_attempts as select * from outbox_attempts;
create table outbox_new (
    id integer primary key autoincrement,
    idempotency_key text not null unique,
    alert_id text not null,
    person_id text not null,
    level bigint not null,
    round bigint not null,
    kind text not null check (kind in ('page', 'bundle', 'test')),
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
    created_at, next_attempt_at, attempts, status, lease_owner, lease_until, last_error, sent_at,
    service_id, contact_method_id, channel)
    select id, idempotency_key, alert_id, person_id, level, round, kind, created_at,
    next_attempt_at, attempts, status, lease_owner, lease_until, last_error, sent_at,
    service_id, contact_method_id, channel from outbox;
drop table outbox;
alter table outbox_new rename to outbox;
insert into outbox_items (outbox_id, alert_id)
    select outbox_id, alert_id from keep_outbox_items;
insert into outbox_attempts (id, outbox_id, at, ok, error, duration_ms)
    select id, outbox_id, at, ok, error, duration_ms from keep_outbox_attempts;
drop table keep_outbox_items;
drop table keep_outbox_attempts;
create index outbox_due on outbox(next_attempt_at) where status = 'pending';
create index outbox_alert on outbox(alert_id, id);
create index outbox_person_recent on outbox(person_id, service_id, created_at);
create index outbox_report on outbox(created_at, kind, person_id, alert_id, level, round,
    service_id);
-- A method's tests, newest first (its page and `GET /api/v1/contact-methods/{id}/tests`).
create index outbox_tests on outbox(contact_method_id, id) where kind = 'test';

alter table contact_methods add column last_test_at bigint;
