/*-------------------------------------------------------------------------
 *
 * checksum.c
 *	  Normalization of script text and its SHA-256 checksum.
 *
 * A script's checksum is the SHA-256 of its text after normalization: a
 * UTF-8 byte-order mark is dropped (source.c does that, it sees the first
 * bytes) and every CRLF becomes LF.  So a file checked out on Windows and
 * on Linux has one checksum, and what is executed, stored in the history
 * and hashed is the same text.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "checksum.h"

/* start a checksum */
void
digest_init(ScriptDigest *d)
{
	d->size = 0;
	d->ctx = pg_cryptohash_create(PG_SHA256);
	if (d->ctx == NULL || pg_cryptohash_init(d->ctx) < 0)
		elog(ERROR, "could not initialize SHA-256 context");
}

/* add normalized text */
void
digest_update(ScriptDigest *d, const char *data, size_t len)
{
	d->size += len;
	if (pg_cryptohash_update(d->ctx, (const uint8 *) data, len) < 0)
		elog(ERROR, "could not update SHA-256 context");
}

/* finish: hex must have room for MIGRATE_CHECKSUM_LEN bytes */
void
digest_final(ScriptDigest *d, char *hex)
{
	uint8		bin[PG_SHA256_DIGEST_LENGTH];
	static const char digits[] = "0123456789abcdef";
	int			i;

	if (pg_cryptohash_final(d->ctx, bin, sizeof(bin)) < 0)
		elog(ERROR, "could not finalize SHA-256 context");
	pg_cryptohash_free(d->ctx);
	d->ctx = NULL;
	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 0xf];
	}
	hex[2 * PG_SHA256_DIGEST_LENGTH] = '\0';
}

/*
 * Copy in to out turning CRLF into LF.  A CR at the very end of a chunk
 * may be the first half of a CRLF: unless eof, it is held back in
 * *pending_cr and decided with the next chunk.  out needs len + 1 bytes.
 * Returns the bytes written.
 */
size_t
normalize_line_endings(const char *in, size_t len, char *out,
					   bool *pending_cr, bool eof)
{
	char	   *o = out;
	size_t		i = 0;

	if (*pending_cr)
	{
		*pending_cr = false;
		if (len == 0 || in[0] != '\n')
			*o++ = '\r';
	}

	while (i < len)
	{
		const char *cr = memchr(in + i, '\r', len - i);
		size_t		run = cr ? (size_t) (cr - (in + i)) : len - i;

		memcpy(o, in + i, run);
		o += run;
		i += run;
		if (i >= len)
			break;
		/* in[i] is CR */
		if (i + 1 < len)
		{
			if (in[i + 1] != '\n')
				*o++ = '\r';
		}
		else if (eof)
			*o++ = '\r';
		else
			*pending_cr = true;
		i++;
	}
	return o - out;
}
