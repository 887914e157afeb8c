-- The engine asks "is any triggered alert past its response target?" on every tick. Without
-- statistics (a deployment's file has none) SQLite answered it through alerts_status_created
-- (status = 'triggered' is an equality, the deadline only a range) and so read every open
-- alert: 8 ms a tick with 26,000 of them, on the write lock. Leading with status makes this
-- index the one that constrains more columns, so the planner takes it without statistics.
drop index alerts_response_due;
create index alerts_response_due on alerts(status, response_due_at) where breached_at is null;
