-- Timeline entries never change once written (only their star), so their Markdown is
-- rendered to sanitised HTML once, when written, instead of on every page view: an incident
-- page with thousands of entries would otherwise spend most of its time sanitising.
-- Null for entries written before this column existed: those are rendered on read.
alter table incident_timeline add column body_html text;
