/* nasc.c: the command-line program (placeholder until the commands land). */
#include <stdio.h>
int main(void) {
    fputs("nasc: no commands yet\n", stderr);
    return 2;
}
