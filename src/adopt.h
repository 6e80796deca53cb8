/*-------------------------------------------------------------------------
 *
 * adopt.h
 *	  migrate.adopt's side of a layout: how a tool's own history table
 *	  becomes rows of migrate.history.  Each layout that can be adopted
 *	  points at a LayoutAdopt (layouts.h), defined beside its parser in
 *	  layout_<tool>.c; adopt.c finds and checks the table, calls rows(),
 *	  and records what the track does not know yet.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_ADOPT_H
#define MIGRATE_ADOPT_H

#include "datatype/timestamp.h"

#include "layouts.h"
#include "migrate.h"

/* one row to record in migrate.history */
typedef struct AdoptRow
{
	char	   *version;		/* NULL for a repeatable script */
	const char *type;			/* versioned, baseline or repeatable */
	char	   *description;
	char	   *script;
	char	   *checksum;		/* ours, only for matched Flyway repeatables */
	char	   *installed_by;	/* NULL: the current user */
	bool		has_installed_on;
	TimestampTz installed_on;
	int64		execution_ms;	/* -1: unknown */
} AdoptRow;

/* one adopt call */
typedef struct Adoption
{
	const Layout *tool;			/* the tool's layout (tool->adopt is set) */
	const char *track;
	const char *dir;			/* as given, or NULL */
	char	   *table;			/* quoted qualified name of the old table */
	Oid			relid;			/* the old table */
	ScriptSet  *set;			/* scripts of dir, when given */
	LayoutDir	layout;			/* the files of dir, when given */
	List	   *rows;			/* AdoptRow * */
	const char *given_table;	/* history_table => , or NULL */
	const char *schema;			/* schema => , or NULL */
	bool		trust_owner;	/* trust_table_owner => */
	int			adopted;		/* rows recorded */
} Adoption;

/* what adopt knows of a tool, beside its layout */
typedef struct LayoutAdopt
{
	const char *table;			/* default history table (schema public if unqualified) */
	const char *columns;		/* columns that table must have */
	const char *needs_dir;		/* errdetail when its table alone does not give our
								 * versions (dir => is required); NULL otherwise */

	/* optional: refuse a table with the columns but of another tool */
	void		(*check_columns) (Adoption *a);

	/* read the table (SPI-connected) into a->rows */
	void		(*rows) (Adoption *a);
} LayoutAdopt;

/* helpers for the tools' rows() (adopt.c) */
extern void adopt_query(const char *sql, int nargs, const char **args);
extern char *adopt_value(uint64 i, int col);
extern Datum adopt_binvalue(uint64 i, int col, bool *isnull);
extern MigrationScript *adopt_script_of(Adoption *a, const char *version);
extern AdoptRow *adopt_new_row(Adoption *a, char *version, const char *type,
							   char *description, char *script);
extern char *adopt_version(Adoption *a, const char *raw, size_t len);
extern void adopt_set_installed_on(AdoptRow *r, uint64 i, int col);

extern const LayoutAdopt adopt_flyway;
extern const LayoutAdopt adopt_node_pg_migrate;
extern const LayoutAdopt adopt_golang_migrate;
extern const LayoutAdopt adopt_dbmate;
extern const LayoutAdopt adopt_drizzle;
extern const LayoutAdopt adopt_sqitch;

#endif							/* MIGRATE_ADOPT_H */
