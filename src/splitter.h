/*-------------------------------------------------------------------------
 *
 * splitter.h
 *	  Splitting a script into statements, the way psql does, and parsing
 *	  one of them with the server's own parser.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SPLITTER_H
#define MIGRATE_SPLITTER_H

#include "nodes/pg_list.h"

typedef enum StatementKind
{
	STMT_SQL,					/* an SQL statement */
	STMT_META					/* a psql meta-command (backslash) line */
} StatementKind;

/* one statement; text is palloc'd in the caller's memory context */
typedef struct Statement
{
	StatementKind kind;
	char	   *text;			/* from its first token, NUL-terminated */
	int			len;
	int64		offset;			/* byte offset of its first token in the script */
	int			line;			/* line of its first token, 1-based */
	int			end_line;		/* line of its last character */
	char		first_word[16]; /* lower-cased first keyword, if any */
	bool		copy_from_stdin;	/* COPY ... FROM STDIN: data follows */
	bool		copy_line_rest; /* COPY ... FROM STDIN; has more SQL on its line */
} Statement;

/*
 * What other tools' splitters add to psql's rules, for their layouts' files
 * (SourceFile.split); psql's rules alone when 0.
 */
#define SPLIT_BREAKPOINTS		0x01	/* Drizzle: "--> statement-breakpoint"
										 * ends a statement */
#define SPLIT_STATEMENT_BLOCKS	0x02	/* sql-migrate: the lines between
										 * "-- +migrate StatementBegin" and
										 * "-- +migrate StatementEnd" are one
										 * statement */

/* reads up to READER_CHUNK bytes into buf (room for one more); 0 at the end */
typedef size_t (*SplitterRead) (void *arg, char *buf);

typedef struct Splitter Splitter;

extern Splitter *splitter_create(SplitterRead read, void *arg);
extern Splitter *splitter_create_text(const char *text, size_t len);
extern Splitter *splitter_create_text_chunked(const char *text, size_t len, size_t chunk);
extern void splitter_set_dialect(Splitter *sp, int split);
extern bool splitter_next(Splitter *sp, Statement *st);
extern bool splitter_copy_data(Splitter *sp, const char **data, size_t *len);
extern int	splitter_line(Splitter *sp);
extern void splitter_free(Splitter *sp);
extern List *statement_parse(const char *text);

#endif							/* MIGRATE_SPLITTER_H */
