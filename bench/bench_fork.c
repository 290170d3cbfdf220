/*
 * bench_fork — what a process's resident heap costs each copy of it.  A
 * jail's init used to start as a copy of sluice-worker (a raw clone), so the
 * worker's touched anonymous memory was copied and torn down once per job;
 * it still is in AddressSanitizer builds.  Now init shares the worker's
 * memory (CLONE_VM, worker/jail.c) and this measures what that avoids.
 * Here: a process touches MB megabytes of heap,
 * then clones (SIGCHLD only, without the namespaces), the child exits at
 * once and the parent reaps it, and the parent writes one byte of the heap
 * (a copy-on-write fault, as the worker's threads cause).  Sizes are
 * measured in turns, ROUNDS rounds of RUNS each; the median round is
 * printed, as wall and CPU time (this process and its reaped children).
 *
 *   build/bench/bench_fork [RUNS] [ROUNDS]      (defaults: 200 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

#define BENCH_FORK_MAX_ROUNDS	51

static const size_t bench_fork_mb[] = { 1, 3, 9, 27 };
#define BENCH_FORK_NSIZES	(sizeof(bench_fork_mb) / sizeof(bench_fork_mb[0]))

/* CPU of this process and of its reaped children, in microseconds. */
static double
bench_fork_cpu_us(void)
{
	struct rusage s, c;

	getrusage(RUSAGE_SELF, &s);
	getrusage(RUSAGE_CHILDREN, &c);
	return (double)(s.ru_utime.tv_sec + s.ru_stime.tv_sec + c.ru_utime.tv_sec +
	    c.ru_stime.tv_sec) * 1e6 + (double)(s.ru_utime.tv_usec + s.ru_stime.tv_usec +
	    c.ru_utime.tv_usec + c.ru_stime.tv_usec);
}

static int
bench_fork_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One round: RUNS clone + exit + reap with `heap` (len bytes) resident. */
static int
bench_fork_round(char *heap, size_t len, int runs, double *wall, double *cpu)
{
	double w0 = (double)util_now_us(), c0 = bench_fork_cpu_us();

	for (int i = 0; i < runs; i++) {
		pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
		if (pid == -1) {
			perror("bench_fork: clone");
			return -1;
		}
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid) {
			perror("bench_fork: waitpid");
			return -1;
		}
		heap[((size_t)i * 4096) % len]++;
	}
	*wall = ((double)util_now_us() - w0) / runs;
	*cpu = (bench_fork_cpu_us() - c0) / runs;
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t runs64 = 200, rounds64 = 5;
	double wall[BENCH_FORK_NSIZES][BENCH_FORK_MAX_ROUNDS], cpu[BENCH_FORK_NSIZES][BENCH_FORK_MAX_ROUNDS];
	char *heap[BENCH_FORK_NSIZES];

	if ((argc > 1 && !util_parse_u64(argv[1], 1, 100000, &runs64)) ||
	    (argc > 2 && !util_parse_u64(argv[2], 1, BENCH_FORK_MAX_ROUNDS, &rounds64)) || argc > 3) {
		fprintf(stderr, "usage: bench_fork [RUNS 1..100000] [ROUNDS 1..%d]\n", BENCH_FORK_MAX_ROUNDS);
		return 2;
	}
	int runs = (int)runs64, rounds = (int)rounds64;
	/* Only one size is resident at a time.  mmap, not malloc: glibc keeps
	 * a freed large block in its heap after raising its mmap threshold,
	 * so every later size would carry the largest one's pages. */
	for (int r = 0; r < rounds; r++) {
		for (size_t s = 0; s < BENCH_FORK_NSIZES; s++) {
			size_t len = bench_fork_mb[s] << 20;
			heap[s] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (heap[s] == MAP_FAILED) {
				perror("bench_fork: mmap");
				return 1;
			}
			memset(heap[s], 1, len);
			if (bench_fork_round(heap[s], len, runs, &wall[s][r], &cpu[s][r]) != 0)
				return 1;
			munmap(heap[s], len);
		}
	}
	printf("# clone + exit + reap, %d per round, median of %d rounds\n", runs, rounds);
	printf("| heap touched | wall µs | CPU µs |\n|---:|---:|---:|\n");
	for (size_t s = 0; s < BENCH_FORK_NSIZES; s++) {
		qsort(wall[s], (size_t)rounds, sizeof(double), bench_fork_cmp);
		qsort(cpu[s], (size_t)rounds, sizeof(double), bench_fork_cmp);
		printf("| %zu MB | %.0f | %.0f |\n", bench_fork_mb[s], wall[s][rounds / 2], cpu[s][rounds / 2]);
	}
	return 0;
}
