-- Calendar feed tokens: read-only, revocable secrets in a feed URL (the one place a secret
-- travels in a URL, because calendar clients can send nothing else). Stored as SHA-256 hashes;
-- `scope` says whether the token reads one schedule or one person's shifts across schedules.
create table feed_tokens (
    id text primary key,
    token_hash text not null unique,
    scope text not null check (scope in ('schedule', 'person')),
    scope_id text not null,
    created_by text not null,
    created_at bigint not null,
    revoked_at bigint
);
create index feed_tokens_scope on feed_tokens(scope, scope_id);
