-- Alert rules and playbooks (config as code, stored whole as JSON text like schedules; rules
-- keep their file order in `position`, because the first matching rule wins), what the rules
-- decided for each alert, and the queue of automatic playbook actions.
create table playbooks (
    id text primary key,
    title text not null,
    spec text not null
);

create table alert_rules (
    id text primary key,
    position bigint not null,
    spec text not null
);

-- No foreign keys: like the rest of an alert, these are history and outlive the rule.
alter table alerts add column rule_id text;
alter table alerts add column playbook_id text;
-- When the alert resolves itself unless its source re-sends it (moved on by every repeat).
alter table alerts add column auto_resolve_at bigint;
create index alerts_auto_resolve on alerts(auto_resolve_at)
    where auto_resolve_at is not null and status <> 'resolved';

-- One row per automatic action to run, written in the transaction that creates the alert.
-- The request is rendered at that moment (`request`, JSON), so a later edit of the playbook
-- cannot change what a queued run sends. Claimed with a lease like the outbox.
create table automation_runs (
    id bigint generated always as identity primary key,
    alert_id text not null references alerts(id) on delete cascade,
    playbook_id text not null,
    step bigint not null,
    name text not null,
    request text not null,
    created_at bigint not null,
    due_at bigint not null,
    attempts bigint not null default 0,
    status text not null check (status in ('pending', 'done', 'failed')),
    lease_owner text,
    lease_until bigint,
    finished_at bigint,
    unique (alert_id, step)
);
create index automation_runs_due on automation_runs(due_at) where status = 'pending';
