/*
 * sluice-audit — `sluice audit tail|export|verify` (client/cmd_audit.c).
 *
 * A binary of its own because it is the only client command that opens the
 * broker's RocksDB store; `sluice audit ...` execs it (client/main.c), so
 * the everyday `sluice` does not pay RocksDB's process start.
 */
#include "client/cmd.h"
#include "common/log.h"

int
main(int argc, char **argv)
{
	log_init("sluice", LOG_LEVEL_WARN);
	return cmd_audit(argc, argv);
}
