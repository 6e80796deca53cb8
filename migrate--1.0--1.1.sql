/* migrate--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrate UPDATE TO '1.1'" to load this file. \quit

-- The library of 1.1 also works against the objects of 1.0 (see
-- migrate_schema_version in src/migrate.c): nothing below may be needed by
-- a call that 1.0 already had, unless that call checks the version first.

-- ---------------------------------------------------------------------
-- Platform (issue 10)
-- ---------------------------------------------------------------------
-- No objects: packaging, versions and upgrades change no SQL interface.
-- A call of the 1.1 library that needs an object added below names the
-- version it needs with migrate_require_schema(MIGRATE_SCHEMA_1_1, ...)
-- (src/migrate.c), which tells a 1.0 database to run ALTER EXTENSION
-- migrate UPDATE; sql/oldextversions.sql makes every 1.0 call against 1.0
-- objects, and test/upgrade/calls_1.1.sql is where the calls added below
-- are made after the update.


-- ---------------------------------------------------------------------
-- Security (issue 11)
-- ---------------------------------------------------------------------


-- ---------------------------------------------------------------------
-- Performance (issue 12)
-- ---------------------------------------------------------------------


-- ---------------------------------------------------------------------
-- Lint (issue 13)
-- ---------------------------------------------------------------------


-- ---------------------------------------------------------------------
-- Drift and progress (issue 14)
-- ---------------------------------------------------------------------


-- ---------------------------------------------------------------------
-- Layouts, placeholders and callbacks (issue 15)
-- ---------------------------------------------------------------------


-- ---------------------------------------------------------------------
-- Fleets (issue 16)
-- ---------------------------------------------------------------------


-- Nothing is granted to PUBLIC (as in 1.0): whatever the sections above
-- created gets the same treatment.
REVOKE ALL ON ALL TABLES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL ROUTINES IN SCHEMA migrate FROM PUBLIC;
