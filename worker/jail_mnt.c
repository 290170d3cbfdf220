/*
 * jail_mnt — the jail's file system: a minimal root on a tmpfs.
 *
 * Runs in the worker (prepare, as root) and in the jail's init (enter, as
 * root of the jail's user namespace, in its private mount namespace).  The
 * parent reads the runtime's ELF headers to find the shared libraries it
 * needs (DT_NEEDED, resolved in the standard library dirs, recursively); the
 * child bind-mounts them read-only by path.
 *
 * Paths and permissions: the workspace and the runtime may sit below
 * root-only (0700) dirs, e.g. the worker's state dir.  So the child binds
 * them onto staging points (<base>/work, <base>/runtime) first, while its
 * fsuid is still the worker's host uid 0 (jail_mnt_stage); later, as root of
 * its user namespace (host uid JAIL_ROOT_HOST_UID, owner of nothing on the
 * host), it only walks <base> (0755) and the library dirs.  Binding from fds
 * the parent opened is not possible: those mounts belong to the parent's
 * mount namespace.
 *
 * The new root, after pivot_root, holds only:
 *
 *   /usr/bin/deno      the runtime (ro)          /proc   fresh, this pid ns
 *   /lib..., /lib64    its libraries (ro)        /tmp    small tmpfs, noexec,
 *                                                       with JAIL_DENO_DIR
 *   /etc               generated passwd, group, hosts, nsswitch.conf (ro)
 *   /dev               null zero random urandom (binds) + fd links (ro)
 *   /work              the job's workspace (rw, nosuid nodev noexec)
 *
 * and the root itself is remounted read-only.  The runtime binary is trusted
 * (we pick it); its ELF headers are parsed with bounds checks anyway.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "worker/jail_int.h"

#define JAIL_MNT_BASE		"/run/sluice-jail"
#define JAIL_MNT_BASE_ALT	"/tmp/.sluice-jail"
#define JAIL_MNT_TMP_OPTS	"size=64m,nr_inodes=4096,mode=1777"
#define JAIL_MNT_ROOT_OPTS	"size=8m,nr_inodes=512,mode=0755"
#define JAIL_MNT_DEV_OPTS	"size=64k,nr_inodes=64,mode=0755"
#define JAIL_MNT_MAX_DYN	4096	/* dynamic entries read at most */
#define JAIL_MNT_DYN_CHUNK	64	/* ... and per pread */

static const char *const jail_mnt_libdirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
	"/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
};

static const char *const jail_mnt_devs[] = { "null", "zero", "random", "urandom" };

/*
 * Deno's SQLite caches, each a directory in JAIL_DENO_DIR (root's, 0555) in
 * the place of the database file Deno would create.  A jail's cache dir is
 * new and thrown away with the jail, so these caches never hit; creating
 * them cost every Deno ~440 syscalls (open, fcntl locks, pwrite, fsync of
 * three databases and their journals).  Deno's policy for a cache it
 * cannot open (its source, cli/cache/cache_db.rs) is an in-memory or no-op
 * cache, logged only when stderr is a terminal.  The transpile cache (gen/)
 * stays on disk: Deno retries a failed write of it with sleeps.  Names as
 * of Deno 2.9; a renamed cache is simply created again (test_warm.sh
 * checks that none is).
 */
static const char *const jail_mnt_deno_caches[] = {
	JAIL_DENO_DIR "/dep_analysis_cache_v2",
	JAIL_DENO_DIR "/node_analysis_cache_v2",
	JAIL_DENO_DIR "/v8_code_cache_v2",
};

static const struct {
	const char *name;
	const char *text;
} jail_mnt_etc[] = {
	{ "passwd", "root:x:0:0:root:/:/nonexistent\n"
		    "sluice:x:1000:1000:sluice:/work:/nonexistent\n" },
	{ "group", "root:x:0:\nsluice:x:1000:\n" },
	{ "hosts", "127.0.0.1\tlocalhost sluice\n::1\tlocalhost\n" },
	{ "nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n" },
};

static bool
jail_mnt_pread(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off) == (ssize_t)len;
}

/* Adds one bind; `inside` is where the loader (or the runner) will look. */
static enum err
jail_mnt_add(struct jail *j, const char *host, const char *inside, char *why, size_t whysz)
{
	struct jail_bind *b;
	struct stat st;

	for (size_t i = 0; i < j->nbinds; i++)
		if (strcmp(j->binds[i].inside, inside) == 0)
			return ERR_OK;
	if (j->nbinds == JAIL_MAX_BINDS) {
		snprintf(why, whysz, "runtime needs more than %d files", JAIL_MAX_BINDS);
		return ERR_TOOBIG;
	}
	if (stat(host, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "open %s: %s", host, strerror(errno));
		return errno == ENOENT ? ERR_NOTFOUND : ERR_JAIL;
	}
	b = &j->binds[j->nbinds];
	b->host = strdup(host);
	b->inside = strdup(inside);
	j->nbinds++;
	if (b->host == NULL || b->inside == NULL) {
		snprintf(why, whysz, "out of memory");
		return ERR_NOMEM;
	}
	return ERR_OK;
}

/* Maps a virtual address to a file offset through the PT_LOAD headers. */
static bool
jail_mnt_vaddr_off(const Elf64_Phdr *ph, int n, uint64_t vaddr, uint64_t *off)
{
	for (int i = 0; i < n; i++) {
		if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
		    vaddr < ph[i].p_vaddr + ph[i].p_filesz) {
			*off = vaddr - ph[i].p_vaddr + ph[i].p_offset;
			return true;
		}
	}
	return false;
}

static enum err jail_mnt_add_elf(struct jail *j, const char *path, int depth, char *why,
    size_t whysz);

/* Finds library `name` in the standard dirs and adds it (and its needs). */
static enum err
jail_mnt_add_lib(struct jail *j, const char *name, int depth, char *why, size_t whysz)
{
	char path[JAIL_PATH_MAX];
	struct stat st;

	if (strchr(name, '/') != NULL || name[0] == '\0') {
		snprintf(why, whysz, "runtime needs a library by path");
		return ERR_JAIL;
	}
	for (size_t i = 0; i < sizeof(jail_mnt_libdirs) / sizeof(jail_mnt_libdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", jail_mnt_libdirs[i], name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return jail_mnt_add_elf(j, path, depth + 1, why, whysz);
	}
	snprintf(why, whysz, "library %.64s not found", name);
	return ERR_NOTFOUND;
}

/* Adds the ELF file `path` (bound at the same path, or at JAIL_RUNTIME_PATH
 * for the runtime at depth 0), its interpreter and its DT_NEEDED libraries. */
static enum err
jail_mnt_add_elf(struct jail *j, const char *path, int depth, char *why, size_t whysz)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	Elf64_Dyn dyn[JAIL_MNT_DYN_CHUNK];
	uint64_t strtab = 0, stroff, needed[64];
	int fd, nneeded = 0, dynidx = -1;
	enum err e = ERR_OK;
	char name[256];

	if (depth > 8) {
		snprintf(why, whysz, "library chain too deep at %.64s", path);
		return ERR_JAIL;
	}
	for (size_t i = 0; i < j->nbinds; i++)
		if (strcmp(j->binds[i].host, path) == 0 && depth > 0)
			return ERR_OK;
	if ((e = jail_mnt_add(j, path, depth == 0 ? JAIL_RUNTIME_PATH : path, why, whysz)) != ERR_OK)
		return e;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, whysz, "open %s: %s", path, strerror(errno));
		return ERR_JAIL;
	}
	if (!jail_mnt_pread(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum > 64 || !jail_mnt_pread(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr),
	    (off_t)eh.e_phoff)) {
		snprintf(why, whysz, "%.200s is not a 64-bit ELF file", path);
		e = ERR_JAIL;
		goto out_close;
	}
	for (int i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP && ph[i].p_filesz < sizeof(name)) {
			if (!jail_mnt_pread(fd, name, ph[i].p_filesz, (off_t)ph[i].p_offset))
				goto bad;
			name[ph[i].p_filesz] = '\0';
			if (name[0] != '/')
				goto bad;
			if ((e = jail_mnt_add_elf(j, name, depth + 1, why, whysz)) != ERR_OK)
				goto out_close;
		}
		if (ph[i].p_type == PT_DYNAMIC)
			dynidx = i;
	}
	if (dynidx < 0)
		goto out_close;		/* static: nothing more */
	/* the dynamic section, up to JAIL_MNT_DYN_CHUNK entries per read (one
	 * read per entry was ~270 preads per jail for Deno and its libraries) */
	uint64_t ndyn = ph[dynidx].p_filesz / sizeof(Elf64_Dyn);
	if (ndyn > JAIL_MNT_MAX_DYN)
		ndyn = JAIL_MNT_MAX_DYN;
	for (uint64_t k = 0; k < ndyn; k++) {
		if (k % JAIL_MNT_DYN_CHUNK == 0) {
			uint64_t got = ndyn - k < JAIL_MNT_DYN_CHUNK ? ndyn - k : JAIL_MNT_DYN_CHUNK;
			if (!jail_mnt_pread(fd, dyn, got * sizeof(Elf64_Dyn),
			    (off_t)(ph[dynidx].p_offset + k * sizeof(Elf64_Dyn))))
				goto bad;
		}
		const Elf64_Dyn *d = &dyn[k % JAIL_MNT_DYN_CHUNK];
		if (d->d_tag == DT_NULL)
			break;
		if (d->d_tag == DT_STRTAB)
			strtab = d->d_un.d_ptr;
		if (d->d_tag == DT_NEEDED && nneeded < 64)
			needed[nneeded++] = d->d_un.d_val;
	}
	if (nneeded > 0 && (strtab == 0 || !jail_mnt_vaddr_off(ph, eh.e_phnum, strtab, &stroff)))
		goto bad;
	for (int i = 0; i < nneeded; i++) {
		ssize_t n = pread(fd, name, sizeof(name) - 1, (off_t)(stroff + needed[i]));
		if (n <= 0)
			goto bad;
		name[n] = '\0';
		if (strlen(name) == (size_t)n)
			goto bad;	/* no NUL within bounds */
		if ((e = jail_mnt_add_lib(j, name, depth, why, whysz)) != ERR_OK)
			goto out_close;
	}
	goto out_close;
bad:
	snprintf(why, whysz, "malformed ELF headers in %.200s", path);
	e = ERR_JAIL;
out_close:
	close(fd);
	return e;
}

/* Makes (or checks) <base>/name, a root-owned directory or empty file that
 * is only ever a mount point inside private mount namespaces. */
static bool
jail_mnt_point(const char *base, const char *name, bool dir, char **out)
{
	char path[JAIL_PATH_MAX];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", base, name);
	if (dir) {
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return false;
	} else if ((fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644)) != -1) {
		close(fd);
	}
	if (lstat(path, &st) == -1 || st.st_uid != 0 ||
	    (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
		return false;
	return (*out = strdup(path)) != NULL;
}

/* Parent: picks the host mount points (the new root, and the staging points
 * of the workspace and the runtime) and lists every file the runtime needs.
 * Returns ERR_OK, or ERR_NOTFOUND / ERR_JAIL / ERR_NOMEM with a reason. */
enum err
jail_mnt_prepare(struct jail *j, char *why, size_t whysz)
{
	struct stat st;
	const char *bases[] = { JAIL_MNT_BASE, JAIL_MNT_BASE_ALT };
	enum err e;

	if ((e = jail_mnt_add_elf(j, j->runtime, 0, why, whysz)) != ERR_OK)
		return e;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (mkdir(bases[i], 0755) == -1 && errno != EEXIST)
			continue;
		if (lstat(bases[i], &st) == -1 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
		    (st.st_mode & 0022) != 0)
			continue;
		if (jail_mnt_point(bases[i], "newroot", true, &j->newroot) &&
		    jail_mnt_point(bases[i], "work", true, &j->stage_work) &&
		    jail_mnt_point(bases[i], "runtime", false, &j->stage_runtime))
			return ERR_OK;
		jail_mnt_cleanup(j);
	}
	snprintf(why, whysz, "no usable mount points for the jail (%s)", JAIL_MNT_BASE);
	return ERR_JAIL;
}

/* Parent: closes the fds and frees the mount plan. */
void
jail_mnt_cleanup(struct jail *j)
{
	for (size_t i = 0; i < j->nbinds; i++) {
		free(j->binds[i].host);
		free(j->binds[i].inside);
	}
	j->nbinds = 0;
	free(j->newroot);
	free(j->stage_work);
	free(j->stage_runtime);
	j->newroot = j->stage_work = j->stage_runtime = NULL;
}

/* Mount flags the kernel locks on a mount made in a less privileged user
 * namespace: a remount must repeat them. */
static unsigned long
jail_mnt_locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) == -1)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int
jail_mnt_remount(const char *path, unsigned long flags)
{
	flags |= jail_mnt_locked_flags(path);
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == -1)
		return errno;
	return 0;
}

/* mkdir -p of the parent dirs of `rel` (relative to the cwd). */
static int
jail_mnt_mkparents(const char *rel)
{
	char buf[JAIL_PATH_MAX];
	size_t n = strlen(rel);

	if (n >= sizeof(buf))
		return ENAMETOOLONG;
	memcpy(buf, rel, n + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	return 0;
}

/* Binds host path `src` on the new empty file or dir `rel`. */
static int
jail_mnt_bind(const char *src, const char *rel, bool dir, unsigned long flags)
{
	int e, tfd;

	if ((e = jail_mnt_mkparents(rel)) != 0)
		return e;
	if (dir) {
		if (mkdir(rel, 0755) == -1 && errno != EEXIST)
			return errno;
	} else {
		if ((tfd = open(rel, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
			return errno;
		close(tfd);
	}
	if (mount(src, rel, NULL, MS_BIND, NULL) == -1)
		return errno;
	return jail_mnt_remount(rel, flags);
}

static int
jail_mnt_write(const char *rel, const char *text)
{
	size_t len = strlen(text);
	int fd = open(rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd == -1)
		return errno;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return EIO;
	}
	close(fd);
	return 0;
}

static int
jail_mnt_dev(const char **step)
{
	char host[32], rel[32];
	int e;
	static const char *const links[][2] = {
		{ "/proc/self/fd", "dev/fd" }, { "/proc/self/fd/0", "dev/stdin" },
		{ "/proc/self/fd/1", "dev/stdout" }, { "/proc/self/fd/2", "dev/stderr" },
	};

	*step = "mount /dev tmpfs";
	if (mkdir("dev", 0755) == -1 ||
	    mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, JAIL_MNT_DEV_OPTS) == -1)
		return errno;
	for (size_t i = 0; i < sizeof(jail_mnt_devs) / sizeof(jail_mnt_devs[0]); i++) {
		*step = "bind /dev node";
		snprintf(host, sizeof(host), "/dev/%s", jail_mnt_devs[i]);
		snprintf(rel, sizeof(rel), "dev/%s", jail_mnt_devs[i]);
		if ((e = jail_mnt_bind(host, rel, false, MS_NOSUID | MS_NOEXEC)) != 0)
			return e;
	}
	*step = "/dev links";
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) == -1)
			return errno;
	*step = "remount /dev read-only";
	if (mount(NULL, "dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) == -1)
		return errno;
	return 0;
}

/* Child (jail init), first thing, while it still has the worker's host
 * uid 0 (owner of the worker's state dirs, so a 0700 dir on the way is
 * fine): makes its mounts private and binds the workspace and the runtime
 * on their staging points. */
int
jail_mnt_stage(const struct jail *j, const char **step)
{
	*step = "make mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return errno;
	*step = "stage /work";
	if (mount(j->workspace, j->stage_work, NULL, MS_BIND, NULL) == -1)
		return errno;
	*step = "stage runtime";
	if (mount(j->runtime, j->stage_runtime, NULL, MS_BIND, NULL) == -1)
		return errno;
	return 0;
}

/* Child (jail init, root of its user namespace): builds the new root and
 * pivots into it; the cwd ends up at /work. */
int
jail_mnt_enter(const struct jail *j, const char **step)
{
	int e;

	*step = "mount root tmpfs";
	if (mount("tmpfs", j->newroot, "tmpfs", MS_NOSUID | MS_NODEV, JAIL_MNT_ROOT_OPTS) == -1)
		return errno;
	*step = "chdir new root";
	if (chdir(j->newroot) == -1)
		return errno;

	*step = "bind /work";
	if ((e = jail_mnt_bind(j->stage_work, "work", true,
	    MS_NOSUID | MS_NODEV | MS_NOEXEC)) != 0)
		return e;
	*step = "mount /tmp";
	if (mkdir("tmp", 01777) == -1 || mount("tmpfs", "tmp", "tmpfs",
	    MS_NOSUID | MS_NODEV | MS_NOEXEC, JAIL_MNT_TMP_OPTS) == -1)
		return errno;
	/* the job (uid 1000) writes in JAIL_DENO_DIR, sticky like /tmp; the
	 * cache stand-ins stay root's */
	*step = "make " JAIL_DENO_DIR;
	if (mkdir(&JAIL_DENO_DIR[1], 0700) == -1 || chmod(&JAIL_DENO_DIR[1], 01777) == -1)
		return errno;
	for (size_t i = 0; i < sizeof(jail_mnt_deno_caches) / sizeof(jail_mnt_deno_caches[0]); i++)
		if (mkdir(jail_mnt_deno_caches[i] + 1, 0555) == -1)
			return errno;
	if ((e = jail_mnt_dev(step)) != 0)
		return e;
	*step = "bind runtime files";
	for (size_t i = 0; i < j->nbinds; i++)
		if ((e = jail_mnt_bind(i == 0 ? j->stage_runtime : j->binds[i].host,
		    j->binds[i].inside + 1, false,
		    MS_RDONLY | MS_NOSUID | MS_NODEV)) != 0)
			return e;
	*step = "write /etc";
	if (mkdir("etc", 0755) == -1 || chdir("etc") == -1)
		return errno;
	for (size_t i = 0; i < sizeof(jail_mnt_etc) / sizeof(jail_mnt_etc[0]); i++)
		if ((e = jail_mnt_write(jail_mnt_etc[i].name, jail_mnt_etc[i].text)) != 0)
			return e;
	if (chdir("..") == -1)
		return errno;
	*step = "mount /proc";
	if (mkdir("proc", 0555) == -1 ||
	    mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1)
		return errno;

	*step = "pivot_root";
	if (syscall(SYS_pivot_root, ".", ".") == -1)
		return errno;
	*step = "detach old root";
	if (umount2(".", MNT_DETACH) == -1)
		return errno;
	*step = "remount / read-only";
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) == -1)
		return errno;
	*step = "chdir /work";
	if (chdir("/work") == -1)
		return errno;
	return 0;
}
