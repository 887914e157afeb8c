-- Catalog, people, accounts and the audit log. Instants are bigint milliseconds (UTC).
-- References between catalog records are deferred: config-as-code writes a whole catalog in
-- one transaction in any order, and validation has already checked every reference.

create table tiers (
    level bigint primary key,
    name text not null,
    description text not null default ''
);

create table teams (
    id text primary key,
    name text not null,
    description text not null default ''
);

create table domains (
    id text primary key,
    name text not null,
    description text not null default ''
);

create table people (
    id text primary key,
    name text not null,
    email text not null,
    time_zone text not null
);

create table person_teams (
    person_id text not null references people(id) on delete cascade,
    team_id text not null references teams(id) on delete cascade deferrable initially deferred,
    position bigint not null,
    primary key (person_id, team_id)
);
create index person_teams_team on person_teams(team_id);

create table business_functions (
    id text primary key,
    name text not null,
    description text not null default '',
    primary_domain text not null references domains(id) deferrable initially deferred,
    owner_team text not null references teams(id) deferrable initially deferred,
    criticality text not null
);
create index business_functions_domain on business_functions(primary_domain);

create table function_domains (
    function_id text not null references business_functions(id) on delete cascade,
    domain_id text not null references domains(id) on delete cascade deferrable initially deferred,
    position bigint not null,
    primary key (function_id, domain_id)
);
create index function_domains_domain on function_domains(domain_id);

create table services (
    id text primary key,
    name text not null,
    description text not null default '',
    kind text not null,
    stateful boolean not null,
    owner_team text not null references teams(id) deferrable initially deferred,
    tier bigint not null references tiers(level) deferrable initially deferred,
    domain text not null references domains(id) deferrable initially deferred
);
create index services_owner on services(owner_team);
create index services_domain on services(domain);

create table service_dependencies (
    service_id text not null references services(id) on delete cascade,
    depends_on text not null references services(id) on delete cascade deferrable initially deferred,
    position bigint not null,
    primary key (service_id, depends_on)
);
create index service_dependencies_target on service_dependencies(depends_on);

create table service_links (
    service_id text not null references services(id) on delete cascade,
    position bigint not null,
    title text not null,
    url text not null,
    primary key (service_id, position)
);

create table accounts (
    username text primary key,
    person_id text references people(id) on delete set null,
    role text not null,
    password_hash text not null,
    created_at bigint not null
);

create table sessions (
    id_hash text primary key,
    username text not null references accounts(username) on delete cascade,
    csrf_token text not null,
    created_at bigint not null,
    expires_at bigint not null
);

create table api_tokens (
    id text primary key,
    name text not null,
    role text not null,
    token_hash text not null unique,
    created_at bigint not null,
    created_by text not null,
    revoked_at bigint,
    last_used_at bigint
);

create table audit_log (
    id bigint generated always as identity primary key,
    at bigint not null,
    actor text not null,
    action text not null,
    target text not null,
    detail text not null default ''
);
create index audit_log_at on audit_log(at);
