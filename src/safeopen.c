/*-------------------------------------------------------------------------
 *
 * safeopen.c
 *	  The one way migrate opens a file or directory below an allowed
 *	  directory.
 *
 * paths.c decides which real paths are allowed; this file makes sure that
 * what is opened is what was decided.  A path string checked earlier can
 * name something else by the time it is opened: whoever can write inside
 * an allowed tree can exchange a directory on the way for a symbolic link
 * (renameat2 with RENAME_EXCHANGE) between the check and the open, and
 * O_NOFOLLOW guards only the last component.  So a real path is opened by
 * walking it from "/" one component at a time, each directory with
 * openat(O_DIRECTORY | O_NOFOLLOW) relative to the one before: a symbolic
 * link anywhere on the way fails the open (ELOOP or ENOTDIR) instead of
 * being followed.  Nothing outside the path that was checked is ever
 * opened, let alone read.  (Whoever can rename the real directories above
 * an allowed directory can still substitute it; paths.c warns about them.)
 *
 * Every open is non-blocking: a FIFO put where a script was would
 * otherwise block the backend inside open(), where neither cancel nor
 * terminate reaches it.  The opened file must then be a regular file (or
 * a directory, for a listing).  O_NONBLOCK stays set on a regular file,
 * where it has no effect.
 *
 * openat() has no counterpart in fd.c, so the descriptors are tracked
 * here the way fd.c tracks OpenTransientFile's: counted with
 * AcquireExternalFD, and closed when the (sub)transaction that opened them
 * ends, so an error escaping a reader leaks nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "safeopen.h"

/* one descriptor or directory stream open until its transaction ends */
typedef struct OpenHandle
{
	int			fd;				/* -1 for a directory stream */
	DIR		   *dir;
	SubTransactionId subid;		/* the subtransaction that owns it */
} OpenHandle;

static OpenHandle *handles = NULL;
static int	nhandles = 0;
static int	maxhandles = 0;
static bool callbacks_registered = false;

/* close handle i and drop it from the array */
static void
handle_close(int i)
{
	if (handles[i].dir)
		closedir(handles[i].dir);
	else
		close(handles[i].fd);
	ReleaseExternalFD();
	handles[i] = handles[--nhandles];
}

/* at the end of the transaction every handle is closed, as fd.c does */
static void
safeopen_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			while (nhandles > 0)
				handle_close(nhandles - 1);
			break;
		default:
			break;
	}
}

/* a subtransaction's handles close when it aborts, pass to its parent when it commits */
static void
safeopen_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	int			i;

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		for (i = nhandles - 1; i >= 0; i--)
			if (handles[i].subid == mySubid)
				handle_close(i);
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (i = 0; i < nhandles; i++)
			if (handles[i].subid == mySubid)
				handles[i].subid = parentSubid;
	}
}

/* room for one more handle; registers the callbacks on first use */
static void
handle_reserve(void)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(safeopen_xact_callback, NULL);
		RegisterSubXactCallback(safeopen_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (nhandles == maxhandles)
	{
		int			n = Max(16, maxhandles * 2);

		handles = handles == NULL ?
			MemoryContextAlloc(TopMemoryContext, n * sizeof(OpenHandle)) :
			repalloc(handles, n * sizeof(OpenHandle));
		maxhandles = n;
	}
}

/* remember an open descriptor or stream (handle_reserve was called) */
static void
handle_remember(int fd, DIR *dir)
{
	handles[nhandles].fd = fd;
	handles[nhandles].dir = dir;
	handles[nhandles].subid = GetCurrentSubTransactionId();
	nhandles++;
}

/* find an open handle by descriptor or stream; -1 if it is not open */
static int
handle_find(int fd, DIR *dir)
{
	int			i;

	for (i = nhandles - 1; i >= 0; i--)
		if (dir ? handles[i].dir == dir : (handles[i].dir == NULL && handles[i].fd == fd))
			return i;
	return -1;
}

/*
 * Open the absolute real path by walking it from "/" without following a
 * symbolic link anywhere; the last component with last_flags.  Returns the
 * descriptor, or -1 with errno set.  Raises no error and allocates
 * nothing, so no descriptor can leak between two opens.
 */
static int
walk_open(const char *path, int last_flags)
{
	const int	dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	char		name[MAXPGPATH];
	const char *p = path;
	int			fd;

	if (path[0] != '/')
	{
		errno = EINVAL;
		return -1;
	}
	fd = open("/", dir_flags);
	while (fd >= 0)
	{
		const char *end;
		size_t		len;
		int			next;
		int			save_errno;

		while (*p == '/')
			p++;
		if (*p == '\0')
			return fd;			/* the path was "/" */
		end = strchr(p, '/');
		len = end ? (size_t) (end - p) : strlen(p);
		if (len >= sizeof(name) ||
			(len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
		{
			/* real paths are canonical; anything else is refused, not walked */
			close(fd);
			errno = EINVAL;
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		while (*p == '/')
			p++;

		next = openat(fd, name, *p == '\0' ? last_flags : dir_flags);
		save_errno = errno;
		close(fd);
		errno = save_errno;
		if (*p == '\0')
			return next;
		fd = next;
	}
	return -1;
}

/* the name of the OS user the server runs as */
static const char *
os_user_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw ? pw->pw_name : psprintf("%u", (unsigned) geteuid());
}

/*
 * errhint for a failed file access: when permission was denied, say which
 * OS user must be able to read the file.  Use inside ereport, with the
 * errno the access failed with.
 */
int
errhint_file_access(int err)
{
	if (err != EACCES && err != EPERM)
		return 0;
	return errhint("The server runs as the OS user \"%s\", which must be able to read the file "
				   "and to enter (x) every directory on its path.", os_user_name());
}

/* an open that failed: the error for errno err */
static void
report_open_failure(int err, const char *shown, const char *what)
{
	if (err == ELOOP || err == ENOTDIR)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" was replaced while it was being read", what, shown),
				 errdetail("It, or a directory on its path, became a symbolic link (or stopped being a directory) "
						   "after the path was checked; no link that appears during a call is followed."),
				 errhint("Run the command again once the directory is no longer changing.")));
	errno = err;
	ereport(ERROR,
			(errcode_for_file_access(),
			 errmsg("could not open %s \"%s\": %m", what, shown),
			 errhint_file_access(err)));
}

/*
 * Open the regular file at real (an absolute real path the allow-list
 * accepted) for reading, following no symbolic link, and fill *st.  shown
 * is what messages call it.  Close it with safe_close_file, or leave it to
 * the end of the transaction.
 */
int
safe_open_file(const char *real, const char *shown, struct stat *st)
{
	int			fd;
	int			save_errno;

	handle_reserve();
	if (!AcquireExternalFD())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not open migration file \"%s\": too many files open", shown)));
	fd = walk_open(real, O_RDONLY | PG_BINARY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
	{
		save_errno = errno;
		ReleaseExternalFD();
		report_open_failure(save_errno, shown, "migration file");
	}
	handle_remember(fd, NULL);

	if (fstat(fd, st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat migration file \"%s\": %m", shown)));
	if (!S_ISREG(st->st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration file \"%s\" is not a regular file", shown),
				 errhint("Migration scripts must be regular files.")));
	return fd;
}

/* close a file opened by safe_open_file; false with errno set if close failed */
bool
safe_close_file(int fd)
{
	int			i = handle_find(fd, NULL);
	int			rc;

	/*
	 * Not open (any more): the transaction's end closed it, and the number
	 * may belong to someone else now, so it is left alone (fd.c warns too).
	 */
	if (i < 0)
	{
		elog(WARNING, "migrate: file descriptor %d is not open", fd);
		return true;
	}
	/* the descriptor is gone even when close fails: forget it */
	handles[i] = handles[--nhandles];
	ReleaseExternalFD();
	rc = close(fd);
	return rc == 0;
}

/*
 * Open the directory at real (an absolute real path the allow-list
 * accepted) for listing, following no symbolic link.  shown is what
 * messages call it.
 */
DIR *
safe_open_dir(const char *real, const char *shown)
{
	int			fd;
	int			save_errno;
	DIR		   *d;

	handle_reserve();
	if (!AcquireExternalFD())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not open directory \"%s\": too many files open", shown)));
	fd = walk_open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL)
	{
		save_errno = errno;
		if (fd >= 0)
			close(fd);
		ReleaseExternalFD();
		report_open_failure(save_errno, shown, "directory");
	}
	handle_remember(-1, d);
	return d;
}

/* the next entry of a directory opened by safe_open_dir; NULL at its end */
struct dirent *
safe_read_dir(DIR *d, const char *shown)
{
	struct dirent *de;

	errno = 0;
	de = readdir(d);
	if (de == NULL && errno != 0)
	{
		int			save_errno = errno;

		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read directory \"%s\": %m", shown),
				 errhint_file_access(save_errno)));
	}
	return de;
}

/* close a directory opened by safe_open_dir */
void
safe_close_dir(DIR *d)
{
	int			i = handle_find(-1, d);

	if (i < 0)
		elog(WARNING, "migrate: directory stream is not open");
	else
		handle_close(i);
}
