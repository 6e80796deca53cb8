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

/* the order of a layout's versions: <0, 0, >0 as a comes before b */
typedef int (*VersionOrder) (const char *a, const char *b);

/* a .sql file that is not a migration, and why */
typedef struct NotScript
{
	char	   *name;
	char	   *why;			/* ignored: why the tool does not run it */
	char	   *meant;			/* misnamed: the name it probably meant, or NULL */
} NotScript;

/* the scripts of a directory, classified */
typedef struct ScriptSet
{
	List	   *scripts;		/* MigrationScript *, in the layout's order */
	List	   *misnamed;		/* NotScript *: .sql files fitting no name */
	List	   *ignored;		/* NotScript *: .sql files the tool never runs */
	List	   *callbacks;		/* ScriptCallback * (callbacks.h), in run order */
	const char *layout;			/* the layout detected: "flyway", "dbmate", ... */
	const char *naming_hint;	/* how that layout names files, for misnamed ones */
	VersionOrder order;			/* how its versions sort (version_cmp if NULL) */
	const struct Layout *def;	/* the layout itself, NULL when no directory */
} ScriptSet;

extern ScriptSet *layout_classify(List *files);
extern char *version_normalize(const char *raw, size_t len);
extern int	version_cmp(const char *a, const char *b);
extern char *version_check(const char *raw);
extern char *version_arg(const char *raw);
extern bool version_is_numeric(const char *v);
extern int	layout_version_cmp(VersionOrder order, const char *a, const char *b);
extern char *layout_undo_name(const ScriptSet *set, const MigrationScript *s);
extern void layout_notice_ignored(const ScriptSet *set);

#endif							/* MIGRATE_LAYOUT_H */
