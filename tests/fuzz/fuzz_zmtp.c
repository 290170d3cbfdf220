/*
 * libFuzzer target for client/zmtp (the front binary's ZMTP 3 client) and
 * the replies it hands to msg_decode: the input is everything the broker
 * side sends on the connection, read by the real code over a socketpair.
 *
 *   +----------------------+----------------------------------------------+
 *   | greeting (64 bytes)  | frames: commands (READY, ERROR, PING, ...)   |
 *   |                      | and messages (header frame, msgpack body)    |
 *   +----------------------+----------------------------------------------+
 *
 * The handshake runs first; when it succeeds, messages are received until
 * an error or the end of the input, and each two-frame message is decoded.
 * Any crash, leak, or read past a buffer is a finding; refusals are normal.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/zmtp.h"
#include "common/msg.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAME_MAX (1u << 20)	/* over -max_len, so oversized claims are tested too */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], big = 8 << 20;
	struct zmtp *z;
	struct zmtp_msg m = { 0 };
	char why[256];
	int64_t deadline;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 0;
	/* Our greeting, READY and PONGs pile up unread in the peer's buffer:
	 * room enough that a flood of PINGs never blocks the sender. */
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) != 0)
		(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (util_write_all(sv[1], data, size) != ERR_OK) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[1], SHUT_WR);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if ((z = zmtp_new(sv[0], FRAME_MAX)) == NULL) {
		close(sv[1]);
		return 0;
	}
	deadline = util_now_ms() + 2000;
	if (zmtp_handshake(z, deadline, why, sizeof(why)) == ERR_OK) {
		while (zmtp_recv(z, &m, deadline, why, sizeof(why)) == ERR_OK) {
			struct msg *reply = NULL;
			if (m.nframes == 2 &&
			    msg_decode(m.part[0], m.len[0], m.part[1], m.len[1], &reply, why,
			    sizeof(why)) == ERR_OK)
				msg_destroy(&reply);
			zmtp_msg_clear(&m);
		}
	}
	zmtp_msg_clear(&m);
	zmtp_destroy(&z);
	close(sv[1]);
	return 0;
}
