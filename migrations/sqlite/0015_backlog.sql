-- The backlog sync's bookkeeping on action items: when the engine next looks at the item
-- (export retry or state refresh), how many attempts in a row failed (for the backoff), and
-- the lease a process holds while it talks to the backlog, so two engine passes, two
-- instances or the on-demand button never create two backlog items for one action.
alter table postmortem_actions add column backlog_next_at bigint;
alter table postmortem_actions add column backlog_attempts bigint not null default 0;
alter table postmortem_actions add column backlog_owner text;
alter table postmortem_actions add column backlog_lease_until bigint;
create index postmortem_actions_backlog on postmortem_actions(status, backlog_next_at);
