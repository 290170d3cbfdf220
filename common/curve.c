/*
 * curve — CURVE key files and socket setup (see curve.h).
 *
 * Runs in every process that talks to the broker (broker, worker, approver,
 * CLI, sluice-mcp).  Trusts the key files the operator points it at; checks
 * their shape (Z85 length, secret present when needed) before use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/curve.h"
#include "common/endpoint.h"
#include "common/log.h"

struct curve_client {
	zcert_t *cert;			/* our key pair */
	char broker_public[41];		/* Z85 */
};

struct curve_watch {
	zsock_t *pair;			/* receives the monitored socket's events */
	char last[160];			/* the last failure explained */
	bool failed;
};

bool
curve_is_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n <= 64 && s[0] != '.' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

bool
curve_endpoint_is_local(const char *ep)
{
	return endpoint_is_local(ep);
}

const char *
curve_opt(const char *flag, const char *env)
{
	const char *v = getenv(env);
	if (flag != NULL && *flag != '\0')
		return flag;
	return v != NULL && *v != '\0' ? v : NULL;
}

/* Saves one file of the pair with the given mode, refusing to replace one. */
static enum err
save_file(zcert_t *cert, const char *path, bool secret, char *why, size_t whysz)
{
	mode_t old;
	int rc;

	if (access(path, F_OK) == 0) {
		snprintf(why, whysz, "%s exists already (remove it first to replace the key)", path);
		return ERR_DUPLICATE;
	}
	/* The secret is never readable by others, not even for a moment. */
	old = umask(secret ? 077 : 022);
	rc = secret ? zcert_save_secret(cert, path) : zcert_save_public(cert, path);
	umask(old);
	if (rc != 0 || chmod(path, secret ? 0600 : 0644) != 0) {
		snprintf(why, whysz, "cannot write %s: %s", path, strerror(errno));
		return ERR_IO;
	}
	return ERR_OK;
}

enum err
curve_keygen(const char *dir, const char *name, const char *tenant, char *why, size_t whysz)
{
	char pub[4096], key[4096];
	zcert_t *cert;
	enum err e;

	if (!curve_is_name(name)) {
		snprintf(why, whysz, "key name must be 1-64 of [A-Za-z0-9._-], not starting with '.'");
		return ERR_INVAL;
	}
	if (tenant != NULL && !curve_is_name(tenant)) {
		snprintf(why, whysz, "tenant must be 1-64 of [A-Za-z0-9._-], not starting with '.'");
		return ERR_INVAL;
	}
	if ((size_t)snprintf(pub, sizeof(pub), "%s/%s.pub", dir, name) >= sizeof(pub) ||
	    (size_t)snprintf(key, sizeof(key), "%s/%s.key", dir, name) >= sizeof(key)) {
		snprintf(why, whysz, "directory name too long");
		return ERR_INVAL;
	}
	if (access(pub, F_OK) == 0 || access(key, F_OK) == 0) {
		snprintf(why, whysz, "%s.pub or %s.key exists already in %s", name, name, dir);
		return ERR_DUPLICATE;
	}
	if ((cert = zcert_new()) == NULL) {
		snprintf(why, whysz, "cannot create a key pair");
		return ERR_CRYPTO;
	}
	zcert_set_meta(cert, "name", "%s", name);
	if (tenant != NULL)
		zcert_set_meta(cert, "tenant", "%s", tenant);
	if ((e = save_file(cert, key, true, why, whysz)) == ERR_OK &&
	    (e = save_file(cert, pub, false, why, whysz)) != ERR_OK)
		unlink(key);
	zcert_destroy(&cert);	/* czmq wipes the secret key */
	return e;
}

zcert_t *
curve_cert_load(const char *path, bool need_secret, char *why, size_t whysz)
{
	static const unsigned char zero[32];
	struct stat st;
	zcert_t *cert;

	if (stat(path, &st) != 0) {
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "%s: not a regular file", path);
		return NULL;
	}
	if ((cert = zcert_load(path)) == NULL) {
		snprintf(why, whysz, "%s: not a CURVE key file (sluice keygen makes them)", path);
		return NULL;
	}
	if (need_secret && memcmp(zcert_secret_key(cert), zero, sizeof(zero)) == 0) {
		snprintf(why, whysz, "%s holds no secret key (use NAME.key, not NAME.pub)", path);
		zcert_destroy(&cert);
		return NULL;
	}
	if (need_secret && (st.st_mode & 077) != 0)
		log_warnx("WARNING: secret key file %s is readable by others (chmod 600 it)", path);
	return cert;
}

bool
curve_client_load(const char *key_file, const char *broker_key_file, struct curve_client **out,
    char *why, size_t whysz)
{
	struct curve_client *cc;
	zcert_t *broker;

	*out = NULL;
	if (key_file == NULL && broker_key_file == NULL)
		return true;
	if (key_file == NULL || broker_key_file == NULL) {
		snprintf(why, whysz, "CURVE needs both our key (--curve-key / " CURVE_ENV_KEY
		    ") and the broker's public key (--broker-key / " CURVE_ENV_BROKER_KEY ")");
		return false;
	}
	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		snprintf(why, whysz, "out of memory");
		return false;
	}
	if ((cc->cert = curve_cert_load(key_file, true, why, whysz)) == NULL ||
	    (broker = curve_cert_load(broker_key_file, false, why, whysz)) == NULL) {
		curve_client_destroy(&cc);
		return false;
	}
	snprintf(cc->broker_public, sizeof(cc->broker_public), "%s", zcert_public_txt(broker));
	zcert_destroy(&broker);
	*out = cc;
	return true;
}

bool
curve_client_load_flags(const char *key_flag, const char *broker_key_flag, struct curve_client **out)
{
	char why[512];

	if (curve_client_load(curve_opt(key_flag, CURVE_ENV_KEY),
	    curve_opt(broker_key_flag, CURVE_ENV_BROKER_KEY), out, why, sizeof(why)))
		return true;
	log_error("%s", why);
	return false;
}

void
curve_client_destroy(struct curve_client **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	zcert_destroy(&(*cp)->cert);
	free(*cp);
	*cp = NULL;
}

void
curve_client_apply(const struct curve_client *cc, zsock_t *s, const char *ep, const char *who)
{
	if (cc != NULL) {
		zcert_apply(cc->cert, s);
		zsock_set_curve_serverkey(s, cc->broker_public);
		return;
	}
	if (!curve_endpoint_is_local(ep))
		log_warnx("WARNING: %s connects to %s in PLAINTEXT: anyone on the path can read and "
		    "forge jobs and results; use --curve-key and --broker-key", who, ep);
}

bool
curve_client_setup_env(zsock_t *s, const char *ep, const char *who, char *why, size_t whysz)
{
	struct curve_client *cc;

	if (!curve_client_load(curve_opt(NULL, CURVE_ENV_KEY), curve_opt(NULL, CURVE_ENV_BROKER_KEY),
	    &cc, why, whysz))
		return false;
	curve_client_apply(cc, s, ep, who);
	curve_client_destroy(&cc);
	return true;
}

struct curve_watch *
curve_watch_new(zsock_t *s)
{
	struct curve_watch *w = calloc(1, sizeof(*w));
	char ep[64];

	if (w == NULL)
		return NULL;
	snprintf(ep, sizeof(ep), "inproc://sluice-curve-watch-%p", (void *)w);
	if (zmq_socket_monitor(zsock_resolve(s), ep, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
	    (w->pair = zsock_new(ZMQ_PAIR)) == NULL || zsock_connect(w->pair, "%s", ep) != 0) {
		zsock_destroy(&w->pair);
		free(w);
		return NULL;
	}
	return w;
}

void
curve_watch_destroy(struct curve_watch **wp)
{
	if (wp == NULL || *wp == NULL)
		return;
	zsock_destroy(&(*wp)->pair);
	free(*wp);
	*wp = NULL;
}

bool
curve_watch_failed(struct curve_watch *w, char *why, size_t whysz)
{
	if (w == NULL)
		return false;
	while (zsock_events(w->pair) & ZMQ_POLLIN) {
		zmsg_t *ev = zmsg_recv(w->pair);
		zframe_t *f = ev ? zmsg_first(ev) : NULL;
		uint16_t event;
		uint32_t value;

		if (f == NULL || zframe_size(f) != 6) {
			zmsg_destroy(&ev);
			continue;
		}
		memcpy(&event, zframe_data(f), 2);
		memcpy(&value, zframe_data(f) + 2, 4);
		if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
			snprintf(w->last, sizeof(w->last), "the broker refused our CURVE key "
			    "(ZAP status %u: is it enrolled in the broker's key directory?)", value);
		else
			snprintf(w->last, sizeof(w->last), "the security handshake with the broker "
			    "failed (%s: does the broker use CURVE, and is --broker-key its key?)",
			    event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "protocol error" : "no detail");
		w->failed = true;
		zmsg_destroy(&ev);
	}
	if (w->failed)
		snprintf(why, whysz, "%s", w->last);
	return w->failed;
}
