-- Same index as SQLite's 0018 (status first, so a planner without statistics picks it for
-- the engine's breach check), kept alike on both backends.
drop index alerts_response_due;
create index alerts_response_due on alerts(status, response_due_at) where breached_at is null;
