-- Chat channels bound to incidents: a slash command run in a channel without naming an
-- incident acts on the one bound there. A channel is bound when an incident is declared from
-- it or by `/incident link INC-12`; a later binding replaces the earlier one. Keyed by
-- platform and workspace (Slack team, Mattermost team) as well as the channel id, since ids
-- are only unique within a workspace.
create table incident_chat_channels (
    platform text not null check (platform in ('slack', 'mattermost')),
    team_id text not null default '',
    channel_id text not null,
    incident_id bigint not null references incidents(id) on delete cascade,
    bound_at bigint not null,
    bound_by text not null,
    primary key (platform, team_id, channel_id)
);
create index incident_chat_channels_incident on incident_chat_channels(incident_id);
