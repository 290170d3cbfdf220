/* Unit tests for worker/jail: configuration and facility error paths, and
 * real runs of Deno in a jail (needs root and node_modules/deno; a missing
 * feature skips the case loudly on stderr). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "worker/jail.h"
#include "worker/jail_int.h"
#include "worker/workspace.h"

static char deno[PATH_MAX];
static char parent[64];
static const char *env[] = { "DENO_DIR=/tmp/deno-dir", "NO_COLOR=1", NULL };

static int
setup(void **state)
{
	const char *root = getenv("SLUICE_ROOT"), *override = getenv("SLUICE_DENO");
	char p[PATH_MAX];

	(void)state;
	if (override != NULL)
		snprintf(p, sizeof(p), "%s", override);
	else
		snprintf(p, sizeof(p), "%s/node_modules/deno/deno", root ? root : ".");
	if (realpath(p, deno) == NULL)
		deno[0] = '\0';
	snprintf(parent, sizeof(parent), "/tmp/sluice-test-jail.XXXXXX");
	if (mkdtemp(parent) == NULL || chmod(parent, 0755) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rmdir(parent);
	return 0;
}

static void
need_root_and_deno(const char *name)
{
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP %s: needs root (namespaces, cgroups)\n", name);
		skip();
	}
	if (deno[0] == '\0') {
		fprintf(stderr, "SKIP %s: deno not found ($SLUICE_DENO or node_modules/deno/deno)\n", name);
		skip();
	}
}

static struct workspace *
ws_new(const char *id, bool jailed)
{
	struct workspace_limits wl = { 16, 1024, 16, 1 << 20 };
	char why[256];
	enum err e;
	struct workspace *ws = workspace_new(parent, id, jailed ? JAIL_HOST_UID : getuid(),
	    jailed ? JAIL_HOST_GID : getgid(), &wl, jailed, &e, why, sizeof(why));

	if (ws == NULL)
		fail_msg("workspace_new: %s", why);
	return ws;
}

static struct jail_conf
conf_for(const char *ws, const char *id)
{
	struct jail_conf c;

	memset(&c, 0, sizeof(c));
	c.runtime = deno[0] ? deno : "/bin/true";
	c.workspace = ws;
	c.env = env;
	c.id = id;
	return c;
}

/* Runs argv in a fresh jail; output (stdout+stderr) into out.  Returns the outcome. */
static struct jail_outcome
run(struct jail_conf *c, char **argv, char *out, size_t outsz)
{
	struct jail_outcome oc;
	char why[256];
	enum err e;
	struct jail *j = jail_new(c, &e, why, sizeof(why));
	int p[2];
	size_t got = 0;
	ssize_t n;

	if (j == NULL)
		fail_msg("jail_new: %s", why);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	if ((e = jail_start(j, argv, p[1], p[1], p[1], why, sizeof(why))) != ERR_OK)
		fail_msg("jail_start: %s", why);
	close(p[1]);
	while (got < outsz - 1 && (n = read(p[0], out + got, outsz - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	assert_int_equal(jail_reap(j, true, &oc), ERR_OK);
	jail_destroy(&j);
	assert_null(j);
	return oc;
}

static void
test_jail_conf_errors(void **state)
{
	struct jail_conf c = conf_for(parent, "conf");
	char why[256];
	enum err e;
	(void)state;

	c.runtime = "deno";
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	c = conf_for(parent, "../evil");
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	c = conf_for(parent, "a/b");
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	c = conf_for(parent, "");
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	c = conf_for("relative/ws", "conf");
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	/* nonexistent runtime */
	c = conf_for(parent, "conf");
	c.runtime = "/nonexistent/deno";
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_NOTFOUND);
	assert_non_null(strstr(why, "/nonexistent/deno"));
	/* bad limits */
	c = conf_for(parent, "conf");
	c.limits.memory_mb = 1;
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	assert_non_null(strstr(why, "memory"));
	c = conf_for(parent, "conf");
	c.limits.pids = 1;
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	c = conf_for(parent, "conf");
	c.limits.nofile = 1u << 30;
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	/* nonexistent and non-directory workspaces */
	c = conf_for("/nonexistent/ws", "conf");
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_NOTFOUND);
	c = conf_for("/etc/passwd", "conf");
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	jail_destroy(NULL);
}

static void
test_jail_unwritable_workspace(void **state)
{
	struct jail_conf c;
	char why[256], dir[128];
	enum err e;
	(void)state;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP test_jail_unwritable_workspace: needs root\n");
		skip();
	}
	snprintf(dir, sizeof(dir), "%s/rootowned", parent);
	assert_int_equal(mkdir(dir, 0755), 0);	/* owned by root, not the job's user */
	c = conf_for(dir, "unwritable");
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_DENIED);
	assert_non_null(strstr(why, "not writable"));
	rmdir(dir);
}

static void
test_jail_runtime_not_elf(void **state)
{
	struct workspace *ws;
	struct jail_conf c;
	char why[256], script[128];
	enum err e;
	int fd;
	(void)state;

	need_root_and_deno("test_jail_runtime_not_elf");
	snprintf(script, sizeof(script), "%s/fake-deno", parent);
	fd = open(script, O_WRONLY | O_CREAT, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	ws = ws_new("notelf", true);
	c = conf_for(workspace_path(ws), "notelf");
	c.runtime = script;
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_JAIL);
	assert_non_null(strstr(why, "ELF"));
	workspace_destroy(&ws);
	unlink(script);
}

/* Writes a minimal 64-bit ELF to `path`: one PT_LOAD over the whole file at
 * address 0 and a PT_DYNAMIC of `ndyn` entries, DT_DEBUG fillers but for a
 * DT_STRTAB and a DT_NEEDED at index `at` (the needed name at string offset
 * `name_off` from the table), then DT_NULL. */
static void
write_elf(const char *path, int ndyn, int at, uint64_t name_off)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[2] = { 0 };
	Elf64_Dyn dyn[200];
	const char names[] = "\0libc.so.6";
	uint64_t dyn_off = sizeof(eh) + sizeof(ph), str_off = dyn_off + (uint64_t)ndyn * sizeof(Elf64_Dyn);
	int fd;

	assert_true(ndyn <= 200 && at >= 1 && at < ndyn - 1);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	ph[0].p_type = PT_LOAD;
	ph[0].p_filesz = ph[0].p_memsz = str_off + sizeof(names);
	ph[1].p_type = PT_DYNAMIC;
	ph[1].p_offset = ph[1].p_vaddr = dyn_off;
	ph[1].p_filesz = ph[1].p_memsz = (uint64_t)ndyn * sizeof(Elf64_Dyn);
	for (int i = 0; i < ndyn; i++)
		dyn[i] = (Elf64_Dyn){ .d_tag = DT_DEBUG };
	dyn[0] = (Elf64_Dyn){ .d_tag = DT_STRTAB, .d_un.d_ptr = str_off };
	dyn[at] = (Elf64_Dyn){ .d_tag = DT_NEEDED, .d_un.d_val = name_off };
	dyn[ndyn - 1] = (Elf64_Dyn){ .d_tag = DT_NULL };
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &eh, sizeof(eh)), (ssize_t)sizeof(eh));
	assert_int_equal(write(fd, ph, sizeof(ph)), (ssize_t)sizeof(ph));
	assert_int_equal(write(fd, dyn, (size_t)ndyn * sizeof(Elf64_Dyn)),
	    (ssize_t)((size_t)ndyn * sizeof(Elf64_Dyn)));
	assert_int_equal(write(fd, names, sizeof(names)), (ssize_t)sizeof(names));
	close(fd);
}

/* The runtime's libraries come from its dynamic section, read in chunks:
 * a DT_NEEDED in the first chunk, right after one, and far past it is
 * found (libc is bound into the jail); one whose name lies past the end of
 * the file is refused as malformed. */
static void
test_jail_runtime_dynamic_section(void **state)
{
	const int at[] = { 1, 63, 64, 65, 130 };
	struct workspace *ws;
	struct jail_conf c;
	struct jail *j;
	char why[256], elf[128];
	enum err e;
	(void)state;

	need_root_and_deno("test_jail_runtime_dynamic_section");
	snprintf(elf, sizeof(elf), "%s/fake-elf", parent);
	ws = ws_new("dynsec", true);
	c = conf_for(workspace_path(ws), "dynsec");
	c.runtime = elf;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		bool libc = false;
		write_elf(elf, 150, at[i], 1);
		if ((j = jail_new(&c, &e, why, sizeof(why))) == NULL)
			fail_msg("DT_NEEDED at %d: jail_new: %s", at[i], why);
		for (size_t k = 0; k < j->nbinds; k++)
			libc |= strstr(j->binds[k].host, "/libc.so.6") != NULL;
		if (!libc)
			fail_msg("DT_NEEDED at %d: libc.so.6 not among the %zu binds", at[i], j->nbinds);
		jail_destroy(&j);
	}
	write_elf(elf, 150, 100, 1 << 20);
	assert_null(jail_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_JAIL);
	assert_non_null(strstr(why, "malformed ELF"));
	workspace_destroy(&ws);
	unlink(elf);
}

static void
test_jail_cgroup_clash(void **state)
{
	struct workspace *ws;
	struct jail_conf c;
	struct jail *a, *b;
	char why[256], path[JAIL_PATH_MAX];
	enum err e;
	(void)state;

	need_root_and_deno("test_jail_cgroup_clash");
	ws = ws_new("clash", true);
	c = conf_for(workspace_path(ws), "clash");
	a = jail_new(&c, &e, why, sizeof(why));
	if (a == NULL)
		fail_msg("jail_new: %s", why);
	assert_non_null(a->cg_memory);
	snprintf(path, sizeof(path), "%s", a->cg_memory);
	assert_int_equal(access(path, F_OK), 0);
	b = jail_new(&c, &e, why, sizeof(why));	/* same id: the group exists */
	assert_null(b);
	assert_int_equal(e, ERR_JAIL);
	assert_non_null(strstr(why, "cgroup"));
	jail_destroy(&a);
	assert_int_equal(access(path, F_OK), -1);	/* removed on destroy */
	workspace_destroy(&ws);
}

/* jail_sweep_cgroups: the groups of a worker that is gone go (with any
 * process left in them); those of a live worker (this process) stay. */
static void
test_jail_sweep_cgroups(void **state)
{
	struct workspace *ws;
	struct jail_conf c;
	struct jail *dead, *live;
	char why[256], id_dead[64], id_live[64], p_dead[JAIL_PATH_MAX], p_live[JAIL_PATH_MAX];
	enum err e;
	pid_t gone;
	(void)state;

	need_root_and_deno("test_jail_sweep_cgroups");
	if ((gone = fork()) == 0)
		_exit(0);
	assert_true(gone > 0);
	assert_int_equal(waitpid(gone, NULL, 0), gone);	/* a pid nobody has now */
	snprintf(id_dead, sizeof(id_dead), "warm-%d-1", (int)gone);
	snprintf(id_live, sizeof(id_live), "0123abcd-%d", (int)getpid());
	ws = ws_new("sweep", true);
	c = conf_for(workspace_path(ws), id_dead);
	if ((dead = jail_new(&c, &e, why, sizeof(why))) == NULL)
		fail_msg("jail_new: %s", why);
	c = conf_for(workspace_path(ws), id_live);
	if ((live = jail_new(&c, &e, why, sizeof(why))) == NULL)
		fail_msg("jail_new: %s", why);
	snprintf(p_dead, sizeof(p_dead), "%s", dead->cg_memory);
	snprintf(p_live, sizeof(p_live), "%s", live->cg_memory);
	jail_sweep_cgroups();
	assert_int_equal(access(p_dead, F_OK), -1);	/* the gone worker's: removed */
	assert_int_equal(access(p_live, F_OK), 0);	/* ours: kept */
	if (dead->cg_pids != NULL)
		assert_int_equal(access(dead->cg_pids, F_OK), -1);
	jail_destroy(&live);
	assert_int_equal(access(p_live, F_OK), -1);
	jail_destroy(&dead);	/* its groups are gone already: nothing to undo */
	workspace_destroy(&ws);
}

static void
test_jail_version(void **state)
{
	struct workspace *ws;
	struct jail_conf c;
	struct jail_outcome oc;
	char out[512], *argv[] = { deno, "--version", NULL };
	(void)state;

	need_root_and_deno("test_jail_version");
	ws = ws_new("version", true);
	c = conf_for(workspace_path(ws), "version");
	oc = run(&c, argv, out, sizeof(out));
	assert_true(oc.exited);
	assert_int_equal(oc.exit_code, 0);
	assert_false(oc.oom);
	assert_false(oc.seccomp_kill);
	assert_int_equal(strncmp(out, "deno ", 5), 0);
	workspace_destroy(&ws);
}

static void
test_jail_typescript(void **state)
{
	static const char prog[] =
	    "const n: number = 6 * 7;\n"
	    "let shadow = 'absent';\n"
	    "try { await Deno.readTextFile('/etc/shadow'); shadow = 'READ'; } catch { /**/ }\n"
	    "const pids = [...Deno.readDirSync('/proc')].filter((e) => /^\\d+$/.test(e.name));\n"
	    "console.log(`n=${n} host=${Deno.hostname()} uid=${Deno.uid()} shadow=${shadow} pids=${pids.length}`);\n"
	    "await Deno.writeTextFile('/work/answer.txt', String(n));\n";
	struct workspace *ws;
	struct workspace_file *f;
	struct jail_conf c;
	struct jail_outcome oc;
	const char *skip_list[] = { "main.ts", NULL };
	char out[4096], *argv[] = { "deno", "run", "-A", "main.ts", NULL };
	size_t n;
	bool trunc;
	(void)state;

	need_root_and_deno("test_jail_typescript");
	ws = ws_new("ts", true);
	assert_int_equal(workspace_put(ws, "main.ts", prog, sizeof(prog) - 1), ERR_OK);
	c = conf_for(workspace_path(ws), "ts");
	oc = run(&c, argv, out, sizeof(out));
	if (!oc.exited || oc.exit_code != 0)
		fail_msg("deno failed: %s", out);
	assert_non_null(strstr(out, "n=42 host=sluice uid=1000 shadow=absent pids=2"));
	assert_true(oc.cpu_ms > 0);
	assert_true(oc.max_rss_kb > 0);
	assert_int_equal(workspace_collect(ws, skip_list, &f, &n, &trunc), ERR_OK);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].path, "answer.txt");
	assert_memory_equal(f[0].data, "42", 2);
	workspace_files_free(f, n);
	workspace_destroy(&ws);
}

static void
test_jail_oom(void **state)
{
	static const char prog[] =
	    "const keep = [];\n"
	    "for (;;) { const a = new Uint8Array(8 << 20); a.fill(7); keep.push(a); }\n";
	struct workspace *ws;
	struct jail_conf c;
	struct jail_outcome oc;
	char out[4096], *argv[] = { "deno", "run", "bomb.js", NULL };
	(void)state;

	need_root_and_deno("test_jail_oom");
	ws = ws_new("oom", true);
	assert_int_equal(workspace_put(ws, "bomb.js", prog, sizeof(prog) - 1), ERR_OK);
	c = conf_for(workspace_path(ws), "oom");
	c.limits.memory_mb = 96;
	oc = run(&c, argv, out, sizeof(out));
	assert_true(oc.oom);
	assert_false(oc.exited && oc.exit_code == 0);
	assert_true(oc.max_rss_kb >= 90 * 1024);
	workspace_destroy(&ws);
}

/* The workspace may sit below a root-only (0700) state dir: the jail
 * stages it while it still has the worker's host uid. */
static void
test_jail_workspace_below_private_dir(void **state)
{
	struct workspace_limits wl = { 4, 64, 4, 4096 };
	struct workspace *ws;
	struct jail_conf c;
	struct jail_outcome oc;
	char why[256], hidden[128], out[512], *argv[] = { deno, "--version", NULL };
	enum err e;
	(void)state;

	need_root_and_deno("test_jail_workspace_below_private_dir");
	snprintf(hidden, sizeof(hidden), "%s/private", parent);
	assert_int_equal(mkdir(hidden, 0700), 0);
	ws = workspace_new(hidden, "ws", JAIL_HOST_UID, JAIL_HOST_GID, &wl, true, &e, why, sizeof(why));
	assert_non_null(ws);
	c = conf_for(workspace_path(ws), "private");
	oc = run(&c, argv, out, sizeof(out));
	assert_true(oc.exited);
	assert_int_equal(oc.exit_code, 0);
	workspace_destroy(&ws);
	rmdir(hidden);
}

/* A mount that fails in the child reaches jail_start as ERR_JAIL with the
 * step and errno: here the workspace vanished after jail_new. */
static void
test_jail_child_mount_error_reported(void **state)
{
	struct jail_conf c;
	struct jail *j;
	char why[256], dir[128], *argv[] = { deno, "--version", NULL };
	enum err e;
	(void)state;

	need_root_and_deno("test_jail_child_mount_error_reported");
	snprintf(dir, sizeof(dir), "%s/vanishing", parent);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chown(dir, JAIL_HOST_UID, JAIL_HOST_GID), 0);
	c = conf_for(dir, "mounterr");
	j = jail_new(&c, &e, why, sizeof(why));
	assert_non_null(j);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(jail_start(j, argv, 0, 1, 2, why, sizeof(why)), ERR_JAIL);
	assert_non_null(strstr(why, "stage /work"));
	assert_non_null(strstr(why, "No such file"));
	jail_destroy(&j);
}

static void
test_jail_pids_limit(void **state)
{
	static const char prog[] =
	    "const code = URL.createObjectURL(new Blob(['setInterval(() => {}, 1000)'],"
	    " { type: 'application/javascript' }));\n"
	    "const ws = [];\n"
	    "for (let i = 0; i < 20; i++) ws.push(new Worker(code, { type: 'module' }));\n"
	    "await new Promise((r) => setTimeout(r, 300));\n"
	    "console.log('made', ws.length);\n"
	    "Deno.exit(0);\n";
	struct workspace *ws;
	struct jail_conf c;
	struct jail_outcome oc;
	char out[4096], *argv[] = { "deno", "run", "-A", "workers.js", NULL };
	(void)state;

	need_root_and_deno("test_jail_pids_limit");
	for (int limited = 0; limited < 2; limited++) {
		ws = ws_new(limited ? "pids-12" : "pids-96", true);
		assert_int_equal(workspace_put(ws, "workers.js", prog, sizeof(prog) - 1), ERR_OK);
		c = conf_for(workspace_path(ws), limited ? "pids-12" : "pids-96");
		c.limits.pids = limited ? 12 : 96;
		oc = run(&c, argv, out, sizeof(out));
		if (limited) {
			assert_false(oc.exited && oc.exit_code == 0);
			assert_null(strstr(out, "made 20"));
		} else {
			if (!oc.exited || oc.exit_code != 0)
				fail_msg("unlimited run failed: %s", out);
			assert_non_null(strstr(out, "made 20"));
		}
		workspace_destroy(&ws);
	}
}

static void
test_jail_exec_failure_reported(void **state)
{
	struct workspace *ws;
	struct jail_conf c;
	struct jail *j;
	char why[256], *argv[] = { "/bin/sh", "-c", "id", NULL };
	enum err e;
	(void)state;

	need_root_and_deno("test_jail_exec_failure_reported");
	ws = ws_new("noexec", true);
	c = conf_for(workspace_path(ws), "noexec");
	j = jail_new(&c, &e, why, sizeof(why));
	assert_non_null(j);
	/* /bin/sh does not exist inside the jail */
	assert_int_equal(jail_start(j, argv, 0, 1, 2, why, sizeof(why)), ERR_JAIL);
	assert_non_null(strstr(why, "execve"));
	assert_non_null(strstr(why, "No such file"));
	assert_int_equal(jail_start(j, argv, 0, 1, 2, why, sizeof(why)), ERR_INVAL);
	jail_destroy(&j);
	workspace_destroy(&ws);
}

/* Out of descriptors between the jail's two pipes: jail_start fails with
 * ERR_IO and leaves no descriptor open (the first pipe's two ends). */
static void
test_jail_start_out_of_fds(void **state)
{
	struct workspace *ws;
	struct jail_conf c;
	struct jail_outcome oc;
	struct jail *j;
	struct rlimit old, tight;
	char why[256], out[256], *argv[] = { "deno", "--version", NULL };
	int fds[256], n = 0, a, b;
	enum err e;
	(void)state;

	need_root_and_deno("test_jail_start_out_of_fds");
	ws = ws_new("nofds", true);
	c = conf_for(workspace_path(ws), "nofds");
	/* one jail first: it opens sluice-jail-init, once per process */
	oc = run(&c, argv, out, sizeof(out));
	assert_true(oc.exited);
	c.id = "nofds2";
	if ((j = jail_new(&c, &e, why, sizeof(why))) == NULL)
		fail_msg("jail_new: %s", why);
	/* fill the table below a tight limit, then free exactly two slots */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	tight = old;
	tight.rlim_cur = 256;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &tight), 0);
	while (n < 256 && (fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) != -1)
		n++;
	assert_true(n >= 2 && n < 256);
	close(fds[--n]);
	close(fds[--n]);
	e = jail_start(j, argv, 0, 1, 2, why, sizeof(why));
	a = open("/dev/null", O_RDONLY | O_CLOEXEC);
	b = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (a != -1)
		close(a);
	if (b != -1)
		close(b);
	while (n > 0)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(e, ERR_IO);
	assert_non_null(strstr(why, "pipe:"));
	assert_true(a != -1 && b != -1);	/* the first pipe was closed */
	jail_destroy(&j);
	workspace_destroy(&ws);
}

static void
test_jail_kill_and_reap(void **state)
{
	struct workspace *ws;
	struct jail_conf c;
	struct jail_outcome oc;
	struct jail *j;
	char why[256], *argv[] = { "deno", "eval", "setInterval(() => {}, 1000)", NULL };
	enum err e;
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	(void)state;

	need_root_and_deno("test_jail_kill_and_reap");
	for (int mode = 0; mode < 2; mode++) {
		ws = ws_new(mode ? "kill-insecure" : "kill", !mode);
		c = conf_for(workspace_path(ws), mode ? "kill-insecure" : "kill");
		c.insecure_no_jail = mode == 1;
		j = jail_new(&c, &e, why, sizeof(why));
		if (j == NULL)
			fail_msg("jail_new: %s", why);
		assert_int_equal(jail_pid(j), 0);
		assert_int_equal(jail_start(j, argv, nul, nul, nul, why, sizeof(why)), ERR_OK);
		assert_true(jail_pid(j) > 0);
		assert_int_equal(jail_reap(j, false, &oc), ERR_TIMEOUT);
		jail_kill(j);
		jail_kill(j);
		assert_int_equal(jail_reap(j, true, &oc), ERR_OK);
		assert_false(oc.exited);
		assert_int_equal(oc.term_signal, SIGKILL);
		jail_kill(j);			/* after exit: harmless */
		jail_destroy(&j);
		workspace_destroy(&ws);
	}
	close(nul);
}

/* The nice value of thread `tid` of `pid` (field 19 of its stat), or 99. */
static int
nice_of(pid_t pid, const char *tid)
{
	char path[96], buf[1024], *p;
	int nice = 99;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
	if ((f = fopen(path, "re")) == NULL)
		return 99;
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL)
		(void)sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %d",
		    &nice);
	fclose(f);
	return nice;
}

/* How many threads `pid` has (0 if it is gone). */
static int
threads_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	return stat(path, &st) == 0 ? (int)st.st_nlink - 2 : 0;
}

/* Once the job runs, the jail's init is sluice-jail-init, not a copy of
 * this process: it is small, this process takes no copy-on-write faults
 * for the jail, and it forwards a signal to the job. */
static void
test_jail_init_after_start(void **state)
{
	struct workspace *ws;
	struct jail_conf c;
	struct jail_outcome oc;
	struct jail *j;
	struct rusage r0, r1;
	char why[256], exe[PATH_MAX], path[64], *argv[] = { "deno", "eval",
	    "setInterval(() => {}, 1000)", NULL };
	const size_t npages = 256;
	long page = sysconf(_SC_PAGESIZE);
	char *buf = malloc(npages * (size_t)page);
	enum err e;
	ssize_t n;
	long kb;
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	(void)state;

	need_root_and_deno("test_jail_init_after_start");
	assert_non_null(buf);
	memset(buf, 1, npages * (size_t)page);
	ws = ws_new("init-after", true);
	c = conf_for(workspace_path(ws), "init-after");
	j = jail_new(&c, &e, why, sizeof(why));
	if (j == NULL)
		fail_msg("jail_new: %s", why);
	if (jail_start(j, argv, nul, nul, nul, why, sizeof(why)) != ERR_OK)
		fail_msg("jail_start: %s", why);

	/* Writing pages touched before the jail: no copy-on-write faults (a
	 * forked init would cost one per page; sanitized builds fork it). */
	getrusage(RUSAGE_THREAD, &r0);
	for (size_t i = 0; i < npages; i++)
		buf[i * (size_t)page]++;
	getrusage(RUSAGE_THREAD, &r1);
	if (!jail_init_shares_memory())
		fprintf(stderr, "NOTE test_jail_init_after_start: the copy-on-write check is off "
		    "under AddressSanitizer (init is forked there, see worker/jail.c)\n");
	else if (r1.ru_minflt - r0.ru_minflt > (long)npages / 8)
		fail_msg("%ld page faults writing %zu pages after jail_start",
		    r1.ru_minflt - r0.ru_minflt, npages);

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)jail_pid(j));
	n = readlink(path, exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	if (strcmp(strrchr(exe, '/'), "/sluice-jail-init") != 0)
		fail_msg("init runs %s", exe);
	if ((kb = util_rss_kb(jail_pid(j))) < 0 || kb > 1024)
		fail_msg("init's RSS is %ld kB", kb);

	/* jail_renice reaches every thread of init and of the job (once Deno
	 * has started its threads: later ones inherit the value anyway). */
	for (int tries = 0; tries < 500 && threads_of(jail_job_pid(j)) < 2; tries++)
		usleep(10000);
	jail_renice(j, 7);
	for (int k = 0; k < 2; k++) {
		pid_t p = k == 0 ? jail_pid(j) : jail_job_pid(j);
		int threads = 0;
		assert_true(p > 0);
		snprintf(path, sizeof(path), "/proc/%d/task", (int)p);
		DIR *d = opendir(path);
		assert_non_null(d);
		for (struct dirent *de; (de = readdir(d)) != NULL;) {
			if (de->d_name[0] == '.')
				continue;
			threads++;
			if (nice_of(p, de->d_name) != 7)
				fail_msg("thread %s of %d has nice %d after jail_renice(7)", de->d_name,
				    (int)p, nice_of(p, de->d_name));
		}
		closedir(d);
		if (k == 1 && threads < 2)
			fail_msg("the job (deno) has %d thread(s); expected several", threads);
	}

	assert_int_equal(kill(jail_pid(j), SIGTERM), 0);
	assert_int_equal(jail_reap(j, true, &oc), ERR_OK);
	assert_false(oc.exited);
	assert_int_equal(oc.term_signal, SIGTERM);
	jail_destroy(&j);
	workspace_destroy(&ws);
	free(buf);
	close(nul);
}

static void
test_jail_insecure_runs(void **state)
{
	struct workspace *ws;
	struct jail_conf c;
	struct jail_outcome oc;
	const char *canary_env[] = { "NO_COLOR=1", NULL };
	char out[1024], *argv[] = { "deno", "eval",
	    "console.log(Object.keys(Deno.env.toObject()).includes('SLUICE_CANARY'), Deno.cwd())", NULL };
	(void)state;

	if (deno[0] == '\0') {
		fprintf(stderr, "SKIP test_jail_insecure_runs: no deno\n");
		skip();
	}
	setenv("SLUICE_CANARY", "leak", 1);
	ws = ws_new("insecure", false);
	c = conf_for(workspace_path(ws), "insecure");
	c.insecure_no_jail = true;
	c.env = canary_env;
	oc = run(&c, argv, out, sizeof(out));
	unsetenv("SLUICE_CANARY");
	assert_true(oc.exited);
	assert_int_equal(oc.exit_code, 0);
	assert_int_equal(strncmp(out, "false ", 6), 0);
	assert_non_null(strstr(out, workspace_path(ws)));
	workspace_destroy(&ws);
}

/* init does not exec: it must not keep the worker's other fds (e.g. the
 * output pipe of a concurrent job) open for the life of the jail. */
static void
test_jail_does_not_hold_worker_fds(void **state)
{
	struct workspace *ws;
	struct jail_conf c;
	struct jail *j;
	struct pollfd pfd;
	char why[256], buf[8], *argv[] = { "deno", "eval", "setInterval(() => {}, 1000)", NULL };
	int other[2], plain[2], nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	enum err e;
	(void)state;

	need_root_and_deno("test_jail_does_not_hold_worker_fds");
	assert_int_equal(pipe(plain), 0);		/* not even CLOEXEC */
	assert_int_equal(pipe2(other, O_CLOEXEC), 0);
	ws = ws_new("fds", true);
	c = conf_for(workspace_path(ws), "fds");
	j = jail_new(&c, &e, why, sizeof(why));
	assert_non_null(j);
	assert_int_equal(jail_start(j, argv, nul, nul, nul, why, sizeof(why)), ERR_OK);
	close(other[1]);
	close(plain[1]);
	for (int i = 0; i < 2; i++) {
		pfd.fd = i ? plain[0] : other[0];
		pfd.events = POLLIN;
		assert_int_equal(poll(&pfd, 1, 2000), 1);	/* EOF, not a timeout */
		assert_int_equal(read(pfd.fd, buf, sizeof(buf)), 0);
	}
	jail_kill(j);
	jail_destroy(&j);
	workspace_destroy(&ws);
	close(other[0]);
	close(plain[0]);
	close(nul);
}

static volatile bool churn_stop;

static void *
churn(void *arg)
{
	(void)arg;
	while (!churn_stop) {
		void *p = malloc(4096);
		free(p);
	}
	return NULL;
}

/* The worker has threads (ZeroMQ): building jails while other threads hold
 * the malloc lock must not deadlock the child. */
static void
test_jail_from_threaded_process(void **state)
{
	pthread_t t[2];
	struct workspace *ws;
	struct jail_conf c;
	struct jail_outcome oc;
	char out[512], id[32], *argv[] = { deno, "--version", NULL };
	(void)state;

	need_root_and_deno("test_jail_from_threaded_process");
	churn_stop = false;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "threaded-%d", i);
		ws = ws_new(id, true);
		c = conf_for(workspace_path(ws), id);
		oc = run(&c, argv, out, sizeof(out));
		assert_true(oc.exited);
		assert_int_equal(oc.exit_code, 0);
		workspace_destroy(&ws);
	}
	churn_stop = true;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

static void
test_jail_probe(void **state)
{
	char why[512];
	(void)state;

	assert_false(jail_probe("/nonexistent/deno", why, sizeof(why)));
	assert_non_null(strstr(why, "/nonexistent/deno"));
	need_root_and_deno("test_jail_probe");
	if (!jail_probe(deno, why, sizeof(why)))
		fail_msg("probe: %s", why);
	assert_string_equal(why, "ok");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jail_conf_errors),
		cmocka_unit_test(test_jail_unwritable_workspace),
		cmocka_unit_test(test_jail_runtime_not_elf),
		cmocka_unit_test(test_jail_runtime_dynamic_section),
		cmocka_unit_test(test_jail_cgroup_clash),
		cmocka_unit_test(test_jail_sweep_cgroups),
		cmocka_unit_test(test_jail_version),
		cmocka_unit_test(test_jail_typescript),
		cmocka_unit_test(test_jail_oom),
		cmocka_unit_test(test_jail_workspace_below_private_dir),
		cmocka_unit_test(test_jail_child_mount_error_reported),
		cmocka_unit_test(test_jail_pids_limit),
		cmocka_unit_test(test_jail_exec_failure_reported),
		cmocka_unit_test(test_jail_start_out_of_fds),
		cmocka_unit_test(test_jail_kill_and_reap),
		cmocka_unit_test(test_jail_init_after_start),
		cmocka_unit_test(test_jail_insecure_runs),
		cmocka_unit_test(test_jail_does_not_hold_worker_fds),
		cmocka_unit_test(test_jail_from_threaded_process),
		cmocka_unit_test(test_jail_probe),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
