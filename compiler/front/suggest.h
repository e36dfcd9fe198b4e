/* suggest.h: "did you mean" — the closest known name to a misspelt one.
 *
 * One helper for every layer that rejects an unknown word (names in a
 * space, section keys, metric names, decision labels, and the CLI's
 * commands and options), so that all of them agree on what is "close".
 */
#ifndef NASC_SUGGEST_H
#define NASC_SUGGEST_H

#include <stdbool.h>

/* Edit distance (optimal string alignment: insert, delete, substitute, or
 * swap two neighbours, each 1); 99 when either name is over 60 bytes. */
int fr_distance(const char *a, const char *b);

/* Whether `cand` is close enough to `word` to be suggested for it. */
bool fr_close(const char *word, const char *cand, int dist);

/* A running search for the closest candidate, for callers whose
 * candidates are not in one array (scopes, tables of structs). */
typedef struct fr_near {
    const char *word;
    const char *best; /* NULL until a close candidate was seen */
    int dist;
} fr_near;
void fr_near_init(fr_near *n, const char *word);
void fr_near_add(fr_near *n, const char *cand);

/* The closest of known[0..n) to word (n < 0: known is NULL-terminated),
 * or NULL when none is close; an exact match is never "suggested". */
const char *fr_suggest(const char *word, const char *const *known, int n);

#endif
