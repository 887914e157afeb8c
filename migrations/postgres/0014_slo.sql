-- SLOs as code and what the learning reports read.
--
-- `slos` is a catalog kind (config as code) stored whole as JSON like playbooks: objectives
-- are fractional percentages, which JSON keeps exactly as written on both backends. The
-- service is a column too, so "the SLOs of these services" is one indexed query.
create table slos (
    id text primary key,
    service_id text not null,
    spec text not null
);
create index slos_service on slos(service_id);

-- When a service was impaired during an incident, set by responders. Null: the incident's
-- start to its mitigation (else resolution, else still going).
alter table incident_services add column impaired_from bigint;
alter table incident_services add column impaired_to bigint;
create index incident_services_service on incident_services(service_id, incident_id);

-- Reports select incidents, alerts and pages by period and aggregate them in SQL; these
-- covering indexes let the aggregations read an index range instead of the tables
-- (a million alerts must not mean a million table lookups).
create index incidents_started on incidents(started_at);
-- One index serves both alert reports (breaches, top alerts), so the planner has one obvious
-- choice; the pages index carries the service for the report's service filter.
create index alerts_report on alerts(created_at, service_id, severity, breached_at, rule_id,
    summary, event_count, playbook_id);
create index outbox_report on outbox(created_at, kind, person_id, alert_id, level, round,
    service_id);
