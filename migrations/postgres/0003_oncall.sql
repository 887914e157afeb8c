-- On-call: schedules and escalation policies (config as code; their nested parts, layers and
-- levels, are JSON text: always read and written whole, never queried inside), the policy a
-- team or service points at, a person's title, and overrides (operational data).
alter table teams add column escalation_policy text;
alter table services add column escalation_policy text;
alter table people add column title text not null default '';

create table schedules (
    id text primary key,
    name text not null,
    team text not null,
    time_zone text not null,
    layers text not null
);

create table escalation_policies (
    id text primary key,
    name text not null,
    description text not null default '',
    repeat_count bigint not null,
    levels text not null
);

create table overrides (
    id text primary key,
    schedule_id text not null references schedules(id) on delete cascade,
    start_ms bigint not null,
    end_ms bigint not null,
    person_id text not null,
    replaces text,
    reason text not null default '',
    created_by text not null,
    created_at bigint not null
);
create index overrides_schedule_end on overrides(schedule_id, end_ms);
