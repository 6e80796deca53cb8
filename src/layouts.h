/*-------------------------------------------------------------------------
 *
 * layouts.h
 *	  The directory layouts of migration tools, one parser each, and what
 *	  they share.  layout.c detects which layout a directory uses; each
 *	  layout_<tool>.c recognises its tool's file names and turns its files
 *	  into MigrationScripts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LAYOUTS_H
#define MIGRATE_LAYOUTS_H

#include "layout.h"
#include "reader.h"
#include "source.h"

/* what the parsers know of the directory being classified */
typedef struct LayoutDir
{
	SourceFile **files;			/* every file of the directory, sorted by name */
	int			nfiles;
	List	   *scans;			/* SectionScan *: files already scanned for markers */
	void	   *drizzle;		/* the parsed Drizzle journal, once read */
	void	   *sqitch;			/* the parsed sqitch plan, once read */
	MemoryContext cxt;			/* where those three live: claims() runs in a
								 * context reset after each file */
	/* layout_classify's answers so far for the file it is asking about */
	const SourceFile *asking;	/* that file, or NULL */
	uint32		asked;			/* bit l: all_layouts[l] has answered */
	uint32		claimed;		/* bit l: ... and claimed it */
} LayoutDir;

/* one layout: how it recognises its files, and how it reads them */
typedef struct Layout
{
	const char *name;			/* as in messages and migrate.adopt: "golang-migrate" */

	/*
	 * Is f (any file of the directory) one of this layout's files?  Judged
	 * from its name, and for the layouts that share the <digits>_<name>.sql
	 * shape from its section markers.  Marker files (sqitch.plan,
	 * meta/_journal.json) are claimed too, so that they take part in the
	 * detection.
	 */
	bool		(*claims) (LayoutDir *dir, const SourceFile *f);

	/* add the scripts of the files it claimed to set (misnamed ones too) */
	void		(*build) (LayoutDir *dir, List *files, ScriptSet *set);

	const char *naming_hint;	/* errhint for a .sql file that fits no name */

	/* how its versions sort; NULL: numerically (version_cmp) */
	VersionOrder order;

	/*
	 * For a .sql file it did not claim: why the tool never runs it (the file
	 * is then ignored, with a NOTICE), or NULL (the file is misnamed, and
	 * refused).  NULL: every such file is misnamed.
	 */
	const char *(*ignores) (LayoutDir *dir, const SourceFile *f);

	/*
	 * For a .sql file it did not claim: is it one of the tool's callback
	 * scripts (Flyway's afterMigrate.sql)?  Then it is added to
	 * set->callbacks, and is no migration.  NULL: the tool has none.
	 */
	bool		(*callback) (SourceFile *f, ScriptSet *set);

	/* the name a misnamed file (last component) probably meant, or NULL */
	char	   *(*suggest) (const char *base);

	/* the file to create to undo versioned script s */
	char	   *(*undo_name) (const MigrationScript *s);
	/* migrate.adopt of the tool's history table (adopt.h), or NULL */
	const struct LayoutAdopt *adopt;
} Layout;

extern const Layout layout_flyway;
extern const Layout layout_golang_migrate;
extern const Layout layout_dbmate;
extern const Layout layout_node_pg_migrate;
extern const Layout layout_timestamped;
extern const Layout layout_diesel;
extern const Layout layout_prisma;
extern const Layout layout_drizzle;
extern const Layout layout_sqitch;
extern const Layout layout_sql_migrate;

extern const Layout *layout_find(const char *name);
extern char *layout_adopt_names(void);

/* helpers for the parsers (layout.c) */
extern const char *layout_base_name(const char *name);
extern bool layout_has_suffix(const char *s, const char *suffix);
extern size_t layout_digits(const char *s);
extern bool layout_is_number(const char *s);
extern char *layout_description(const char *s, size_t len);
extern SourceFile *layout_find_file(LayoutDir *dir, const char *name);
/* layouts recognised by file names alone (Flyway, golang-migrate, timestamped) */
typedef bool (*LayoutNameParser) (const char *base, MigrationKind *kind,
								  char **version, char **description);
extern bool layout_claims_by_name(LayoutNameParser parse, const SourceFile *f);
extern void layout_build_by_name(LayoutNameParser parse, List *files, ScriptSet *set);

/* layouts with a folder per migration (diesel, prisma) */
typedef bool (*LayoutFolderParser) (const char *name, char **folder,
									char **version, char **description);
extern bool layout_folder_claims(LayoutDir *dir, const SourceFile *f, LayoutFolderParser parse,
								 const char *up_name, const char *down_name);
extern MigrationScript *layout_add_folder_script(ScriptSet *set, SourceFile *f,
												 LayoutFolderParser parse,
												 const char *up_name, char **folder);
extern char *layout_sibling_name(const MigrationScript *s, const char *base);

extern MigrationScript *layout_add_script(ScriptSet *set, SourceFile *f, MigrationKind kind,
										  char *version, char *description);

/* section markers in one file (layout_sections.c) */
typedef enum SectionKind
{
	SECTION_NONE = 0,
	SECTION_DBMATE_UP,			/* -- migrate:up */
	SECTION_DBMATE_DOWN,		/* -- migrate:down */
	SECTION_NODE_UP,			/* -- Up Migration */
	SECTION_NODE_DOWN,			/* -- Down Migration */
	SECTION_SQLMIGRATE_UP,		/* -- +migrate Up */
	SECTION_SQLMIGRATE_DOWN,	/* -- +migrate Down */
	SECTION_KINDS
} SectionKind;

typedef struct SectionScan
{
	const SourceFile *file;
	int			line[SECTION_KINDS];	/* line of the first marker of each kind, 0 if none */
	int			count[SECTION_KINDS];	/* markers of each kind */
	int			sql_line;		/* first line of SQL before any marker, 0 if none */
} SectionScan;

extern const SectionScan *sections_scan(LayoutDir *dir, const SourceFile *f);
extern bool sections_any_marker(LayoutDir *dir, const SourceFile *f);
extern bool sections_numbered_name(const char *base);
extern int	sections_dbmate_marker(const char *line, size_t len);
extern int	sections_node_marker(const char *line, size_t len);
extern int	sections_sqlmigrate_marker(const char *line, size_t len);
extern bool sections_sqlmigrate_command(const char *line, size_t len, const char *command);
extern void sections_check(const SectionScan *scan, const SourceFile *f, const char *tool,
						   SectionKind up, SectionKind down,
						   const char *up_text, const char *down_text);
extern void sections_build(LayoutDir *dir, List *files, ScriptSet *set, const char *tool,
						   SectionMarker marker, SectionKind up, SectionKind down,
						   const char *up_text, const char *down_text);

/* the Drizzle journal and the sqitch plan, also read by migrate.adopt */
typedef struct DrizzleEntry
{
	int			idx;			/* position in the journal: the version */
	int64		when;			/* folderMillis, what drizzle records as created_at */
	char	   *tag;			/* file name without .sql */
} DrizzleEntry;

typedef struct SqitchChange
{
	int			position;		/* 1-based position in the plan: the version */
	char	   *name;
	char	   *script;			/* name of the deploy and revert scripts, without dir */
} SqitchChange;

typedef struct SqitchPlan
{
	char	   *project;		/* %project, or NULL */
	List	   *changes;		/* SqitchChange *, in plan order */
} SqitchPlan;

extern List *drizzle_journal(LayoutDir *dir);
extern char *layout_sql_migrate_description(const char *name);
extern SqitchPlan *sqitch_plan(LayoutDir *dir);
extern void layout_dir_init(LayoutDir *dir, List *files);
extern bool layout_dir_claims(LayoutDir *dir, const Layout *layout, const SourceFile *f);

#endif							/* MIGRATE_LAYOUTS_H */
