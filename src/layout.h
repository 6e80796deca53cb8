/*-------------------------------------------------------------------------
 *
 * layout.h
 *	  File names of migration scripts: kind, version, description, order.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LAYOUT_H
#define MIGRATE_LAYOUT_H

#include "migrate.h"
#include "source.h"

/* the scripts of a directory, classified */
typedef struct ScriptSet
{
	List	   *scripts;		/* MigrationScript *, versioned then repeatable */
	List	   *misnamed;		/* char *: .sql names fitting no pattern */
	const char *layout;			/* the layout detected: "flyway", "dbmate", ... */
	const char *naming_hint;	/* how that layout names files, for misnamed ones */
} ScriptSet;

extern ScriptSet *layout_classify(List *files);
extern char *version_normalize(const char *raw, size_t len);
extern int	version_cmp(const char *a, const char *b);
extern char *version_check(const char *raw);

#endif							/* MIGRATE_LAYOUT_H */
