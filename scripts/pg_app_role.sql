-- A PostgreSQL role for the ledger application that can only INSERT and SELECT events.
-- Run as the database owner after `ledger init` (which creates every table), e.g.
--   psql "$OWNER_URL" -v role=ledger_app -f scripts/pg_app_role.sql
-- then run the application as that role: ledger --db postgresql://ledger_app@host/db ...
-- The events and their seals can be added and read, never changed: UPDATE, DELETE and
-- TRUNCATE are refused by missing privileges, and again by the triggers `ledger init` made.
-- The read models (proj_*) are derived data that a rebuild empties and refills.
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
GRANT USAGE ON SCHEMA public TO :"role";
REVOKE ALL ON ledger_events, ledger_chain FROM :"role";
GRANT SELECT, INSERT ON ledger_events, ledger_chain TO :"role";
GRANT USAGE, SELECT ON SEQUENCE ledger_events_id_seq TO :"role";
GRANT SELECT, INSERT, UPDATE, DELETE ON
  proj_tracking, proj_streams, proj_changes, proj_items, proj_outcomes, proj_snapshots,
  proj_editions, proj_plans
  TO :"role";
