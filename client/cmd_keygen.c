/*
 * cmd_keygen — `sluice keygen [--out DIR] [--tenant T] NAME`: writes a fresh
 * CURVE key pair as DIR/NAME.key (secret, 0600) and DIR/NAME.pub (public),
 * in the format common/curve.h describes.  Runs in the CLI; trusts nothing
 * but its own arguments.
 */
#include <getopt.h>
#include <stdio.h>

#include "client/cmd.h"
#include "common/curve.h"

static int
usage(void)
{
	fprintf(stderr, "usage: sluice keygen [--out DIR] [--tenant T] NAME\n"
	    "  writes DIR/NAME.key (secret, mode 0600: keep it on the host that uses it)\n"
	    "  and DIR/NAME.pub (public: copy it into the broker's --clients, --workers or\n"
	    "  --approvers directory to enrol it; a client key needs --tenant)\n");
	return 2;
}

int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "tenant", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = ".", *tenant = NULL;
	char why[512];
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': dir = optarg; break;
		case 't': tenant = optarg; break;
		case 'h': usage(); return 0;
		default: return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	if (curve_keygen(dir, argv[optind], tenant, why, sizeof(why)) != ERR_OK) {
		fprintf(stderr, "sluice keygen: %s\n", why);
		return 1;
	}
	printf("%s/%s.key (secret)\n%s/%s.pub (public)\n", dir, argv[optind], dir, argv[optind]);
	return 0;
}
