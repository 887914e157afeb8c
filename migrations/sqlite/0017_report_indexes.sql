-- The alert reports group their rows; the GROUP BY, not the scan, was their cost (a temp
-- b-tree fed a quarter of a million rows for eight groups). These indexes lead with the
-- report's group columns and carry the period column after them, so the aggregation reads
-- index order group by group (on SQLite a skip-scan per group when the statistics are
-- there, else one pass over a narrow index) and never sorts. They replace the one
-- period-first index of 0014, which only spared table lookups.
drop index alerts_report;
create index alerts_breaches on alerts(service_id, severity, created_at, breached_at);
create index alerts_top on alerts(service_id, rule_id, summary, created_at, event_count,
    playbook_id);
