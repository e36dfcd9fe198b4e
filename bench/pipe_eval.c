/* pipe_eval.c: the trivial `pipe` evaluator of the overhead benchmark: one
 * JSON line in, one metrics line out, as fast as a process can answer.
 * The accuracy is a hash of the point, so strategies see a fixed landscape. */
#include <stdio.h>
#include <string.h>

int main(void) {
    char line[1 << 16];
    while (fgets(line, sizeof line, stdin)) {
        const char *d = strstr(line, "\"decisions\"");
        unsigned long long h = 1469598103934665603ull;
        for (const char *p = d ? d : line; *p && *p != '\n'; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        printf("{\"accuracy\": %.6f}\n", (double)(h % 1000000) / 1e6);
        fflush(stdout);
    }
    return 0;
}
