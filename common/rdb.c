/*
 * rdb — see rdb.h.  Runs in whichever process owns the store, on the
 * thread that closes it.
 */
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
