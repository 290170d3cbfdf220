/*
 * rdb — see rdb.h.  Runs in whichever process owns the store, on the
 * thread that closes it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/rdb.h"

void
rdb_close(rocksdb_t *db, bool write_failed, const char *what)
{
	if (db == NULL)
		return;
	if (write_failed) {
		log_warnx("%s: a write failed earlier: not closing the database "
		    "(the synced log is replayed at the next start)", what);
		return;
	}
	rocksdb_close(db);
}

rocksdb_options_t *
rdb_options(void)
{
	rocksdb_options_t *o = rocksdb_options_create();

	rocksdb_options_set_info_log_level(o, 4);	/* FATAL_LEVEL */
	return o;
}

enum err
rdb_write(rocksdb_t *db, const rocksdb_writeoptions_t *wo, rocksdb_writebatch_t *wb,
    bool *failed, char *why, size_t whysz)
{
	char *dberr = NULL;

	if (*failed) {
		snprintf(why, whysz, "not writing: the store refused a write earlier (restart the "
		    "process once the cause, e.g. a full disk, is fixed)");
		return ERR_DB;
	}
	rocksdb_write(db, wo, wb, &dberr);
	if (dberr != NULL) {
		snprintf(why, whysz, "%s", dberr);
		rocksdb_free(dberr);
		*failed = true;
		return ERR_DB;
	}
	return ERR_OK;
}

#define RDB_BATCH_HEADER 12	/* sequence (8) + count (4) */

rocksdb_writebatch_t *
rdb_batch_concat(rocksdb_writebatch_t *a, rocksdb_writebatch_t *b)
{
	size_t la, lb;
	const char *ra = rocksdb_writebatch_data(a, &la), *rb = rocksdb_writebatch_data(b, &lb);
	rocksdb_writebatch_t *wb;
	uint32_t n;
	char *buf;

	if (la < RDB_BATCH_HEADER || lb < RDB_BATCH_HEADER ||
	    (buf = malloc(la + lb - RDB_BATCH_HEADER)) == NULL)
		return NULL;
	memcpy(buf, ra, la);
	memcpy(buf + la, rb + RDB_BATCH_HEADER, lb - RDB_BATCH_HEADER);
	n = (uint32_t)rocksdb_writebatch_count(a) + (uint32_t)rocksdb_writebatch_count(b);
	for (int i = 0; i < 4; i++)
		buf[8 + i] = (char)(n >> (8 * i));
	wb = rocksdb_writebatch_create_from(buf, la + lb - RDB_BATCH_HEADER);
	free(buf);
	if (wb != NULL && (uint32_t)rocksdb_writebatch_count(wb) != n) {
		rocksdb_writebatch_destroy(wb);
		return NULL;
	}
	return wb;
}
