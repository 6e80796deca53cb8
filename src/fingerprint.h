/*-------------------------------------------------------------------------
 *
 * fingerprint.h
 *	  The schema fingerprint drift.c records and compares.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_FINGERPRINT_H
#define MIGRATE_FINGERPRINT_H

extern void fingerprint_schema(char **hash, Datum *objects);

#endif							/* MIGRATE_FINGERPRINT_H */
