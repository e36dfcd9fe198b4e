/* rterr.c: rt_errf (rterr.h). */
#include <stdarg.h>
#include <stdio.h>
#include "rterr.h"

int rt_errf(char *err, size_t cap, const char *fmt, ...) {
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}
