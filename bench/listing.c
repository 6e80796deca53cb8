/*-------------------------------------------------------------------------
 *
 * listing.c
 *	  The no-op benchmark's floor: the least a runner that trusts a file's
 *	  identity must do before it can say "nothing to apply".
 *
 *	  listing DIR
 *
 * Reads DIR once (readdir) and takes the identity of every entry whose name
 * does not start with "." through the open directory without following a
 * link (one fstatat each), as migrate's listing does, and prints the time
 * that took in microseconds.  Nothing is allocated, sorted or hashed, and
 * the process is already running, so this is below what any runner inside
 * or outside the server can reach.  bench/noop.sh adds it to a bare
 * SELECT 1 connection to print the lowest no-op ratio this machine allows.
 * Built by bench/noop.sh; not part of the extension.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

int
main(int argc, char **argv)
{
	struct timespec t0,
				t1;
	DIR		   *d;
	struct dirent *de;
	struct stat st;
	long		entries = 0;

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	d = opendir(argv[1]);
	if (d == NULL)
	{
		perror(argv[1]);
		return 1;
	}
	while ((de = readdir(d)) != NULL)
	{
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		{
			perror(de->d_name);
			return 1;
		}
		entries++;
	}
	closedir(d);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (entries == 0)
	{
		fprintf(stderr, "%s: no entries\n", argv[1]);
		return 1;
	}
	printf("%ld\n", (long) ((t1.tv_sec - t0.tv_sec) * 1000000L +
							(t1.tv_nsec - t0.tv_nsec) / 1000));
	return 0;
}
