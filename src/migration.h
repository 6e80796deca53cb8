/*-------------------------------------------------------------------------
 *
 * migration.h
 *	  Carrying out one migration end to end, inside a run (run.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_MIGRATION_H
#define MIGRATE_MIGRATION_H

#include "migrate.h"
#include "run.h"

extern void migration_apply(TrackRun *run, MigrationScript *s);

#endif							/* MIGRATE_MIGRATION_H */
