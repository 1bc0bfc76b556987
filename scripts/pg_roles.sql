-- Three PostgreSQL roles for a shared ledger, each with only what its job needs.
-- Run as the database owner after `ledger init` (which creates every table), e.g.
--   psql "$OWNER_URL" -v writer=ledger_writer -v projector=ledger_projector \
--        -v auditor=ledger_auditor -f scripts/pg_roles.sql
-- then give each its LOGIN password (or a pg_hba rule) and run the ledger as:
--   writer     records changes and imports: INSERT and SELECT on the events and their seals
--              (never UPDATE, DELETE or TRUNCATE; the database numbers the events, witnesses
--              each seal with its own clock and the session's role, and refuses any other);
--              reads the read models, never writes them; UPDATE on ledger_write_lock, an
--              empty table whose lock serialises the writers.
--   projector  `ledger projections run`: reads events and seals, writes the read models
--              (proj_*), nothing else. No other role but the owner can change a read model.
--   auditor    every query, `ledger verify` and `ledger export`: SELECT only, everywhere.
-- Queries run as the writer or the auditor answer from the read models as the projector
-- left them, and say how far behind they are.
\set ON_ERROR_STOP on
SELECT format('CREATE ROLE %I LOGIN', r) FROM unnest(ARRAY[:'writer', :'projector', :'auditor']) r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I, %I', current_database(),
              :'writer', :'projector', :'auditor') \gexec
-- No role needs temporary tables, and one of a table's name would be found before it.
SELECT format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()) \gexec
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"writer", :"projector", :"auditor";
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM :"writer", :"projector", :"auditor";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"writer", :"projector", :"auditor";
GRANT INSERT ON ledger_events, ledger_chain TO :"writer";
-- Writers store events one transaction at a time by locking this (empty) table EXCLUSIVE,
-- which needs UPDATE on it: no other role can take, or block, that lock (SELECT's lock does
-- not conflict with it).
GRANT UPDATE ON ledger_write_lock TO :"writer";
GRANT INSERT, UPDATE, DELETE ON
  proj_tracking, proj_streams, proj_changes, proj_items, proj_outcomes,
  proj_item_history, proj_editions, proj_plans
  TO :"projector";
