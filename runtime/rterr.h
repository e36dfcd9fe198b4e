/* rterr.h: the one way runtime code reports an error: a message into the
 * caller's buffer, and -1 to return. */
#ifndef NASC_RT_ERR_H
#define NASC_RT_ERR_H

#include <stddef.h>

int rt_errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
