/*
 * zap — CURVE key sets and the ZAP handler of sluice-broker (see zap.h).
 *
 * Runs in the broker: zap_new on the main thread loads every key file (the
 * operator's, trusted for their content but checked for shape), then a
 * zactor thread answers ZAP requests from libzmq.  zap_reload (SIGHUP, main
 * thread) loads the directories again and swaps the sets under `mu`, which
 * the handler holds while it looks a key up.  The requests come from
 * libzmq itself but carry what a remote peer presented (its public key,
 * address), so each is checked before use and answered 400 when odd.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/zap.h"
#include "common/curve.h"
#include "common/log.h"
#include "common/wire.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_KEYS_MAX 100000	/* enrolled keys per role */

static const char *const domain_names[ZAP__COUNT] = { "front", "back", "approvals", "alerts" };

struct zap {
	zcert_t *cert;			/* the broker's key pair */
	zhashx_t *keys[ZAP__COUNT];	/* Z85 public key -> User-Id (owned strings) */
	zhashx_t *owned[3];		/* the three role sets (alerts shares approvers') */
	char *dirs[3];			/* where they came from: clients, workers, approvers */
	pthread_mutex_t mu;		/* keys[] and owned[] against zap_reload */
	zactor_t *handler;
	bool handler_bound;		/* set by the handler before it signals */
};

/* Loads every NAME.pub in `dir` into a fresh set: public key -> User-Id (the tenant
 * for clients, the key's name otherwise).  NULL with `why` on a bad file. */
static zhashx_t *
load_keys(const char *dir, bool clients, char *why, size_t whysz)
{
	zhashx_t *set = zhashx_new();
	struct dirent *de;
	DIR *d;

	if (set == NULL) {
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	zhashx_set_destructor(set, (zhashx_destructor_fn *)zstr_free);
	if (dir == NULL)
		return set;
	if ((d = opendir(dir)) == NULL) {
		snprintf(why, whysz, "cannot read key directory %s: %s", dir, strerror(errno));
		zhashx_destroy(&set);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char path[4096];
		const char *uid;
		zcert_t *cert;

		if (n < 5 || strcmp(de->d_name + n - 4, ".pub") != 0 || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((cert = curve_cert_load(path, false, why, whysz)) == NULL)
			goto fail;
		uid = zcert_meta(cert, clients ? "tenant" : "name");
		if (!clients && (uid == NULL || !curve_is_name(uid)))
			uid = NULL;
		if (clients && (uid == NULL || !curve_is_name(uid))) {
			snprintf(why, whysz, "%s: a client key needs metadata tenant = NAME "
			    "(1-64 of [A-Za-z0-9._-]; sluice keygen --tenant NAME)", path);
			zcert_destroy(&cert);
			goto fail;
		}
		char base[256];
		snprintf(base, sizeof(base), "%.*s", (int)(n - 4), de->d_name);
		if (zhashx_size(set) >= ZAP_KEYS_MAX) {
			snprintf(why, whysz, "%s: more than %d keys", dir, ZAP_KEYS_MAX);
			zcert_destroy(&cert);
			goto fail;
		}
		char *v = strdup(uid ? uid : base);
		if (v == NULL) {
			snprintf(why, whysz, "out of memory");
			zcert_destroy(&cert);
			goto fail;
		}
		if (zhashx_insert(set, zcert_public_txt(cert), v) != 0) {
			log_warnx("%s: the same public key is enrolled twice; the first file wins", path);
			free(v);
		}
		zcert_destroy(&cert);
	}
	closedir(d);
	return set;
fail:
	closedir(d);
	zhashx_destroy(&set);
	return NULL;
}

/* Answers one ZAP request.  An admitted connection carries its Z85 public
 * key as metadata (WIRE_KEY_PROPERTY, a ZMTP property: name length, name,
 * 4-byte big-endian value length, value), so the broker can tell later
 * whether that exact key is still enrolled. */
static void
zap_reply(zsock_t *rep, zframe_t *reqid, const char *code, const char *text, const char *user,
    const char *z85)
{
	zmsg_t *m = zmsg_new();
	unsigned char meta[1 + sizeof(WIRE_KEY_PROPERTY) - 1 + 4 + 40];
	size_t nlen = sizeof(WIRE_KEY_PROPERTY) - 1, mlen = 0;

	if (m == NULL)
		return;
	if (z85 != NULL && strlen(z85) == 40) {
		meta[0] = (unsigned char)nlen;
		memcpy(meta + 1, WIRE_KEY_PROPERTY, nlen);
		memcpy(meta + 1 + nlen, "\0\0\0\x28", 4);	/* 40 */
		memcpy(meta + 1 + nlen + 4, z85, 40);
		mlen = sizeof(meta);
	}
	zmsg_addstr(m, "1.0");
	zmsg_append(m, &reqid);
	zmsg_addstr(m, code);
	zmsg_addstr(m, text);
	zmsg_addstr(m, user);
	zmsg_addmem(m, meta, mlen);
	zmsg_send(&m, rep);
}

/* One request: version, request id, domain, address, routing id, mechanism,
 * credentials (the client's 32-byte public key for CURVE). */
static void
zap_answer(struct zap *z, zsock_t *rep, struct log_limit lim[ZAP__COUNT + 1])
{
	zmsg_t *req = zmsg_recv(rep);
	char *version, *domain, *address, *mechanism;
	zframe_t *reqid, *routing, *key;
	char z85[41] = "", addr[64], uid[256];
	const char *user = NULL;
	int d;

	if (req == NULL)
		return;
	if (zmsg_size(req) < 6) {
		/* A REP must answer every request; this one cannot be parsed. */
		zmsg_destroy(&req);
		zap_reply(rep, zframe_new("", 0), "500", "malformed ZAP request", "", NULL);
		return;
	}
	version = zmsg_popstr(req);
	reqid = zmsg_pop(req);
	domain = zmsg_popstr(req);
	address = zmsg_popstr(req);
	routing = zmsg_pop(req);
	mechanism = zmsg_popstr(req);
	key = zmsg_pop(req);
	log_escape(addr, sizeof(addr), address ? address : "", address ? strlen(address) : 0);
	for (d = 0; d < ZAP__COUNT && domain; d++)
		if (strcmp(domain, domain_names[d]) == 0)
			break;
	if (version && strcmp(version, "1.0") == 0 && mechanism && strcmp(mechanism, "CURVE") == 0 &&
	    key != NULL && zframe_size(key) == 32 && domain != NULL && d < ZAP__COUNT) {
		zmq_z85_encode(z85, zframe_data(key), 32);
		pthread_mutex_lock(&z->mu);
		if ((user = zhashx_lookup(z->keys[d], z85)) != NULL) {
			snprintf(uid, sizeof(uid), "%s", user);
			user = uid;
		}
		pthread_mutex_unlock(&z->mu);
	}
	if (user != NULL) {
		zap_reply(rep, reqid, "200", "OK", user, z85);
	} else {
		/* one rate limit per domain: a worker retrying with an unknown
		 * key must not hide a refused approver or client */
		log_limited(&lim[domain && d < ZAP__COUNT ? d : ZAP__COUNT], 10,
		    "refused a %s connection from %s: key %s is not enrolled for %s",
		    mechanism && strcmp(mechanism, "CURVE") == 0 ? "CURVE" : "non-CURVE", addr,
		    z85[0] ? z85 : "(none)", domain && d < ZAP__COUNT ? domain_names[d] : "(unknown domain)");
		zap_reply(rep, reqid, "400", "key not enrolled", "", NULL);
	}
	zstr_free(&version);
	zstr_free(&domain);
	zstr_free(&address);
	zstr_free(&mechanism);
	zframe_destroy(&routing);
	zframe_destroy(&key);
	zmsg_destroy(&req);
}

static void
zap_actor(zsock_t *pipe, void *arg)
{
	struct zap *z = arg;
	struct log_limit lim[ZAP__COUNT + 1] = { { 0, 0 } };
	zsock_t *rep = zsock_new(ZMQ_REP);
	zpoller_t *poller = NULL;

	if (rep == NULL || zsock_bind(rep, ZAP_ENDPOINT) != 0 ||
	    (poller = zpoller_new(pipe, rep, NULL)) == NULL) {
		zsock_signal(pipe, 1);
		goto out;
	}
	z->handler_bound = true;
	zsock_signal(pipe, 0);
	for (;;) {
		void *which = zpoller_wait(poller, -1);
		if (which == rep) {
			zap_answer(z, rep, lim);
			continue;
		}
		if (which == pipe) {
			char *cmd = zstr_recv(pipe);
			bool term = cmd == NULL || strcmp(cmd, "$TERM") == 0;
			zstr_free(&cmd);
			if (term)
				break;
			continue;
		}
		if (zpoller_terminated(poller))
			break;
	}
out:
	zpoller_destroy(&poller);
	zsock_destroy(&rep);
}

struct zap *
zap_new(const struct zap_conf *c, char *why, size_t whysz)
{
	struct zap *z = calloc(1, sizeof(*z));
	const char *dirs[3] = { c->clients, c->workers, c->approvers };
	static const char *const roles[3] = { "client", "worker", "approver" };

	if (z == NULL) {
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&z->mu, NULL);
	for (int i = 0; i < 3; i++) {
		if (dirs[i] != NULL && (z->dirs[i] = strdup(dirs[i])) == NULL) {
			snprintf(why, whysz, "out of memory");
			goto fail;
		}
	}
	if ((z->cert = curve_cert_load(c->secret, true, why, whysz)) == NULL)
		goto fail;
	for (int i = 0; i < 3; i++) {
		if ((z->owned[i] = load_keys(dirs[i], i == 0, why, whysz)) == NULL)
			goto fail;
		if (zhashx_size(z->owned[i]) == 0)
			log_warnx("CURVE: no %s keys enrolled%s%s: no %s can connect", roles[i],
			    dirs[i] ? " in " : " (no directory given)", dirs[i] ? dirs[i] : "", roles[i]);
	}
	z->keys[ZAP_FRONT] = z->owned[0];
	z->keys[ZAP_BACK] = z->owned[1];
	z->keys[ZAP_APPROVALS] = z->owned[2];
	z->keys[ZAP_ALERTS] = z->owned[2];
	/* zactor_new returns once the handler has signalled; it could not bind
	 * when another handler exists in this process. */
	if ((z->handler = zactor_new(zap_actor, z)) == NULL || !z->handler_bound) {
		snprintf(why, whysz, "cannot start the ZAP handler (%s taken?)", ZAP_ENDPOINT);
		goto fail;
	}
	log_info("CURVE on: %zu client, %zu worker, %zu approver keys enrolled; broker key %s",
	    zhashx_size(z->owned[0]), zhashx_size(z->owned[1]), zhashx_size(z->owned[2]),
	    zcert_public_txt(z->cert));
	return z;
fail:
	zap_destroy(&z);
	return NULL;
}

void
zap_destroy(struct zap **zp)
{
	struct zap *z;

	if (zp == NULL || (z = *zp) == NULL)
		return;
	zactor_destroy(&z->handler);
	for (int i = 0; i < 3; i++) {
		zhashx_destroy(&z->owned[i]);
		free(z->dirs[i]);
	}
	zcert_destroy(&z->cert);
	pthread_mutex_destroy(&z->mu);
	free(z);
	*zp = NULL;
}

/* Keys of `a` not in `b`. */
static size_t
keys_missing(zhashx_t *a, zhashx_t *b)
{
	size_t n = 0;

	for (void *v = zhashx_first(a); v != NULL; v = zhashx_next(a))
		n += zhashx_lookup(b, zhashx_cursor(a)) == NULL;
	return n;
}

enum err
zap_reload(struct zap *z, char *why, size_t whysz)
{
	static const char *const roles[3] = { "client", "worker", "approver" };
	zhashx_t *fresh[3] = { NULL, NULL, NULL }, *old[3];
	size_t added[3], removed[3];

	for (int i = 0; i < 3; i++) {
		if ((fresh[i] = load_keys(z->dirs[i], i == 0, why, whysz)) == NULL) {
			for (int k = 0; k < i; k++)
				zhashx_destroy(&fresh[k]);
			return ERR_INVAL;	/* the sets in use stay */
		}
	}
	/* Under mu: counting walks the sets in use, whose lookups the
	 * handler thread makes meanwhile (a czmq lookup moves the cursor and
	 * may rehash). */
	pthread_mutex_lock(&z->mu);
	for (int i = 0; i < 3; i++) {
		added[i] = keys_missing(fresh[i], z->owned[i]);
		removed[i] = keys_missing(z->owned[i], fresh[i]);
		old[i] = z->owned[i];
		z->owned[i] = fresh[i];
	}
	z->keys[ZAP_FRONT] = z->owned[0];
	z->keys[ZAP_BACK] = z->owned[1];
	z->keys[ZAP_APPROVALS] = z->owned[2];
	z->keys[ZAP_ALERTS] = z->owned[2];
	pthread_mutex_unlock(&z->mu);
	for (int i = 0; i < 3; i++) {
		zhashx_destroy(&old[i]);
		log_info("CURVE keys reloaded: %zu %s keys (%zu new, %zu removed)",
		    zhashx_size(z->owned[i]), roles[i], added[i], removed[i]);
		if (removed[i] > 0)
			log_warnx("CURVE: %zu %s key(s) removed: refused from now on, also on the "
			    "connections they already made%s", removed[i], roles[i],
			    i == 1 ? " (workers connected with them are dropped)" :
			    i == 2 ? " (alerts subscribers stay until they reconnect)" : "");
	}
	return ERR_OK;
}

bool
zap_key_enrolled(struct zap *z, enum zap_domain d, const char *z85)
{
	bool found;

	pthread_mutex_lock(&z->mu);
	found = z85 != NULL && zhashx_lookup(z->keys[d], z85) != NULL;
	pthread_mutex_unlock(&z->mu);
	return found;
}

void
zap_apply(const struct zap *z, zsock_t *s, enum zap_domain d)
{
	zcert_apply(z->cert, s);
	zsock_set_curve_server(s, 1);
	zsock_set_zap_domain(s, domain_names[d]);
}

size_t
zap_enrolled(const struct zap *z, enum zap_domain d)
{
	return zhashx_size(z->keys[d]);
}
