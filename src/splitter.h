/*-------------------------------------------------------------------------
 *
 * splitter.h
 *	  Splitting a script into statements, the way psql does.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SPLITTER_H
#define MIGRATE_SPLITTER_H

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

/* reads up to READER_CHUNK bytes into buf (room for one more); 0 at the end */
typedef size_t (*SplitterRead) (void *arg, char *buf);

typedef struct Splitter Splitter;

extern Splitter *splitter_create(SplitterRead read, void *arg);
extern Splitter *splitter_create_text(const char *text, size_t len);
extern Splitter *splitter_create_text_chunked(const char *text, size_t len, size_t chunk);
extern bool splitter_next(Splitter *sp, Statement *st);
extern bool splitter_copy_data(Splitter *sp, const char **data, size_t *len);
extern int	splitter_line(Splitter *sp);
extern void splitter_free(Splitter *sp);

#endif							/* MIGRATE_SPLITTER_H */
