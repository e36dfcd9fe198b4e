/* suggest.c: the closest known name to a misspelt one (suggest.h).
 *
 * Optimal string alignment distance, so that the commonest typo, two
 * swapped letters (`trails`, `bacth`), costs 1 like a missing letter
 * (`objectve`).  The threshold grows with the word: one edit for words of
 * up to 4 bytes, two up to 8, three beyond; and never as many edits as
 * the longer word has letters, so `x` is not "close" to `y`.
 */
#include <string.h>
#include "suggest.h"

enum { FR_MAX = 60 };

int fr_distance(const char *a, const char *b) {
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > FR_MAX || lb > FR_MAX) return 99;
    int d[FR_MAX + 1][FR_MAX + 1];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int x = d[i - 1][j] + 1, y = d[i][j - 1] + 1, z = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int m = x < y ? (x < z ? x : z) : (y < z ? y : z);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < m)
                m = d[i - 2][j - 2] + 1;
            d[i][j] = m;
        }
    return d[la][lb];
}

bool fr_close(const char *word, const char *cand, int dist) {
    int lw = (int)strlen(word), lc = (int)strlen(cand);
    int lim = lw <= 4 ? 1 : lw <= 8 ? 2 : 3;
    return dist > 0 && dist <= lim && dist < (lw > lc ? lw : lc);
}

void fr_near_init(fr_near *n, const char *word) {
    n->word = word;
    n->best = NULL;
    n->dist = 99;
}

void fr_near_add(fr_near *n, const char *cand) {
    if (!cand) return;
    int d = fr_distance(n->word, cand);
    if (d < n->dist && fr_close(n->word, cand, d)) {
        n->dist = d;
        n->best = cand;
    }
}

const char *fr_suggest(const char *word, const char *const *known, int n) {
    fr_near nr;
    fr_near_init(&nr, word);
    for (int i = 0; n < 0 ? known[i] != NULL : i < n; i++) fr_near_add(&nr, known[i]);
    return nr.best;
}
