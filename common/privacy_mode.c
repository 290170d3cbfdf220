/*
 * privacy_mode — mode names (privacy_mode.h).  Used by every process that
 * reads a mode from a flag, a config or a message; input is any string.
 */
#include <stddef.h>
#include <string.h>

#include "common/privacy_mode.h"

static const char *const mode_names[] = { "redact", "tokenize", "hash", "report" };

bool
privacy_mode_parse(const char *s, enum privacy_mode *out)
{
	if (s == NULL)
		return false;
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum privacy_mode)i;
			return true;
		}
	}
	return false;
}

bool
privacy_mode_list_parse(const char *s, unsigned *out)
{
	unsigned set = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
		size_t i;
		for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
			if (strlen(mode_names[i]) == n && strncmp(s, mode_names[i], n) == 0)
				break;
		if (i == sizeof(mode_names) / sizeof(mode_names[0]))
			return false;
		set |= PRIVACY_MODE_BIT(i);
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	*out = set;
	return true;
}

const char *
privacy_mode_name(enum privacy_mode mode)
{
	if ((unsigned)mode >= sizeof(mode_names) / sizeof(mode_names[0]))
		return "unknown";
	return mode_names[mode];
}
