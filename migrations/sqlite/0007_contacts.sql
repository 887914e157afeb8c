-- How to reach people: their contact methods (a webhook, Slack or Mattermost incoming-webhook
-- URL, an email address) and their notification rules ("chat at once, email after 2
-- minutes"). Both go with the person (`on delete cascade`); a rule goes with its method.
--
-- `secret` signs generic-webhook pages (HMAC). It is kept in clear because we must sign with
-- it; it is null for the other kinds. `verified_at` is set once a test message got through.
create table contact_methods (
    id text primary key,
    person_id text not null references people(id) on delete cascade,
    kind text not null check (kind in ('webhook', 'slack', 'mattermost', 'email')),
    target text not null,
    secret text,
    created_at bigint not null,
    verified_at bigint
);
create index contact_methods_person on contact_methods(person_id);

create table notification_rules (
    id text primary key,
    person_id text not null references people(id) on delete cascade,
    contact_method_id text not null references contact_methods(id) on delete cascade,
    delay_minutes bigint not null check (delay_minutes >= 0),
    -- One rule per (method, delay): a repeat would send the same page twice.
    unique (contact_method_id, delay_minutes)
);
create index notification_rules_person on notification_rules(person_id);
