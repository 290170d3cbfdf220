/* Unit tests for common/endpoint: which endpoints the front binary connects
 * to itself, and the default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/endpoint.h"

static void
test_parse_local(void **state)
{
	struct endpoint_addr a;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a.sa;
	struct sockaddr_un *un = (struct sockaddr_un *)&a.sa;

	(void)state;
	assert_true(endpoint_parse_local("tcp://127.0.0.1:5555", &a));
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 5555);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000001);
	assert_true(endpoint_parse_local("tcp://127.9.8.7:1", &a));
	assert_true(endpoint_parse_local("tcp://localhost:65535", &a));
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x7f000001);
	assert_true(endpoint_parse_local("tcp://[::1]:5555", &a));
	assert_int_equal(a.sa.ss_family, AF_INET6);
	assert_true(endpoint_parse_local("ipc:///tmp/x/front", &a));
	assert_int_equal(un->sun_family, AF_UNIX);
	assert_string_equal(un->sun_path, "/tmp/x/front");
	assert_true(endpoint_parse_local("ipc://@abstract", &a));
	assert_int_equal(un->sun_path[0], '\0');
	assert_int_equal(a.len, offsetof(struct sockaddr_un, sun_path) + 9);

	/* Left to ZeroMQ (sluice-cli). */
	static const char *const other[] = {
		"tcp://10.0.0.1:5555", "tcp://128.0.0.1:5555", "tcp://example.com:5555",
		"tcp://127.0.0.1", "tcp://127.0.0.1:", "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536",
		"tcp://127.0.0.1:55a", "tcp://127.0.0.1:+55", "tcp://127.1:5555", "tcp://0x7f.0.0.1:1",
		"tcp://127.0.0.1:*", "tcp://*:5555", "tcp://eth0;127.0.0.1:5555", "tcp://[::2]:5555",
		"tcp://:5555", "ipc://", "ipc://*", "inproc://x", "udp://127.0.0.1:5555", "",
		"TCP://127.0.0.1:5555", "tcp://127.0.0.1:555555",
	};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (endpoint_parse_local(other[i], &a))
			fail_msg("accepted %s", other[i]);
	char longp[200] = "ipc://";
	memset(longp + 6, 'a', 150);
	assert_false(endpoint_parse_local(longp, &a));
}

static void
test_is_local_and_resolve(void **state)
{
	(void)state;
	assert_true(endpoint_is_local("ipc:///tmp/x"));
	assert_true(endpoint_is_local("tcp://127.0.0.1:1"));
	assert_true(endpoint_is_local("tcp://[::1]:1"));
	assert_false(endpoint_is_local("tcp://10.1.1.1:1"));
	unsetenv("SLUICE_BROKER");
	assert_string_equal(endpoint_resolve(NULL), ENDPOINT_DEFAULT);
	assert_string_equal(endpoint_resolve(""), ENDPOINT_DEFAULT);
	setenv("SLUICE_BROKER", "ipc:///tmp/y", 1);
	assert_string_equal(endpoint_resolve(NULL), "ipc:///tmp/y");
	assert_string_equal(endpoint_resolve("tcp://127.0.0.1:2"), "tcp://127.0.0.1:2");
	unsetenv("SLUICE_BROKER");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_local),
		cmocka_unit_test(test_is_local_and_resolve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
