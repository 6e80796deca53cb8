/*-------------------------------------------------------------------------
 *
 * drift.h
 *	  Schema changes made outside migrations: the hooks the run machinery,
 *	  status and validate call.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_DRIFT_H
#define MIGRATE_DRIFT_H

extern void drift_check_unseen(void);
extern void drift_run_finished(bool ran_callbacks);
extern void drift_run_failed(void);
extern void drift_fingerprint_record(void);
extern void drift_status_notice(void);
extern void drift_validate(void);

#endif							/* MIGRATE_DRIFT_H */
