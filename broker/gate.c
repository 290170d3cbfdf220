/*
 * gate — risk verdict encoding and the alert PUB socket (see gate.h).
 * Runs in sluice-broker.  Publishes only what the broker built itself; the
 * text it carries (reasons, excerpts) never includes raw code.
 */
#include <czmq.h>
#include <msgpack.h>
#include <string.h>

#include "broker/gate.h"
#include "broker/zap.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/wire.h"

static void
pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

enum err
gate_verdict_pack(const struct risk_verdict *v, unsigned char **out, size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	pack_str(&pk, "score");
	msgpack_pack_double(&pk, v->score);
	pack_str(&pk, "level");
	pack_str(&pk, risk_level_name(v->level));
	pack_str(&pk, "total");
	msgpack_pack_uint64(&pk, v->total);
	pack_str(&pk, "findings");
	msgpack_pack_array(&pk, v->nfindings);
	for (size_t i = 0; i < v->nfindings; i++) {
		const struct risk_finding *f = &v->findings[i];
		msgpack_pack_map(&pk, 6);
		pack_str(&pk, "rule");
		pack_str(&pk, f->rule);
		pack_str(&pk, "category");
		pack_str(&pk, risk_category_name(f->category));
		pack_str(&pk, "weight");
		msgpack_pack_double(&pk, f->weight);
		pack_str(&pk, "line");
		msgpack_pack_uint32(&pk, f->line);
		pack_str(&pk, "col");
		msgpack_pack_uint32(&pk, f->col);
		pack_str(&pk, "excerpt");
		pack_str(&pk, f->excerpt);
	}
	if (sb.data == NULL) {
		msgpack_sbuffer_destroy(&sb);
		return ERR_NOMEM;
	}
	*out = (unsigned char *)sb.data;
	*len = sb.size;
	return ERR_OK;
}

struct alerts {
	zsock_t *pub;
	uint64_t seq;
};

struct alerts *
alerts_new(const char *ep, const struct zap *zap)
{
	struct alerts *a = calloc(1, sizeof(*a));

	if (a == NULL || (a->pub = zsock_new(ZMQ_PUB)) == NULL) {
		free(a);
		return NULL;
	}
	wire_tune(a->pub);
	if (zap != NULL)
		zap_apply(zap, a->pub, ZAP_ALERTS);
	if (zsock_bind(a->pub, "%s", ep) < 0) {
		log_warn("cannot bind alerts %s", ep);
		zsock_destroy(&a->pub);
		free(a);
		return NULL;
	}
	return a;
}

void
alerts_destroy(struct alerts **ap)
{
	if (ap == NULL || *ap == NULL)
		return;
	zsock_destroy(&(*ap)->pub);
	free(*ap);
	*ap = NULL;
}

void
alerts_publish(struct alerts *a, const char *topic, const char *id, const char *level,
    const char *reason, const char *session, const char *tenant, const char *host,
    const void *risk, size_t risklen)
{
	struct msg *m = msg_new(MSG_ALERT);
	unsigned char hdr[MSG_HEADER_LEN], *body;
	size_t blen;
	zmsg_t *zm;

	if (a == NULL || m == NULL) {
		msg_destroy(&m);
		return;
	}
	msg_set_u64(m, MSG_F_SEQ, ++a->seq);
	msg_set_str(m, MSG_F_TOPIC, topic);
	msg_set_u64(m, MSG_F_TIME_MS, (uint64_t)(util_wall_ns() / 1000000));
	if (id) msg_set_str(m, MSG_F_ID, id);
	if (level) msg_set_str(m, MSG_F_LEVEL, level);
	if (reason) msg_set_str(m, MSG_F_REASON, reason);
	if (session) msg_set_str(m, MSG_F_SESSION, session);
	if (tenant) msg_set_str(m, MSG_F_TENANT, tenant);
	if (host) msg_set_str(m, MSG_F_HOST, host);
	if (risk) msg_set_raw(m, MSG_F_RISK, risk, risklen);
	if (msg_encode(m, hdr, &body, &blen) == ERR_OK && (zm = zmsg_new()) != NULL) {
		zmsg_addstr(zm, topic);
		zmsg_addmem(zm, hdr, sizeof(hdr));
		zmsg_addmem(zm, body, blen);
		if (zmsg_send(&zm, a->pub) != 0)
			zmsg_destroy(&zm);
		free(body);
	}
	log_info("alert %llu %s%s%s", (unsigned long long)a->seq, topic, id ? " job " : "", id ? id : "");
	msg_destroy(&m);
}
