/*
 * trace — timestamps at the fixed points of a job's path, for finding where
 * a trivial job's milliseconds go (bench/timeline.sh).
 *
 * Compiled out unless the build defines SLUICE_TRACE (bench/timeline.sh
 * builds build-trace with EXTRA_CFLAGS=-DSLUICE_TRACE).  When on, each mark
 * is one line on stderr:
 *
 *     TS <tag> <CLOCK_MONOTONIC microseconds>
 *
 * CLOCK_MONOTONIC is one clock for every process on the host, so the lines
 * of the client, the broker and the worker sort into one timeline.  Tags
 * name the process and the point: C client, B broker loop, K commit
 * round, W and R worker.  Never on in a daemon that serves anyone.
 */
#ifndef SLUICE_TRACE_H
#define SLUICE_TRACE_H

#ifdef SLUICE_TRACE
#include <stdio.h>
#include <time.h>

static inline void
trace_mark(const char *tag)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "TS %s %lld\n", tag, (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000);
}
#define TRACE_MARK(tag) trace_mark(tag)
#else
#define TRACE_MARK(tag) ((void)0)
#endif

#endif
