/*
 * zgarbage — sends hostile and malformed multipart messages to a sluice
 * endpoint from a DEALER socket, to prove the daemon survives them.
 *
 *   zgarbage EP [ROUNDS]
 *
 * Each round sends: empty frames, one frame, four frames, a bad magic, a bad
 * version, an unknown command, a body that is not msgpack, truncated maps,
 * maps claiming 2^32-1 entries, strings claiming 4 GiB, wrong field types,
 * unknown keys, trailing bytes, deep nesting, random bytes.  Prints how many
 * replies came back (a daemon that answers is a daemon that lives).
 */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
send2(zsock_t *s, const void *h, size_t hl, const void *b, size_t bl)
{
	zmsg_t *m = zmsg_new();
	zmsg_addmem(m, h, hl);
	zmsg_addmem(m, b, bl);
	zmsg_send(&m, s);
}

int
main(int argc, char **argv)
{
	static const unsigned char ok[4] = { 'S', 'L', 1, 0x01 };
	static const unsigned char badver[4] = { 'S', 'L', 99, 0x01 };
	static const unsigned char badcmd[4] = { 'S', 'L', 1, 0x7f };
	static const unsigned char bigmap[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
	static const unsigned char bigstr[] = { 0x81, 0xa3, 'r', 'e', 'q', 0xdb, 0xff, 0xff, 0xff, 0xff, 'x' };
	static const unsigned char trunc[] = { 0x82, 0xa3, 'r', 'e', 'q' };
	static const unsigned char wrongtype[] = { 0x82, 0xa3, 'r', 'e', 'q', 0x05, 0xa4, 'c', 'o', 'd', 'e', 0xc3 };
	static const unsigned char unknown[] = { 0x81, 0xa3, 'z', 'z', 'z', 0x01 };
	static const unsigned char trailing[] = { 0x80, 0x00, 0x00 };
	unsigned char rnd[512], deep[200];
	int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 20, replies = 0;
	zsock_t *s;

	if (argc < 2) {
		fprintf(stderr, "usage: zgarbage EP [ROUNDS]\n");
		return 2;
	}
	zsys_handler_set(NULL);
	if ((s = zsock_new_dealer(argv[1])) == NULL)
		return 1;
	zsock_set_sndtimeo(s, 1000);
	memset(deep, 0x91, sizeof(deep));
	srand(42);
	for (int r = 0; r < rounds; r++) {
		zmsg_t *m = zmsg_new();
		zmsg_addmem(m, "", 0);
		zmsg_send(&m, s);
		m = zmsg_new();
		zmsg_addstr(m, "one frame");
		zmsg_send(&m, s);
		m = zmsg_new();
		for (int k = 0; k < 4; k++)
			zmsg_addstr(m, "four");
		zmsg_send(&m, s);
		send2(s, "XX\x01\x01", 4, "\x80", 1);
		send2(s, badver, 4, "\x80", 1);
		send2(s, badcmd, 4, "\x80", 1);
		send2(s, ok, 4, "not msgpack at all", 18);
		send2(s, ok, 4, bigmap, sizeof(bigmap));
		send2(s, ok, 4, bigstr, sizeof(bigstr));
		send2(s, ok, 4, trunc, sizeof(trunc));
		send2(s, ok, 4, wrongtype, sizeof(wrongtype));
		send2(s, ok, 4, unknown, sizeof(unknown));
		send2(s, ok, 4, trailing, sizeof(trailing));
		send2(s, ok, 4, deep, sizeof(deep));
		send2(s, ok, 3, "\x80", 1);
		for (size_t k = 0; k < sizeof(rnd); k++)
			rnd[k] = (unsigned char)rand();
		send2(s, rnd, 4, rnd + 4, (size_t)(rand() % 500));
		rnd[0] = 'S';
		rnd[1] = 'L';
		rnd[2] = 1;
		send2(s, rnd, 4, rnd + 4, (size_t)(rand() % 64));
	}
	zsock_set_rcvtimeo(s, 500);
	for (zmsg_t *m; (m = zmsg_recv(s)) != NULL; zmsg_destroy(&m))
		replies++;
	printf("%d replies\n", replies);
	zsock_destroy(&s);
	return 0;
}
