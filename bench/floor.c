/*-------------------------------------------------------------------------
 *
 * floor.c
 *	  The benchmark's floor runner: a whole file sent as ONE simple-query
 *	  message, so the server runs every statement without a round trip.
 *
 *	  floor CONNINFO FILE [QUERY]
 *
 * bench/migrations.sh writes FILE as BEGIN; <migration>; INSERT INTO a
 * tracking table; COMMIT; for every migration, so this is what any runner
 * inside the server has to beat, minus reading its files.  Every result
 * of the message is read, and the first error ends the run with status 1
 * (the server stops at it too).  QUERY, if given, then runs in the same
 * session and its first value is printed (the benchmark reads the
 * backend's CPU time with it).  Built by bench/migrations.sh against
 * libpq; not part of the extension.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

/* the whole of path, NUL-terminated, or exit */
static char *
read_all(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
		fseek(f, 0, SEEK_SET) != 0)
	{
		perror(path);
		exit(2);
	}
	buf = malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		perror(path);
		exit(2);
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	PGconn	   *conn;
	PGresult   *res;
	char	   *sql;
	int			failed = 0;

	if (argc < 3 || argc > 4)
	{
		fprintf(stderr, "usage: %s CONNINFO FILE [QUERY]\n", argv[0]);
		return 2;
	}
	sql = read_all(argv[2]);
	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "%s", PQerrorMessage(conn));
		return 1;
	}

	/* one Query message; one result per statement comes back */
	if (!PQsendQuery(conn, sql))
	{
		fprintf(stderr, "%s", PQerrorMessage(conn));
		return 1;
	}
	while ((res = PQgetResult(conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !failed)
		{
			fprintf(stderr, "%s", PQresultErrorMessage(res));
			failed = 1;
		}
		PQclear(res);
	}
	if (failed)
		return 1;

	if (argc == 4)
	{
		res = PQexec(conn, argv[3]);
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1)
		{
			fprintf(stderr, "%s", PQerrorMessage(conn));
			return 1;
		}
		printf("%s\n", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	PQfinish(conn);
	free(sql);
	return 0;
}
