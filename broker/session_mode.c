/*
 * session_mode — the broker's per-session privacy mode (see session_mode.h).
 * Runs in the broker's one thread; tenant and session names come from a
 * client and were bounded by the decoder (64 and 128 bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "broker/session_mode.h"
#include "common/err.h"

struct pinned {
	enum privacy_mode mode;
	int64_t used_ms;
};

struct session_mode {
	unsigned allowed;
	enum privacy_mode deflt;
	size_t max;
	int64_t ttl_ms;
	zhashx_t *pins;		/* "tenant\x1fsession" -> struct pinned (owned) */
};

static void
pinned_free(void **p)
{
	free(*p);
	*p = NULL;
}

struct session_mode *
session_mode_new(unsigned allowed, enum privacy_mode deflt, size_t max, int64_t ttl_ms)
{
	struct session_mode *sm;

	if ((allowed & PRIVACY_MODE_BIT(deflt)) == 0 || (unsigned)deflt > PRIVACY_MODE_REPORT ||
	    max == 0 || ttl_ms <= 0)
		return NULL;
	if ((sm = calloc(1, sizeof(*sm))) == NULL)
		return NULL;
	if ((sm->pins = zhashx_new()) == NULL) {
		free(sm);
		return NULL;
	}
	zhashx_set_destructor(sm->pins, pinned_free);
	sm->allowed = allowed;
	sm->deflt = deflt;
	sm->max = max;
	sm->ttl_ms = ttl_ms;
	return sm;
}

void
session_mode_destroy(struct session_mode **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	zhashx_destroy(&(*sp)->pins);
	free(*sp);
	*sp = NULL;
}

/* Writes the map key of (tenant, session); tenants never hold 0x1f. */
static void
pin_key(char *key, size_t keysz, const char *tenant, const char *session)
{
	snprintf(key, keysz, "%s\x1f%s", tenant != NULL ? tenant : "", session);
}

static struct pinned *
lookup(struct session_mode *sm, const char *key, int64_t now_ms)
{
	struct pinned *p = zhashx_lookup(sm->pins, key);

	if (p != NULL && now_ms - p->used_ms > sm->ttl_ms) {
		zhashx_delete(sm->pins, key);
		return NULL;
	}
	return p;
}

int
session_mode_resolve(struct session_mode *sm, const char *tenant, const char *session,
    const char *asked, int64_t now_ms, enum privacy_mode *out, char *why, size_t whysz)
{
	char key[256];
	struct pinned *p = NULL;
	enum privacy_mode mode;

	if (session != NULL && *session != '\0') {
		pin_key(key, sizeof(key), tenant, session);
		p = lookup(sm, key, now_ms);
	}
	if (asked == NULL || *asked == '\0') {
		*out = p != NULL ? p->mode : sm->deflt;
		return ERR_OK;
	}
	if (!privacy_mode_parse(asked, &mode)) {
		snprintf(why, whysz, "privacy_mode must be redact, tokenize, hash or report");
		return ERR_INVAL;
	}
	if ((sm->allowed & PRIVACY_MODE_BIT(mode)) == 0) {
		snprintf(why, whysz, "privacy_mode %s is not allowed by this deployment",
		    privacy_mode_name(mode));
		return ERR_DENIED;
	}
	if (p != NULL && p->mode != mode) {
		snprintf(why, whysz, "session already uses privacy_mode %s; %s is refused "
		    "(a session keeps the mode of its first job)", privacy_mode_name(p->mode),
		    privacy_mode_name(mode));
		return ERR_DENIED;
	}
	*out = mode;
	return ERR_OK;
}

/* Drops every expired entry. */
static void
sweep(struct session_mode *sm, int64_t now_ms)
{
	zlistx_t *keys = zhashx_keys(sm->pins);

	if (keys == NULL)
		return;
	for (const char *k = zlistx_first(keys); k != NULL; k = zlistx_next(keys)) {
		struct pinned *p = zhashx_lookup(sm->pins, k);
		if (p != NULL && now_ms - p->used_ms > sm->ttl_ms)
			zhashx_delete(sm->pins, k);
	}
	zlistx_destroy(&keys);
}

int
session_mode_pin(struct session_mode *sm, const char *tenant, const char *session,
    enum privacy_mode mode, int64_t now_ms)
{
	char key[256];
	struct pinned *p;

	if (session == NULL || *session == '\0')
		return ERR_OK;
	pin_key(key, sizeof(key), tenant, session);
	if ((p = lookup(sm, key, now_ms)) != NULL) {
		p->used_ms = now_ms;	/* resolve() already checked the mode */
		return ERR_OK;
	}
	if (zhashx_size(sm->pins) >= sm->max) {
		sweep(sm, now_ms);
		if (zhashx_size(sm->pins) >= sm->max)
			return ERR_BUSY;
	}
	if ((p = malloc(sizeof(*p))) == NULL)
		return ERR_NOMEM;
	p->mode = mode;
	p->used_ms = now_ms;
	if (zhashx_insert(sm->pins, key, p) != 0) {
		free(p);
		return ERR_NOMEM;
	}
	return ERR_OK;
}

size_t
session_mode_count(const struct session_mode *sm)
{
	return zhashx_size(sm->pins);
}
