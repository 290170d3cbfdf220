/*
 * warm_source — writes the warm pool's bootstrap (sluice-warm.js) and its
 * TypeScript prime (sluice-prime.ts) into DIR, exactly as worker/warm.c
 * puts them in a warm jail's /work, for bench/deno_ir.sh.
 *
 *   build/bench/warm_source DIR [PRIMES]   (PRIMES as --warm-prime; default none)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/warm.h"

static int
warm_source_write(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		fprintf(stderr, "warm_source: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	uint32_t mask = 0;
	char why[256], *boot;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: warm_source DIR [PRIMES]\n");
		return 2;
	}
	if (argc == 3 && !warm_prime_parse(argv[2], &mask, why, sizeof(why))) {
		fprintf(stderr, "warm_source: %s\n", why);
		return 2;
	}
	if ((boot = warm_bootstrap(mask)) == NULL) {
		fprintf(stderr, "warm_source: out of memory\n");
		return 1;
	}
	int rc = warm_source_write(argv[1], "sluice-warm.js", boot) != 0 ||
	    warm_source_write(argv[1], "sluice-prime.ts", warm_prime_source()) != 0;
	free(boot);
	return rc;
}
