-- Named lock rows. Writers of the catalog update the 'catalog' row first thing in their
-- transaction: a row lock on PostgreSQL, the write lock on SQLite. Either way, concurrent
-- catalog writers (API requests, `tocsin apply`, other instances) run one after another, each
-- seeing the previous one's result.
create table locks (
    name text primary key,
    version bigint not null
);
insert into locks (name, version) values ('catalog', 0);
