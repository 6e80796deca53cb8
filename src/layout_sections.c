/*-------------------------------------------------------------------------
 *
 * layout_sections.c
 *	  Files that hold an up and a down script in sections (dbmate,
 *	  node-pg-migrate), and the markers that tell them apart.
 *
 * dbmate, node-pg-migrate, the timestamped layout and Drizzle all name
 * their files <digits>_<name>.sql; what tells them apart is inside: a
 * dbmate file has a "-- migrate:up" line, a node-pg-migrate file a
 * "-- Up Migration" line, the others have no such markers (a sql-migrate
 * file, of any name, has a "-- +migrate Up" line).  Each such
 * file is scanned once, line by line in bounded memory
 * (reader_scan_lines), and the markers found are kept for the parsers.
 *
 * A sectioned file becomes two scripts sharing the file: the versioned
 * one reads the up section and the undo one the down section
 * (reader_section), each from its marker line to the next marker.  So the
 * up script's text starts with its marker line, where other tools put
 * options ("-- migrate:up transaction:false"), and each script has the
 * checksum of its own section.  Lines before the first marker may only be
 * blank or comments, as dbmate requires: a statement there would belong
 * to no section and is an error, never skipped silently.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "layouts.h"

static inline bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * dbmate's markers, matched as dbmate does
 * (^--\s*migrate:(up|down)(\s*$|\s+\S+)): 1 for up, 2 for down, else 0.
 */
int
sections_dbmate_marker(const char *line, size_t len)
{
	size_t		i = 2;
	int			kind;

	if (len < 2 || line[0] != '-' || line[1] != '-')
		return 0;
	while (i < len && is_space(line[i]))
		i++;
	if (len - i >= 10 && strncmp(line + i, "migrate:up", 10) == 0)
	{
		kind = 1;
		i += 10;
	}
	else if (len - i >= 12 && strncmp(line + i, "migrate:down", 12) == 0)
	{
		kind = 2;
		i += 12;
	}
	else
		return 0;
	/* options may follow after a space; "migrate:upgrade" is no marker */
	if (i < len && !is_space(line[i]))
		return 0;
	return kind;
}

/*
 * node-pg-migrate's markers, matched as it does
 * (/^\s*--[\s-]*(up|down)\s+migration/im): 1 for up, 2 for down, else 0.
 */
int
sections_node_marker(const char *line, size_t len)
{
	size_t		i = 0;
	int			kind;
	size_t		ws;

	while (i < len && is_space(line[i]))
		i++;
	if (len - i < 2 || line[i] != '-' || line[i + 1] != '-')
		return 0;
	i += 2;
	while (i < len && (is_space(line[i]) || line[i] == '-'))
		i++;
	if (len - i >= 2 && pg_strncasecmp(line + i, "up", 2) == 0)
	{
		kind = 1;
		i += 2;
	}
	else if (len - i >= 4 && pg_strncasecmp(line + i, "down", 4) == 0)
	{
		kind = 2;
		i += 4;
	}
	else
		return 0;
	ws = i;
	while (i < len && is_space(line[i]))
		i++;
	if (i == ws || len - i < 9 || pg_strncasecmp(line + i, "migration", 9) != 0)
		return 0;
	return kind;
}

/*
 * Does line hold sql-migrate's command (exactly as sql-migrate reads
 * them: the line starts with "-- +migrate ", and its first word after that
 * is command, case and all)?
 */
bool
sections_sqlmigrate_command(const char *line, size_t len, const char *command)
{
	static const char prefix[] = "-- +migrate ";
	size_t		i = sizeof(prefix) - 1;
	size_t		n = strlen(command);

	if (len < i || memcmp(line, prefix, i) != 0)
		return false;
	while (i < len && is_space(line[i]))
		i++;
	return len - i >= n && memcmp(line + i, command, n) == 0 &&
		(i + n == len || is_space(line[i + n]));
}

/* sql-migrate's section markers: 1 for "-- +migrate Up", 2 for Down, else 0 */
int
sections_sqlmigrate_marker(const char *line, size_t len)
{
	if (sections_sqlmigrate_command(line, len, "Up"))
		return 1;
	if (sections_sqlmigrate_command(line, len, "Down"))
		return 2;
	return 0;
}

/* is this line blank or a -- comment? */
static bool
blank_or_comment(const char *line, size_t len)
{
	size_t		i = 0;

	while (i < len && is_space(line[i]))
		i++;
	return i == len || (len - i >= 2 && line[i] == '-' && line[i + 1] == '-');
}

/* one line of a scan: note markers, and SQL before the first marker */
static bool
scan_line(void *arg, int lineno, const char *line, size_t len)
{
	SectionScan *scan = (SectionScan *) arg;
	SectionKind kinds[3] = {SECTION_NONE, SECTION_NONE, SECTION_NONE};
	int			m;
	int			i;
	bool		seen = false;

	m = sections_dbmate_marker(line, len);
	if (m)
		kinds[0] = m == 1 ? SECTION_DBMATE_UP : SECTION_DBMATE_DOWN;
	m = sections_node_marker(line, len);
	if (m)
		kinds[1] = m == 1 ? SECTION_NODE_UP : SECTION_NODE_DOWN;
	m = sections_sqlmigrate_marker(line, len);
	if (m)
		kinds[2] = m == 1 ? SECTION_SQLMIGRATE_UP : SECTION_SQLMIGRATE_DOWN;

	for (i = SECTION_NONE + 1; i < SECTION_KINDS; i++)
		seen |= scan->count[i] > 0;
	if (kinds[0] == SECTION_NONE && kinds[1] == SECTION_NONE && kinds[2] == SECTION_NONE)
	{
		if (!seen && scan->sql_line == 0 && !blank_or_comment(line, len))
			scan->sql_line = lineno;
		return true;
	}
	for (i = 0; i < (int) lengthof(kinds); i++)
	{
		if (kinds[i] == SECTION_NONE)
			continue;
		if (scan->count[kinds[i]]++ == 0)
			scan->line[kinds[i]] = lineno;
	}
	return true;
}

/* the markers of f, scanned on first use */
const SectionScan *
sections_scan(LayoutDir *dir, const SourceFile *f)
{
	ListCell   *lc;
	SectionScan *scan;
	MemoryContext old;

	foreach(lc, dir->scans)
	{
		scan = (SectionScan *) lfirst(lc);
		if (scan->file == f)
			return scan;
	}
	/* kept for the directory, whatever context claims() runs in */
	old = MemoryContextSwitchTo(dir->cxt);
	scan = palloc0(sizeof(SectionScan));
	scan->file = f;
	reader_scan_lines(f, scan_line, scan);
	dir->scans = lappend(dir->scans, scan);
	MemoryContextSwitchTo(old);
	return scan;
}

/* <digits>_<name>.sql, but not golang-migrate's .up.sql / .down.sql */
bool
sections_numbered_name(const char *base)
{
	size_t		digits = layout_digits(base);

	return digits > 0 && base[digits] == '_' && strlen(base) > digits + 1 + 4 &&
		layout_has_suffix(base, ".sql") &&
		!layout_has_suffix(base, ".up.sql") && !layout_has_suffix(base, ".down.sql");
}

/* does f hold a dbmate or node-pg-migrate marker? */
bool
sections_any_marker(LayoutDir *dir, const SourceFile *f)
{
	const SectionScan *scan = sections_scan(dir, f);
	int			i;

	for (i = SECTION_NONE + 1; i < SECTION_KINDS; i++)
		if (scan->count[i] > 0)
			return true;
	return false;
}

/*
 * Refuse a sectioned file whose sections are not one up section, then at
 * most one down section, with nothing but comments before the first.
 */
void
sections_check(const SectionScan *scan, const SourceFile *f, const char *tool,
			   SectionKind up, SectionKind down, const char *up_text, const char *down_text)
{
	if (scan->count[up] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s migration \"%s\" has no \"%s\" line", tool, f->name, up_text),
				 errdetail("The up migration is the lines after \"%s\"; without one, "
						   "\"%s\" has nothing to apply.", up_text, f->name),
				 errhint("Begin the migration with one \"%s\" line and, if it can be undone, "
						 "follow it with one \"%s\" section.", up_text, down_text)));
	if (scan->count[up] > 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s migration \"%s\" has %d \"%s\" lines", tool, f->name,
						scan->count[up], up_text),
				 errdetail("The first is line %d; a migration has one up section.",
						   scan->line[up]),
				 errhint("Merge the up sections into one, or split the file into two migrations.")));
	if (scan->count[down] > 1 || (scan->count[down] == 1 && scan->line[down] < scan->line[up]))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s migration \"%s\" has a misplaced \"%s\" line", tool, f->name, down_text),
				 errdetail("Line %d of \"%s\" is \"%s\"; the down section must come once, "
						   "after the up section at line %d.",
						   scan->line[down], f->name, down_text, scan->line[up]),
				 errhint("Put the up section first and the down section after it.")));
	if (scan->sql_line > 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s migration \"%s\" has SQL outside its sections", tool, f->name),
				 errdetail("Line %d of \"%s\" comes before the \"%s\" line, so it belongs "
						   "to neither the up nor the down migration.",
						   scan->sql_line, f->name, up_text),
				 errhint("Move it below the \"%s\" line.", up_text)));
}

/*
 * The scripts of sectioned files <digits>_<name>.sql: the up section is
 * the versioned script, the down section (if any) its undo script.
 */
void
sections_build(LayoutDir *dir, List *files, ScriptSet *set, const char *tool,
			   SectionMarker marker, SectionKind up, SectionKind down,
			   const char *up_text, const char *down_text)
{
	ListCell   *lc;

	foreach(lc, files)
	{
		SourceFile *f = (SourceFile *) lfirst(lc);
		const char *base = layout_base_name(f->name);
		const SectionScan *scan = sections_scan(dir, f);
		size_t		digits = layout_digits(base);
		char	   *version;
		char	   *description;

		sections_check(scan, f, tool, up, down, up_text, down_text);
		version = version_normalize(base, digits);
		description = layout_description(base + digits + 1, strlen(base) - digits - 1 - 4);
		layout_add_script(set, reader_section(f, marker, 1), MIGRATION_VERSIONED,
						  version, description);
		if (scan->count[down] == 1)
			layout_add_script(set, reader_section(f, marker, 2), MIGRATION_UNDO,
							  version, description);
	}
}
