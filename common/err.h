/* err.h: the one way code below the tools reports a failure: a message
 * into the caller's buffer (err, cap; either may be NULL/0), and -1 for the
 * caller to return.  Deep code never prints; the tool renders the text. */
#ifndef NASC_COMMON_ERR_H
#define NASC_COMMON_ERR_H

#include <stdarg.h>
#include <stddef.h>

int err_set(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int err_vset(char *err, size_t cap, const char *fmt, va_list ap);

#endif
