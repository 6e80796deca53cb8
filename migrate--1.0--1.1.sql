/* migrate--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrate UPDATE TO '1.1'" to load this file. \quit

-- The library of 1.1 also works against the objects of 1.0 (see
-- migrate_schema_version in src/migrate.c): nothing below may be needed by
-- a call that 1.0 already had, unless that call checks the version first.

-- ---------------------------------------------------------------------
-- Platform (issue 10)
-- ---------------------------------------------------------------------


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
