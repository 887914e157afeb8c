-- Test notifications ("Send test" on a contact method): an outbox row of kind 'test' for one
-- person and method, delivered like a page so a test proves the path a page takes. The
-- method remembers when its last test was queued: the throttle is one conditional update of
-- that row, so two clicks at once cannot both get through.
alter table outbox drop constraint outbox_kind_check;
alter table outbox add constraint outbox_kind_check check (kind in ('page', 'bundle', 'test'));
alter table contact_methods add column last_test_at bigint;
-- A method's tests, newest first (its page and `GET /api/v1/contact-methods/{id}/tests`).
create index outbox_tests on outbox(contact_method_id, id) where kind = 'test';
