-- Postmortems: one per incident (keyed by the incident's id), drafted from the incident
-- document and the timeline, reviewed and published. Sections are copied from the template
-- when drafted, so a later template change never rewrites a postmortem in progress. Action
-- items keep their backlog link and the state last read from the backlog. `search_text` is
-- the lowercased title and sections, kept in step on every save, for the library's search on
-- both backends without a backend-specific full-text index.
create table postmortems (
    incident_id bigint primary key references incidents(id) on delete cascade,
    title text not null,
    status text not null check (status in ('draft', 'in_review', 'published')),
    -- The person who drives it to publication (the incident's commander by default).
    owner text not null default '',
    created_at bigint not null,
    created_by text not null,
    due_at bigint,
    -- When the engine next reminds the owner (or reviewers) of the due date.
    remind_at bigint,
    submitted_at bigint,
    published_at bigint,
    published_by text,
    search_text text not null default '',
    updated_at bigint not null
);
create index postmortems_remind on postmortems(remind_at) where remind_at is not null;
create index postmortems_status on postmortems(status, created_at);

create table postmortem_sections (
    incident_id bigint not null references postmortems(incident_id) on delete cascade,
    key text not null,
    position bigint not null,
    title text not null,
    help text not null default '',
    required bigint not null default 0,
    fill text not null default 'none',
    body text not null default '',
    updated_at bigint not null,
    updated_by text not null,
    primary key (incident_id, key)
);

create table postmortem_reviewers (
    incident_id bigint not null references postmortems(incident_id) on delete cascade,
    person_id text not null,
    added_at bigint not null,
    added_by text not null,
    approved_at bigint,
    primary key (incident_id, person_id)
);

create table postmortem_comments (
    id integer primary key autoincrement,
    incident_id bigint not null references postmortems(incident_id) on delete cascade,
    section_key text not null,
    at bigint not null,
    author text not null,
    body text not null
);
create index postmortem_comments_pm on postmortem_comments(incident_id, id);

create table postmortem_actions (
    id integer primary key autoincrement,
    incident_id bigint not null references postmortems(incident_id) on delete cascade,
    title text not null,
    kind text not null check (kind in ('prevent', 'mitigate', 'detect', 'automate', 'process')),
    owner text not null default '',
    team text not null default '',
    due_at bigint,
    status text not null default 'open' check (status in ('open', 'done')),
    -- The backlog item: github, jira or webhook; its key (owner/repo#12, OPS-7) and link.
    backlog_kind text,
    backlog_key text,
    backlog_url text,
    -- open or closed, as last read from the backlog.
    backlog_state text,
    backlog_error text,
    refreshed_at bigint,
    created_at bigint not null,
    created_by text not null,
    updated_at bigint not null
);
create index postmortem_actions_pm on postmortem_actions(incident_id, id);
create index postmortem_actions_open on postmortem_actions(status, due_at);

-- Business days after resolution within which a postmortem of this level is due.
alter table severities add column postmortem_due_days bigint;
