/*-------------------------------------------------------------------------
 *
 * source.c
 *	  Where migration scripts come from: the one place that tells a
 *	  directory from a staged bundle.
 *
 * A source is a directory below an allowed directory (source_dir.c) or a
 * staged bundle, a set of files kept as text in migrate.staged (staged.c).
 * Both implement SourceKind: listing their files, finding one by path, and
 * handing out a file's raw bytes; everything above (the reader, the
 * layouts, the plan, the executor) works on SourceFiles and never asks
 * which kind it has.  A name without '/' given where a directory is
 * expected is a bundle; a path that is not absolute (as an \i inside a
 * staged script resolves) is "<bundle>/<filename>".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <time.h>

#include "source.h"

static int
compare_source_files(const ListCell *a, const ListCell *b)
{
	const SourceFile *fa = (const SourceFile *) lfirst(a);
	const SourceFile *fb = (const SourceFile *) lfirst(b);

	return strcmp(fa->name, fb->name);
}

/* is dir the name of a staged bundle rather than a directory? (no '/') */
bool
source_is_bundle(const char *dir)
{
	return strchr(dir, '/') == NULL;
}

/*
 * Every script of a migration directory (checked against the allow-list)
 * or of a staged bundle, sorted by relative name.  *base receives what
 * relative includes are resolved against: the directory's real path, or
 * the bundle name.
 */
List *
source_list(const char *dir, char **base)
{
	const SourceKind *kind = source_is_bundle(dir) ? &source_bundle : &source_directory;
	List	   *files = kind->list(dir, base);

	list_sort(files, compare_source_files);
	return files;
}

/*
 * One file given by its path, checked against the allow-list; a path that
 * is not absolute is "<bundle>/<filename>" of a staged file.
 */
SourceFile *
source_file(const char *path)
{
	return is_absolute_path(path) ? source_directory.lookup(path) : source_bundle.lookup(path);
}

/*
 * The identity of a file from its stat, settled if its ctime is older than
 * now by MIGRATE_SETTLE_NS: a write after this moment gets a later ctime
 * even on a file system whose clock ticks coarsely.
 */
void
source_identity(FileIdentity *id, const struct stat *st)
{
	struct timespec now;

	id->known = true;
	id->dev = (int64) st->st_dev;
	id->ino = (int64) st->st_ino;
	id->size = (int64) st->st_size;
	id->mtime_ns = (int64) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	id->ctime_ns = (int64) st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	id->settled = clock_gettime(CLOCK_REALTIME, &now) == 0 &&
		id->ctime_ns < (int64) now.tv_sec * 1000000000 + now.tv_nsec - MIGRATE_SETTLE_NS;
}

/* are two known identities the same file, unchanged? */
bool
source_identity_equal(const FileIdentity *a, const FileIdentity *b)
{
	return a->known && b->known && a->dev == b->dev && a->ino == b->ino &&
		a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/*
 * Before a run executes anything: can every script of these plan entries
 * (their undo scripts when undo) be read?  The scripts are read only when
 * they run, so a file the server cannot read is found here, before the
 * first of them runs, rather than part-way.
 */
void
source_check_readable(List *scripts)
{
	ListCell   *lc;

	foreach(lc, scripts)
	{
		const SourceFile *f = ((MigrationScript *) lfirst(lc))->file;

		if (f->kind->check_readable)
			f->kind->check_readable(f);
	}
}
