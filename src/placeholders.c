/*-------------------------------------------------------------------------
 *
 * placeholders.c
 *	  Flyway's placeholders: ${name} in a script replaced, as it is read,
 *	  by a value from the call, a setting or a Flyway config file.
 *
 * Where the values come from, first found wins:
 *	  the call's placeholders => '{"name": "value"}' argument;
 *	  the setting migrate.placeholders.<name> (a custom setting, so ALTER
 *	  DATABASE ... SET gives each database its own value);
 *	  flyway.placeholders.<name> of a flyway.toml or flyway.conf in the
 *	  migration directory or its parent.
 * Flyway's built-ins (${flyway:user}, ${flyway:defaultSchema}, ...) are
 * taken when a script starts to stream.  The config may change the prefix
 * and suffix (placeholderPrefix, placeholderSuffix) or turn replacement
 * off (placeholderReplacement = false).  Config files are opened like
 * migration files (safeopen.c), and only inside an allowed directory
 * (paths.c).
 *
 * Which directories are replaced at all: Flyway's layout always (its
 * files are written for it); any other layout only when a Flyway config
 * is found or the call passes placeholders, so a dbmate or golang-migrate
 * file with "${" in a string or a function body runs untouched.
 *
 * The replacement is textual, as Flyway's: in comments, strings and COPY
 * data too.  It sits between the reader, which normalizes and checksums
 * the text as written (so a new value never makes an applied file
 * "changed"), and everything that reads a script's statements: the
 * splitter, the history's copy of the text, lint, COPY data.  A
 * placeholder cut by a chunk boundary is held back until the next chunk
 * completes it.  A placeholder without a value is an error naming it, the
 * file and the line, raised when the stream reaches it: a migration in a
 * transaction rolls back whole; one that runs outside a transaction is
 * read through once before its worker runs anything
 * (placeholders_check_file).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "paths.h"
#include "placeholders.h"
#include "reader.h"
#include "safeopen.h"
#include "source.h"

/* a longer ${...} (or one across lines) is text, not a placeholder */
#define PLACEHOLDER_NAME_MAX 256

/* a Flyway config file is small; refuse to read a huge one */
#define CONFIG_MAX_BYTES (1024 * 1024)

/* one flyway.placeholders.<name> of the config */
typedef struct ConfigValue
{
	char	   *name;
	char	   *value;
} ConfigValue;

struct Placeholders
{
	Jsonb	   *call;			/* the call's placeholders => object, or NULL */
	List	   *config;			/* ConfigValue *, in file order (the last wins) */
	const char *config_file;	/* the config read, as shown, or NULL */
	char	   *prefix;			/* "${" unless the config says */
	char	   *suffix;			/* "}" unless the config says */
	bool		replace;		/* placeholderReplacement */
	char	   *default_schema; /* the config's defaultSchema, else first of schemas */
};

struct PlaceholderStream
{
	const Placeholders *ph;
	const char *file;			/* the script's name, for messages */
	const char *filename;		/* ${flyway:filename}: its last component */
	char	   *user;			/* ${flyway:user} */
	char	   *database;		/* ${flyway:database} */
	char	   *schema;			/* ${flyway:defaultSchema}, or NULL */
	char	   *timestamp;		/* ${flyway:timestamp} */
	StringInfoData in;			/* text read and not yet replaced */
	StringInfoData out;			/* replaced text not yet delivered */
	size_t		out_pos;
	int			line;			/* line of in.data[0] in the file */
	bool		eof;
	int			failed_line;	/* line of a placeholder without a value */
};

/*
 * The placeholders => argument n (a jsonb object of names and scalar
 * values), checked; NULL if absent or SQL NULL.
 */
Jsonb *
placeholders_arg(FunctionCallInfo fcinfo, int n)
{
	Jsonb	   *jb;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	/* the 1.0 objects declare no such argument */
	if (PG_NARGS() <= n || PG_ARGISNULL(n))
		return NULL;
	jb = PG_GETARG_JSONB_P(n);
	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("placeholders must be a JSON object"),
				 errhint("Pass placeholders => '{\"name\": \"value\"}'.")));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		if (tok == WJB_VALUE && (v.type == jbvBinary || v.type == jbvArray || v.type == jbvObject))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("placeholder values must be strings, numbers or booleans"),
					 errhint("Pass placeholders => '{\"name\": \"value\"}'.")));
	return jb;
}

/* a copy of jb (or NULL) in cxt: a run's arguments outlive its commits */
Jsonb *
placeholders_copy(Jsonb *jb, MemoryContext cxt)
{
	Jsonb	   *copy;

	if (jb == NULL)
		return NULL;
	copy = MemoryContextAlloc(cxt, VARSIZE(jb));
	memcpy(copy, jb, VARSIZE(jb));
	return copy;
}

/* "true"/"false" of a config, as Flyway reads a boolean */
static bool
config_bool(const char *value, const char *shown, const char *key)
{
	if (pg_strcasecmp(value, "true") == 0)
		return true;
	if (pg_strcasecmp(value, "false") == 0)
		return false;
	ereport(ERROR,
			(errcode(ERRCODE_CONFIG_FILE_ERROR),
			 errmsg("invalid value \"%s\" for %s in \"%s\"", value, key, shown),
			 errhint("Write true or false.")));
	return false;				/* keep compiler quiet */
}

/*
 * One setting of the config, by its full key ("flyway.placeholders.x",
 * "flyway.placeholderPrefix", ...); anything else is not ours to read.
 */
static void
config_set(Placeholders *ph, const char *key, const char *value, const char *shown)
{
	if (strncmp(key, "flyway.placeholders.", 20) == 0 && key[20] != '\0')
	{
		ConfigValue *cv = palloc(sizeof(ConfigValue));

		cv->name = pstrdup(key + 20);
		cv->value = pstrdup(value);
		ph->config = lappend(ph->config, cv);
	}
	else if (strcmp(key, "flyway.placeholderPrefix") == 0 ||
			 strcmp(key, "flyway.placeholderSuffix") == 0)
	{
		bool		prefix = key[18] == 'P';

		if (*value == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("%s is empty in \"%s\"", key, shown),
					 errhint("Give a placeholder %s, or remove the line.", prefix ? "prefix" : "suffix")));
		if (prefix)
			ph->prefix = pstrdup(value);
		else
			ph->suffix = pstrdup(value);
	}
	else if (strcmp(key, "flyway.placeholderReplacement") == 0)
		ph->replace = config_bool(value, shown, key);
	else if (strcmp(key, "flyway.defaultSchema") == 0 && *value)
		ph->default_schema = pstrdup(value);
	else if (strcmp(key, "flyway.schemas") == 0 && ph->default_schema == NULL)
	{
		/* the first of a comma-separated list */
		char	   *first = pnstrdup(value, strcspn(value, ","));
		char	   *end = first + strlen(first);

		while (end > first && isspace((unsigned char) end[-1]))
			*--end = '\0';
		first += strspn(first, " \t");
		if (*first)
			ph->default_schema = first;
	}
}

/*
 * A flyway.conf (Java properties): "key=value", "key: value" or "key
 * value" lines, "#" and "!" comments, a final backslash continuing the
 * value on the next line, backslash escapes.
 */
static void
parse_conf(Placeholders *ph, char *text, const char *shown)
{
	char	   *line = text;

	while (line && *line)
	{
		char	   *next = strchr(line, '\n');
		StringInfoData key;
		StringInfoData value;
		char	   *p;
		bool		more;

		if (next)
			*next++ = '\0';
		p = line + strspn(line, " \t\f\r");
		line = next;
		if (*p == '\0' || *p == '#' || *p == '!')
			continue;

		initStringInfo(&key);
		while (*p && !strchr("=: \t\f\r", *p))
		{
			if (*p == '\\' && p[1])
				p++;
			appendStringInfoChar(&key, *p++);
		}
		p += strspn(p, " \t\f");
		if (*p == '=' || *p == ':')
			p++;
		p += strspn(p, " \t\f");

		initStringInfo(&value);
		do
		{
			more = false;
			for (; *p && *p != '\r'; p++)
			{
				if (*p != '\\')
				{
					appendStringInfoChar(&value, *p);
					continue;
				}
				p++;
				if (*p == '\0' || *p == '\r')
				{
					/* a final backslash: the value goes on on the next line */
					more = line != NULL;
					break;
				}
				appendStringInfoChar(&value, *p == 'n' ? '\n' : *p == 't' ? '\t' :
									 *p == 'r' ? '\r' : *p == 'f' ? '\f' : *p);
			}
			if (more)
			{
				next = strchr(line, '\n');
				if (next)
					*next++ = '\0';
				p = line + strspn(line, " \t\f");
				line = next;
			}
		} while (more);
		config_set(ph, key.data, value.data, shown);
	}
}

/*
 * A TOML value at p: a basic or literal string, a boolean or number, or
 * the first string of an array.  NULL for anything else.
 */
static char *
toml_value(const char *p)
{
	StringInfoData s;

	p += strspn(p, " \t");
	if (*p == '[')
	{
		p++;
		p += strspn(p, " \t");
		if (*p != '"' && *p != '\'')
			return NULL;
	}
	initStringInfo(&s);
	if (*p == '"')
	{
		for (p++; *p && *p != '"'; p++)
		{
			if (*p == '\\' && p[1])
			{
				p++;
				appendStringInfoChar(&s, *p == 'n' ? '\n' : *p == 't' ? '\t' :
									 *p == 'r' ? '\r' : *p);
			}
			else
				appendStringInfoChar(&s, *p);
		}
		return *p == '"' ? s.data : NULL;
	}
	if (*p == '\'')
	{
		const char *end = strchr(p + 1, '\'');

		return end ? pnstrdup(p + 1, end - p - 1) : NULL;
	}
	/* true, false, a number: up to a comment or the end */
	while (*p && *p != '#' && *p != '\r')
		appendStringInfoChar(&s, *p++);
	while (s.len > 0 && isspace((unsigned char) s.data[s.len - 1]))
		s.data[--s.len] = '\0';
	return s.len > 0 ? s.data : NULL;
}

/* a TOML key (bare or quoted parts, dotted), without blanks or quotes */
static char *
toml_key(const char *p, size_t len)
{
	StringInfoData s;
	size_t		i;

	initStringInfo(&s);
	for (i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '"' && p[i] != '\'')
			appendStringInfoChar(&s, p[i]);
	return s.data;
}

/*
 * A flyway.toml, as far as placeholders go: "[flyway]" (placeholderPrefix,
 * placeholderSuffix, placeholderReplacement, defaultSchema, schemas) and
 * "[flyway.placeholders]" (name = "value") tables, one key = value a
 * line.  Other tables ([environments.X], ...) are not read.
 */
static void
parse_toml(Placeholders *ph, char *text, const char *shown)
{
	char	   *table = "";
	char	   *line = text;

	while (line && *line)
	{
		char	   *next = strchr(line, '\n');
		char	   *p;
		char	   *eq;
		char	   *key;
		char	   *value;

		if (next)
			*next++ = '\0';
		p = line + strspn(line, " \t\r");
		line = next;
		if (*p == '\0' || *p == '#')
			continue;
		if (*p == '[')
		{
			char	   *end = strchr(p, ']');

			/* [[array of tables]] are none of ours */
			table = (p[1] == '[' || end == NULL) ? "-" : toml_key(p + 1, end - p - 1);
			continue;
		}
		eq = strchr(p, '=');
		if (eq == NULL)
			continue;
		key = toml_key(p, eq - p);
		if (*table)
			key = psprintf("%s.%s", table, key);
		if (strncmp(key, "flyway.", 7) != 0)
			continue;
		value = toml_value(eq + 1);
		if (value)
			config_set(ph, key, value, shown);
	}
}

/*
 * The text of a config file at real (an absolute path), or NULL when there
 * is none.  Opened as a migration file is (safeopen.c: no symbolic link
 * followed, nothing but a regular file).
 */
static char *
read_config(const char *real, const char *shown)
{
	struct stat st;
	int			fd;
	char	   *buf;
	size_t		len = 0;

	if (lstat(real, &st) != 0)
	{
		int			save_errno = errno;

		if (save_errno == ENOENT || save_errno == ENOTDIR)
			return NULL;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat Flyway config \"%s\": %m", shown),
				 errhint_file_access(save_errno)));
	}
	if (!S_ISREG(st.st_mode))
	{
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("Flyway config \"%s\" is not read", shown),
				 errdetail("It is not a regular file; symbolic links are never followed.")));
		return NULL;
	}
	fd = safe_open_file(real, shown, &st);
	if (st.st_size > CONFIG_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Flyway config \"%s\" is too large", shown),
				 errdetail("It has %lld bytes; at most %d are read.", (long long) st.st_size,
						   CONFIG_MAX_BYTES)));
	buf = palloc(st.st_size + 1);
	while (len < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, buf + len, st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read Flyway config \"%s\": %m", shown)));
		if (n == 0)
			break;
		len += n;
	}
	(void) safe_close_file(fd);
	buf[len] = '\0';
	if (strlen(buf) != len || !pg_verifymbstr(buf, len, true))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("Flyway config \"%s\" is not valid in encoding \"%s\"", shown,
						GetDatabaseEncodingName()),
				 errhint("Config files are read in the server encoding; convert the file.")));
	return buf;
}

/*
 * Read the first Flyway config found in real_dir, else in its parent when
 * that is allowed too: flyway.toml before flyway.conf (Flyway 10 reads
 * TOML first).  shown_dir is the directory as the caller named it.
 */
static void
load_config(Placeholders *ph, const char *real_dir, const char *shown_dir)
{
	static const char *const names[] = {"flyway.toml", "flyway.conf"};
	char	   *parent = pstrdup(real_dir);
	int			level;

	get_parent_directory(parent);
	for (level = 0; level < 2; level++)
	{
		const char *dir = level == 0 ? real_dir : parent;
		const char *root = path_allowed_root(dir);
		int			i;

		/* a parent outside every allowed directory is never looked at */
		if (root == NULL || path_is_hidden(dir, root) || *dir == '\0')
			break;
		for (i = 0; i < (int) lengthof(names); i++)
		{
			char	   *shown = level == 0 ?
				psprintf("%s/%s", shown_dir, names[i]) :
				psprintf("%s/../%s", shown_dir, names[i]);
			char	   *text = read_config(psprintf("%s/%s", dir, names[i]), shown);

			if (text == NULL)
				continue;
			ph->config_file = shown;
			if (i == 0)
				parse_toml(ph, text, shown);
			else
				parse_conf(ph, text, shown);
			return;
		}
		if (strcmp(dir, "/") == 0)
			break;
	}
}

/* new placeholders with Flyway's defaults */
static Placeholders *
placeholders_new(Jsonb *call)
{
	Placeholders *ph = palloc0(sizeof(Placeholders));

	ph->call = call;
	ph->prefix = "${";
	ph->suffix = "}";
	ph->replace = true;
	return ph;
}

/*
 * The placeholders of a call on a migration directory (dir as given,
 * real_dir resolved; a staged bundle has no config) whose layout is
 * layout; NULL when its scripts are not to be replaced.
 */
Placeholders *
placeholders_for_dir(Jsonb *call, const char *layout, const char *dir, const char *real_dir)
{
	Placeholders *ph = placeholders_new(call);

	if (real_dir && !source_is_bundle(dir))
		load_config(ph, real_dir, dir);
	if (!ph->replace)
		return NULL;
	if (call == NULL && ph->config_file == NULL &&
		(layout == NULL || strcmp(layout, "flyway") != 0))
		return NULL;
	return ph;
}

/*
 * The placeholders of migrate.run of one file (real_path: a file below an
 * allowed directory, or a staged file's bundle/name): replaced when the
 * call passes placeholders or a Flyway config is found beside the file.
 */
Placeholders *
placeholders_for_file(Jsonb *call, const char *real_path)
{
	Placeholders *ph = placeholders_new(call);

	if (is_absolute_path(real_path))
	{
		char	   *dir = pstrdup(real_path);

		get_parent_directory(dir);
		load_config(ph, dir, dir);
	}
	if (!ph->replace || (call == NULL && ph->config_file == NULL))
		return NULL;
	return ph;
}

/* a value of the call's object, as text; NULL if absent or JSON null */
static char *
call_value(Jsonb *call, const char *name)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) name;
	k.val.string.len = strlen(name);
	v = findJsonbValueFromContainer(&call->root, JB_FOBJECT, &k);
	if (v == NULL)
		return NULL;
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return v->val.boolean ? "true" : "false";
		default:
			return NULL;
	}
}

/* the value of a placeholder, or NULL: call, setting, config; built-ins */
static const char *
lookup(PlaceholderStream *ps, const char *name)
{
	const Placeholders *ph = ps->ph;
	const char *v;
	ListCell   *lc;

	if (strncmp(name, "flyway:", 7) == 0)
	{
		const char *b = name + 7;

		if (strcmp(b, "defaultSchema") == 0)
			return ps->schema;
		if (strcmp(b, "user") == 0)
			return ps->user;
		if (strcmp(b, "database") == 0)
			return ps->database;
		if (strcmp(b, "timestamp") == 0)
			return ps->timestamp;
		if (strcmp(b, "filename") == 0)
			return ps->filename;
		if (strcmp(b, "table") == 0)
			return "history";
		return NULL;
	}
	if (ph->call && (v = call_value(ph->call, name)) != NULL)
		return v;
	/*
	 * An empty setting is no value: after RESET, a setting made by SET
	 * reads as NULL up to PostgreSQL 15 but as "" from 16 on (placeholder
	 * settings got an empty boot value), and RESET must mean unset on
	 * every version.  An empty value comes from the call or the config.
	 */
	v = GetConfigOption(psprintf("migrate.placeholders.%s", name), true, false);
	if (v != NULL && v[0] != '\0')
		return v;
	v = NULL;
	foreach(lc, ph->config)
	{
		ConfigValue *cv = (ConfigValue *) lfirst(lc);

		if (strcmp(cv->name, name) == 0)
			v = cv->value;		/* the last line wins, as in a properties file */
	}
	return v;
}

/*
 * Start replacing the text of the script called name.  The built-ins are
 * taken now, before any of it runs (a SET search_path in the script does
 * not change ${flyway:defaultSchema}).
 */
PlaceholderStream *
placeholders_stream(const Placeholders *ph, const char *name)
{
	PlaceholderStream *ps = palloc0(sizeof(PlaceholderStream));
	const char *slash = strrchr(name, '/');
	List	   *path;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	ps->ph = ph;
	ps->file = pstrdup(name);
	ps->filename = slash ? slash + 1 : ps->file;
	ps->user = GetUserNameFromId(GetUserId(), false);
	ps->database = get_database_name(MyDatabaseId);
	if (ph->default_schema)
		ps->schema = ph->default_schema;
	else if ((path = fetch_search_path(false)) != NIL)
		ps->schema = get_namespace_name(linitial_oid(path));
	if (timestamp2tm(GetCurrentTimestamp(), &tz, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	/* Flyway's format: yyyy-MM-dd HH:mm:ss, in the session's time zone */
	ps->timestamp = psprintf("%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year, tm.tm_mon,
							 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	initStringInfo(&ps->in);
	initStringInfo(&ps->out);
	ps->line = 1;
	return ps;
}

/* newlines in s[0..len) */
static int
count_lines(const char *s, size_t len)
{
	const char *end = s + len;
	int			n = 0;

	while ((s = memchr(s, '\n', end - s)) != NULL)
	{
		n++;
		s++;
	}
	return n;
}

/* the error of a placeholder without a value, at offset at of ps->in */
pg_noreturn static void
no_value(PlaceholderStream *ps, const char *name, size_t at)
{
	const Placeholders *ph = ps->ph;

	ps->failed_line = ps->line + count_lines(ps->in.data, at);
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("no value provided for placeholder %s%s%s", ph->prefix, name, ph->suffix),
			 errdetail("In migration file \"%s\", line %d.", ps->file, ps->failed_line),
			 strncmp(name, "flyway:", 7) == 0 ?
			 errhint("Flyway's built-in placeholders are flyway:defaultSchema, flyway:user, "
					 "flyway:database, flyway:timestamp, flyway:filename and flyway:table.") :
			 errhint("Pass placeholders => '{\"%s\": \"...\"}', set migrate.placeholders.%s, "
					 "or add flyway.placeholders.%s to a flyway.conf beside the migrations.",
					 name, name, name)));
}

/* first occurrence of needle (len nlen) in s[0..len), or NULL */
static const char *
find(const char *s, size_t len, const char *needle, size_t nlen)
{
	const char *end = s + len;

	while (len >= nlen && (s = memchr(s, needle[0], end - s)) != NULL)
	{
		if ((size_t) (end - s) < nlen)
			return NULL;
		if (memcmp(s, needle, nlen) == 0)
			return s;
		s++;
	}
	return NULL;
}

/*
 * Replace what can be decided of ps->in into ps->out: everything at the
 * end of the file, else all but a possible placeholder cut off at the end
 * (its prefix, or its prefix and part of its name).
 */
static void
replace_some(PlaceholderStream *ps)
{
	const char *prefix = ps->ph->prefix;
	const char *suffix = ps->ph->suffix;
	size_t		plen = strlen(prefix);
	size_t		slen = strlen(suffix);
	const char *s = ps->in.data;
	size_t		len = ps->in.len;
	size_t		p = 0;

	while (p < len)
	{
		const char *q = find(s + p, len - p, prefix, plen);
		size_t		name_at;
		size_t		limit;
		size_t		i;
		bool		decided;
		const char *value;
		char	   *name;
		const char *r = NULL;

		if (q == NULL)
		{
			/* the last bytes may begin a prefix the next chunk completes */
			size_t		keep = ps->eof ? 0 : Min(plen - 1, len - p);

			appendBinaryStringInfo(&ps->out, s + p, len - p - keep);
			p = len - keep;
			break;
		}
		appendBinaryStringInfo(&ps->out, s + p, q - (s + p));
		p = q - s;
		name_at = p + plen;

		/* the suffix, on the same line, within PLACEHOLDER_NAME_MAX bytes */
		limit = Min(len, name_at + PLACEHOLDER_NAME_MAX + slen);
		decided = ps->eof || limit < len || len - name_at >= PLACEHOLDER_NAME_MAX + slen;
		for (i = name_at; i < limit; i++)
		{
			if (s[i] == '\n')
			{
				decided = true;
				break;
			}
			if (i + slen <= len && memcmp(s + i, suffix, slen) == 0)
			{
				r = s + i;
				break;
			}
		}
		if (r == NULL && !decided)
			break;				/* wait for the rest of it */
		if (r == NULL || r == s + name_at)
		{
			/* no name, or no suffix: text, as it is */
			appendBinaryStringInfo(&ps->out, prefix, plen);
			p += plen;
			continue;
		}
		name = pnstrdup(s + name_at, r - (s + name_at));
		value = lookup(ps, name);
		if (value == NULL)
			no_value(ps, name, p);
		appendStringInfoString(&ps->out, value);
		p = (r - s) + slen;
	}

	/* keep what is left for the next chunk */
	ps->line += count_lines(s, p);
	memmove(ps->in.data, s + p, len - p);
	ps->in.len = len - p;
	ps->in.data[ps->in.len] = '\0';
}

/*
 * The next chunk of replaced text into buf (READER_CHUNK + 1 bytes), read
 * from source as needed; 0 at the end.  A value may make the text longer
 * than what was read: the rest waits in ps->out for the next call.
 */
size_t
placeholders_read(PlaceholderStream *ps, char *buf, PlaceholderSource source, void *arg)
{
	size_t		n;

	while (ps->out_pos >= (size_t) ps->out.len)
	{
		if (ps->eof && ps->in.len == 0)
			return 0;
		resetStringInfo(&ps->out);
		ps->out_pos = 0;
		if (!ps->eof)
		{
			enlargeStringInfo(&ps->in, READER_CHUNK + 1);
			n = source(arg, ps->in.data + ps->in.len);
			if (n == 0)
				ps->eof = true;
			ps->in.len += n;
			ps->in.data[ps->in.len] = '\0';
		}
		replace_some(ps);
	}
	n = Min((size_t) ps->out.len - ps->out_pos, (size_t) READER_CHUNK);
	memcpy(buf, ps->out.data + ps->out_pos, n);
	ps->out_pos += n;
	return n;
}

/* the line of the placeholder that had no value, or 0 */
int
placeholders_failed_line(const PlaceholderStream *ps)
{
	return ps->failed_line;
}

/*
 * Read a script through its placeholders, running nothing: a placeholder
 * without a value is the error it would be.  For a script that runs
 * outside a transaction, whose statements cannot be taken back once its
 * worker ran them.
 */
void
placeholders_check_file(const Placeholders *ph, const SourceFile *file, const char *name)
{
	ScriptReader *r = reader_open(file);
	char	   *buf = palloc(READER_CHUNK + 1);

	reader_replace(r, ph, name);
	while (reader_read(r, buf) > 0)
		CHECK_FOR_INTERRUPTS();
	reader_close(r, NULL);
	pfree(buf);
}
