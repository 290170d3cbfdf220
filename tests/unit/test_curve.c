/* Unit tests for common/curve and broker/zap with real sockets: key files
 * (modes, refusals), endpoint locality, client key loading, and the ZAP
 * handler admitting an enrolled key (User-Id = its tenant) and refusing an
 * unenrolled one (the client's watch explains it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/zap.h"
#include "common/curve.h"
#include "common/wire.h"

static char dir[] = "/tmp/sluice-test-curve.XXXXXX";

static void
path(char *out, size_t sz, const char *sub, const char *file)
{
	snprintf(out, sz, "%s/%s/%s", dir, sub, file);
}

static int
setup(void **state)
{
	char p[512], q[512];
	static const char *const subs[] = { "keys", "clients", "workers", "approvers", "bad" };
	char why[256];
	(void)state;

	if (mkdtemp(dir) == NULL)
		return -1;
	for (size_t i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, subs[i]);
		mkdir(p, 0700);
	}
	snprintf(p, sizeof(p), "%s/keys", dir);
	if (curve_keygen(p, "broker", NULL, why, sizeof(why)) != ERR_OK ||
	    curve_keygen(p, "alice", "acme", why, sizeof(why)) != ERR_OK ||
	    curve_keygen(p, "mallory", "acme", why, sizeof(why)) != ERR_OK ||
	    curve_keygen(p, "notenant", NULL, why, sizeof(why)) != ERR_OK)
		return -1;
	path(p, sizeof(p), "keys", "alice.pub");
	path(q, sizeof(q), "clients", "alice.pub");
	if (link(p, q) != 0)
		return -1;
	path(p, sizeof(p), "keys", "notenant.pub");
	path(q, sizeof(q), "bad", "notenant.pub");
	return link(p, q);
}

static int
teardown(void **state)
{
	zdir_t *d = zdir_new(dir, NULL);
	(void)state;
	if (d != NULL)
		zdir_remove(d, true);
	zdir_destroy(&d);
	return 0;
}

static void
test_keygen_files(void **state)
{
	char p[512], k[600], why[256];
	struct stat st;
	zcert_t *c;
	(void)state;

	path(p, sizeof(p), "keys", "alice.key");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(c = curve_cert_load(p, true, why, sizeof(why)));
	assert_string_equal(zcert_meta(c, "tenant"), "acme");
	zcert_destroy(&c);
	/* The public file has no secret: refused where a secret is needed. */
	path(p, sizeof(p), "keys", "alice.pub");
	assert_null(curve_cert_load(p, true, why, sizeof(why)));
	assert_non_null(strstr(why, "no secret key"));
	assert_non_null(c = curve_cert_load(p, false, why, sizeof(why)));
	zcert_destroy(&c);
	/* No overwriting, no bad names, no missing files. */
	snprintf(k, sizeof(k), "%s/keys", dir);
	assert_int_equal(curve_keygen(k, "alice", NULL, why, sizeof(why)), ERR_DUPLICATE);
	assert_int_equal(curve_keygen(k, "../x", NULL, why, sizeof(why)), ERR_INVAL);
	assert_int_equal(curve_keygen(k, ".hidden", NULL, why, sizeof(why)), ERR_INVAL);
	assert_int_equal(curve_keygen(k, "ok", "bad tenant", why, sizeof(why)), ERR_INVAL);
	path(p, sizeof(p), "keys", "nobody.key");
	assert_null(curve_cert_load(p, true, why, sizeof(why)));
	/* A file that is not a certificate. */
	path(p, sizeof(p), "keys", "garbage.pub");
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("curve\n    public-key = \"short\"\n", f);
	fclose(f);
	assert_null(curve_cert_load(p, false, why, sizeof(why)));
	unlink(p);
}

static void
test_endpoint_locality(void **state)
{
	(void)state;
	assert_true(curve_endpoint_is_local("ipc:///tmp/x"));
	assert_true(curve_endpoint_is_local("inproc://x"));
	assert_true(curve_endpoint_is_local("tcp://127.0.0.1:5555"));
	assert_true(curve_endpoint_is_local("tcp://127.1.2.3:5555"));
	assert_true(curve_endpoint_is_local("tcp://localhost:5555"));
	assert_true(curve_endpoint_is_local("tcp://[::1]:5555"));
	assert_false(curve_endpoint_is_local("tcp://*:5555"));
	assert_false(curve_endpoint_is_local("tcp://0.0.0.0:5555"));
	assert_false(curve_endpoint_is_local("tcp://10.0.0.1:5555"));
	assert_false(curve_endpoint_is_local("tcp://localhost.evil.com:5555"));
	assert_false(curve_endpoint_is_local("tcp://eth0:5555"));
	assert_false(curve_endpoint_is_local("pgm://x"));
}

static void
test_client_load(void **state)
{
	char key[512], pub[512], why[256];
	struct curve_client *cc = (void *)1;
	(void)state;

	assert_true(curve_client_load(NULL, NULL, &cc, why, sizeof(why)));
	assert_null(cc);
	path(key, sizeof(key), "keys", "alice.key");
	path(pub, sizeof(pub), "keys", "broker.pub");
	assert_false(curve_client_load(key, NULL, &cc, why, sizeof(why)));
	assert_non_null(strstr(why, "--broker-key"));
	assert_false(curve_client_load(pub, pub, &cc, why, sizeof(why)));	/* our key must be secret */
	assert_true(curve_client_load(key, pub, &cc, why, sizeof(why)));
	assert_non_null(cc);
	curve_client_destroy(&cc);
	assert_null(cc);
	curve_client_destroy(&cc);
}

/* A DEALER client with `who`'s key to the server's endpoint. */
static zsock_t *
client_for(const char *who, const char *ep, struct curve_watch **w)
{
	char key[512], pub[512], name[64], why[256];
	struct curve_client *cc;
	zsock_t *s = zsock_new(ZMQ_DEALER);

	snprintf(name, sizeof(name), "%s.key", who);
	path(key, sizeof(key), "keys", name);
	path(pub, sizeof(pub), "keys", "broker.pub");
	assert_true(curve_client_load(key, pub, &cc, why, sizeof(why)));
	curve_client_apply(cc, s, ep, "test");
	curve_client_destroy(&cc);
	*w = curve_watch_new(s);
	assert_non_null(*w);
	zsock_set_linger(s, 0);
	assert_int_equal(zsock_connect(s, "%s", ep), 0);
	return s;
}

static void
test_zap_admits_enrolled_only(void **state)
{
	char secret[512], clients[512], workers[512], approvers[512], why[256], pub[512];
	char q_restore[512];
	struct wire_peer peer;
	struct zap_conf zc = { secret, clients, workers, approvers };
	struct curve_watch *wa, *wm;
	struct zap *z, *z2;
	zframe_t *rid = NULL;
	struct msg *m = NULL, *hb = msg_new(MSG_HEARTBEAT);
	(void)state;

	path(secret, sizeof(secret), "keys", "broker.key");
	snprintf(clients, sizeof(clients), "%s/clients", dir);
	snprintf(workers, sizeof(workers), "%s/workers", dir);
	snprintf(approvers, sizeof(approvers), "%s/approvers", dir);
	assert_non_null(z = zap_new(&zc, why, sizeof(why)));
	assert_int_equal(zap_enrolled(z, ZAP_FRONT), 1);
	assert_int_equal(zap_enrolled(z, ZAP_BACK), 0);
	/* One ZAP handler per process. */
	assert_null(z2 = zap_new(&zc, why, sizeof(why)));

	zsock_t *server = zsock_new(ZMQ_ROUTER);
	zap_apply(z, server, ZAP_FRONT);
	int port = zsock_bind(server, "tcp://127.0.0.1:*");
	assert_true(port > 0);
	char ep[64];
	snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", port);
	zsock_set_rcvtimeo(server, 3000);

	zsock_t *alice = client_for("alice", ep, &wa);
	assert_int_equal(wire_send(alice, NULL, hb), ERR_OK);
	assert_int_equal(wire_recv_peer(server, &rid, &m, &peer, why, sizeof(why)), ERR_OK);
	assert_string_equal(peer.user, "acme");	/* the tenant enrolled with the key */
	/* ... and the exact key the connection used, still enrolled */
	path(pub, sizeof(pub), "keys", "alice.pub");
	zcert_t *alice_cert = zcert_load(pub);
	assert_non_null(alice_cert);
	assert_string_equal(peer.key, zcert_public_txt(alice_cert));
	assert_true(zap_key_enrolled(z, ZAP_FRONT, peer.key));
	assert_false(zap_key_enrolled(z, ZAP_BACK, peer.key));	/* per role */
	assert_false(zap_key_enrolled(z, ZAP_FRONT, ""));
	msg_destroy(&m);
	zframe_destroy(&rid);
	assert_false(curve_watch_failed(wa, why, sizeof(why)));

	zsock_t *mallory = client_for("mallory", ep, &wm);
	zsock_set_sndtimeo(mallory, 0);
	wire_send(mallory, NULL, hb);	/* may not even queue */
	zsock_set_rcvtimeo(server, 700);
	assert_int_not_equal(wire_recv_peer(server, &rid, &m, &peer, why, sizeof(why)), ERR_OK);
	zframe_destroy(&rid);
	assert_true(curve_watch_failed(wm, why, sizeof(why)));
	assert_non_null(strstr(why, "refused our CURVE key"));

	/* Revocation: alice's file goes, a reload drops her key; her live
	 * connection still delivers, and the broker can tell the key is gone. */
	path(pub, sizeof(pub), "clients", "alice.pub");
	assert_int_equal(unlink(pub), 0);
	assert_int_equal(zap_reload(z, why, sizeof(why)), ERR_OK);
	assert_false(zap_key_enrolled(z, ZAP_FRONT, zcert_public_txt(alice_cert)));
	zsock_set_rcvtimeo(server, 3000);
	assert_int_equal(wire_send(alice, NULL, hb), ERR_OK);
	assert_int_equal(wire_recv_peer(server, &rid, &m, &peer, why, sizeof(why)), ERR_OK);
	assert_string_equal(peer.key, zcert_public_txt(alice_cert));
	assert_false(zap_key_enrolled(z, ZAP_FRONT, peer.key));
	msg_destroy(&m);
	zframe_destroy(&rid);
	path(q_restore, sizeof(q_restore), "keys", "alice.pub");
	assert_int_equal(link(q_restore, pub), 0);	/* for the other tests */
	zcert_destroy(&alice_cert);

	curve_watch_destroy(&wa);
	curve_watch_destroy(&wm);
	zsock_destroy(&alice);
	zsock_destroy(&mallory);
	zsock_destroy(&server);
	msg_destroy(&hb);
	zap_destroy(&z);
	assert_null(z);
	zap_destroy(&z);
}

static void
test_zap_refuses_bad_config(void **state)
{
	char secret[512], pub[512], bad[512], why[256];
	struct zap_conf zc = { secret, bad, NULL, NULL };
	(void)state;

	/* A client key without a tenant. */
	path(secret, sizeof(secret), "keys", "broker.key");
	snprintf(bad, sizeof(bad), "%s/bad", dir);
	assert_null(zap_new(&zc, why, sizeof(why)));
	assert_non_null(strstr(why, "tenant"));
	/* The broker's public file instead of its secret. */
	path(pub, sizeof(pub), "keys", "broker.pub");
	zc.secret = pub;
	zc.clients = NULL;
	assert_null(zap_new(&zc, why, sizeof(why)));
	/* A missing directory. */
	zc.secret = secret;
	zc.workers = "/nonexistent/sluice";
	assert_null(zap_new(&zc, why, sizeof(why)));
	assert_non_null(strstr(why, "/nonexistent/sluice"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen_files),
		cmocka_unit_test(test_endpoint_locality),
		cmocka_unit_test(test_client_load),
		cmocka_unit_test(test_zap_admits_enrolled_only),
		cmocka_unit_test(test_zap_refuses_bad_config),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
