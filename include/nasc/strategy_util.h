/* nasc/strategy_util.h: header-only helpers shared by the strategy plugins.
 *
 * Every plugin is its own shared object built from its own folder, so the
 * code they share lives here as static inline functions (prefix nasc_su_)
 * rather than in a library: a normal deviate over the PRNG of nasc/rng.h, validated option parsing with
 * uniform error messages, and the operations on decisions that every
 * method needs (uniform sampling, one-decision mutation, normalising a
 * candidate through the host, comparing points on their active decisions).
 * Nothing here keeps global state, so plugins stay deterministic.
 */
#ifndef NASC_STRATEGY_UTIL_H
#define NASC_STRATEGY_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nasc/rng.h"
#include "nasc/strategy.h"

/* ------------------------------------------------------------------ */
/* PRNG: nasc_rng (nasc/rng.h); a normal deviate on top of it.         */
/* ------------------------------------------------------------------ */

/* Standard normal (Box-Muller; one value per call keeps the state simple). */
static inline double nasc_su_normal(nasc_rng *r) {
    double u1 = nasc_rng_uniform(r), u2 = nasc_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

static inline int nasc_su_fail(char *err, size_t errcap, const char *fmt, ...) {
    if (err && errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errcap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Options: each plugin lists nasc_option_doc {key, default, help} and  */
/* a parallel rule table; defaults are parsed by the same rules so a    */
/* bad default cannot slip through.                                     */
/* ------------------------------------------------------------------ */

/* TEXT: any non-empty text (read it with nasc_su_option_text); its parsed value is 0. */
typedef enum { NASC_SU_OPT_INT, NASC_SU_OPT_REAL, NASC_SU_OPT_CHOICE, NASC_SU_OPT_TEXT } nasc_su_optkind;

typedef struct nasc_su_optrule {
    nasc_su_optkind kind;
    double lo, hi; /* inclusive unless *_open; +-1e9 and beyond go unmentioned */
    int lo_open, hi_open;
    const char *choices; /* CHOICE: "sh|hyperband" */
} nasc_su_optrule;

/* Describes the accepted range as "an integer >= 2", "a number in (0, 1)". */
static inline void nasc_su_rule_text(const nasc_su_optrule *r, char *buf, size_t cap) {
    if (r->kind == NASC_SU_OPT_CHOICE || r->kind == NASC_SU_OPT_TEXT) {
        snprintf(buf, cap, r->kind == NASC_SU_OPT_TEXT ? "a name" : "one of %s", r->choices);
        return;
    }
    const char *what = r->kind == NASC_SU_OPT_INT ? "an integer" : "a number";
    /* bounds of 1e9 and beyond only guard conversions: not worth saying */
    int has_lo = r->lo > -1e9, has_hi = r->hi < 1e9;
    if (has_lo && has_hi)
        snprintf(buf, cap, "%s in %c%g, %g%c", what, r->lo_open ? '(' : '[', r->lo, r->hi,
                 r->hi_open ? ')' : ']');
    else if (has_lo)
        snprintf(buf, cap, "%s %s %g", what, r->lo_open ? ">" : ">=", r->lo);
    else if (has_hi)
        snprintf(buf, cap, "%s %s %g", what, r->hi_open ? "<" : "<=", r->hi);
    else
        snprintf(buf, cap, "%s", what);
}

/* Strips one pair of double quotes, as option values keep them as written. */
static inline void nasc_su_unquote(const char *s, char *buf, size_t cap) {
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s++;
        n -= 2;
    }
    if (n >= cap) n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

/* Parses one value by its rule into *out (CHOICE: the alternative's index).
 * Returns 0, or -1 when the text does not fit the rule. */
static inline int nasc_su_parse_value(const nasc_su_optrule *r, const char *text, double *out) {
    char buf[128];
    nasc_su_unquote(text ? text : "", buf, sizeof buf);
    if (r->kind == NASC_SU_OPT_CHOICE) {
        const char *c = r->choices;
        size_t len = strlen(buf);
        for (int idx = 0; *c; idx++) {
            const char *bar = strchr(c, '|');
            size_t clen = bar ? (size_t)(bar - c) : strlen(c);
            if (clen == len && len > 0 && strncmp(c, buf, len) == 0) {
                *out = idx;
                return 0;
            }
            if (!bar) break;
            c = bar + 1;
        }
        return -1;
    }
    if (r->kind == NASC_SU_OPT_TEXT) {
        *out = 0;
        return buf[0] && strlen(text ? text : "") < sizeof buf - 2 ? 0 : -1;
    }
    if (!buf[0]) return -1;
    char *end;
    double v = strtod(buf, &end);
    if (*end != '\0' || !isfinite(v)) return -1;
    if (r->kind == NASC_SU_OPT_INT && (v != floor(v) || fabs(v) > 1e15)) return -1;
    if (v < r->lo || (r->lo_open && v == r->lo) || v > r->hi || (r->hi_open && v == r->hi)) return -1;
    *out = v;
    return 0;
}

/* Fills out[i] for every documented option: its default, overridden by
 * opts.  An unknown key, a key given twice or a bad value is an error
 * naming the plugin, the option and the accepted values. */
static inline int nasc_su_parse_options(const char *plugin, const nasc_option_doc *docs,
                                        const nasc_su_optrule *rules, int n_docs, const nasc_option *opts,
                                        int n_opts, double *out, char *err, size_t errcap) {
    char want[160];
    for (int i = 0; i < n_docs; i++) {
        if (nasc_su_parse_value(&rules[i], docs[i].default_value, &out[i]) != 0)
            return nasc_su_fail(err, errcap, "%s: bad built-in default for option '%s'", plugin, docs[i].key);
    }
    if (n_opts > 0 && !opts) return nasc_su_fail(err, errcap, "%s: options missing", plugin);
    for (int j = 0; j < n_opts; j++) {
        const char *key = opts[j].key ? opts[j].key : "";
        int found = -1;
        for (int i = 0; i < n_docs; i++)
            if (strcmp(key, docs[i].key) == 0) found = i;
        if (found < 0) {
            char list[512] = "";
            size_t used = 0;
            for (int i = 0; i < n_docs && used < sizeof list; i++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", docs[i].key);
            if (n_docs == 0)
                return nasc_su_fail(err, errcap, "%s: unknown option '%s' (%s takes no options)", plugin, key,
                                    plugin);
            return nasc_su_fail(err, errcap, "%s: unknown option '%s'; valid options: %s", plugin, key, list);
        }
        for (int k = 0; k < j; k++)
            if (opts[k].key && strcmp(opts[k].key, key) == 0)
                return nasc_su_fail(err, errcap, "%s: option '%s' given twice", plugin, key);
        if (nasc_su_parse_value(&rules[found], opts[j].value, &out[found]) != 0) {
            char num[128], *end;
            nasc_su_unquote(opts[j].value ? opts[j].value : "", num, sizeof num);
            double v = strtod(num, &end);
            if (rules[found].kind != NASC_SU_OPT_CHOICE && num[0] && *end == '\0' && isfinite(v) &&
                v > rules[found].hi && rules[found].hi >= 1e9)
                return nasc_su_fail(err, errcap, "%s: option '%s' must be at most %g, got '%s'", plugin, key,
                                    rules[found].hi, opts[j].value);
            nasc_su_rule_text(&rules[found], want, sizeof want);
            return nasc_su_fail(err, errcap, "%s: option '%s' must be %s, got '%s'", plugin, key, want,
                                opts[j].value ? opts[j].value : "");
        }
    }
    return 0;
}

/* 1 when opts set `key`. */
static inline int nasc_su_option_given(const nasc_option *opts, int n_opts, const char *key) {
    for (int j = 0; opts && j < n_opts; j++)
        if (opts[j].key && !strcmp(opts[j].key, key)) return 1;
    return 0;
}

/* The text of option `key` (unquoted): as opts give it, else its default. */
static inline void nasc_su_option_text(const nasc_option_doc *docs, int n_docs, const nasc_option *opts,
                                       int n_opts, const char *key, char *buf, size_t cap) {
    const char *v = "";
    for (int i = 0; i < n_docs; i++)
        if (!strcmp(docs[i].key, key)) v = docs[i].default_value;
    for (int j = 0; opts && j < n_opts; j++)
        if (opts[j].key && !strcmp(opts[j].key, key) && opts[j].value) v = opts[j].value;
    nasc_su_unquote(v, buf, cap);
}

/* ------------------------------------------------------------------ */
/* Spaces and decisions                                                */
/* ------------------------------------------------------------------ */

/* Checks what every plugin relies on: somewhere to put the state,
 * decision tables present, domains non-empty, SUBSET within 64
 * alternatives, a normalize service. */
static inline int nasc_su_check_space(const char *plugin, const nasc_space *sp, void **state, char *err,
                                      size_t errcap) {
    if (!state) return nasc_su_fail(err, errcap, "%s: no place for the state given", plugin);
    if (!sp) return nasc_su_fail(err, errcap, "%s: no space given", plugin);
    if (sp->n_decisions < 0 || (sp->n_decisions > 0 && !sp->decisions))
        return nasc_su_fail(err, errcap, "%s: the space has a malformed decision table", plugin);
    if (!sp->normalize) return nasc_su_fail(err, errcap, "%s: the host gives no normalize service", plugin);
    for (int i = 0; i < sp->n_decisions; i++) {
        const nasc_decision *d = &sp->decisions[i];
        const char *l = d->label ? d->label : "?";
        switch (d->kind) {
        case NASC_DEC_CATEGORICAL:
            if (d->n_choices < 1)
                return nasc_su_fail(err, errcap, "%s: decision '%s' has no alternatives", plugin, l);
            break;
        case NASC_DEC_INT:
            int64_t span;
            if (d->step < 1 || d->hi < d->lo || __builtin_sub_overflow(d->hi, d->lo, &span))
                return nasc_su_fail(err, errcap, "%s: decision '%s' has an empty integer range", plugin, l);
            break;
        case NASC_DEC_FLOAT:
            if (!(d->flo <= d->fhi) || !isfinite(d->flo) || !isfinite(d->fhi) || (d->log && d->flo <= 0))
                return nasc_su_fail(err, errcap, "%s: decision '%s' has a bad real range", plugin, l);
            break;
        case NASC_DEC_SUBSET:
            if (d->n_choices < 1 || d->n_choices > 64 || d->k < 0 || d->k > d->n_choices)
                return nasc_su_fail(err, errcap, "%s: decision '%s' has a bad subset domain", plugin, l);
            break;
        default:
            return nasc_su_fail(err, errcap, "%s: decision '%s' has an unknown kind %d", plugin, l,
                                (int)d->kind);
        }
    }
    return 0;
}

/* n choose k, saturating at UINT64_MAX. */
static inline uint64_t nasc_su_binom(int n, int k) {
    if (k < 0 || k > n) return 0;
    if (k > n - k) k = n - k;
    uint64_t c = 1;
    for (int i = 1; i <= k; i++) {
        uint64_t num = (uint64_t)(n - k + i);
        if (c > UINT64_MAX / num) return UINT64_MAX;
        c = c * num / (uint64_t)i;
    }
    return c;
}

/* Number of values of a discrete decision (0 for FLOAT: infinitely many). */
static inline uint64_t nasc_su_domain_size(const nasc_decision *d) {
    switch (d->kind) {
    case NASC_DEC_CATEGORICAL: return (uint64_t)d->n_choices;
    case NASC_DEC_INT: return (uint64_t)((d->hi - d->lo) / d->step) + 1;
    case NASC_DEC_SUBSET: return nasc_su_binom(d->n_choices, d->k);
    default: return 0;
    }
}

/* The idx-th k-subset of n in lexicographic order of sorted indices. */
static inline uint64_t nasc_su_subset_unrank(int n, int k, uint64_t idx) {
    uint64_t bits = 0;
    int next = 0;
    for (int left = k; left > 0; left--) {
        for (int x = next; x < n; x++) {
            uint64_t c = nasc_su_binom(n - x - 1, left - 1);
            if (idx < c) {
                bits |= 1ull << x;
                next = x + 1;
                break;
            }
            idx -= c;
        }
    }
    return bits;
}

/* The idx-th value of a discrete decision (idx < domain size). */
static inline nasc_value nasc_su_value_at(const nasc_decision *d, uint64_t idx) {
    nasc_value v;
    v.i = 0;
    switch (d->kind) {
    case NASC_DEC_CATEGORICAL: v.i = (int64_t)idx; break;
    case NASC_DEC_INT: v.i = d->lo + (int64_t)idx * d->step; break;
    case NASC_DEC_SUBSET: v.subset = nasc_su_subset_unrank(d->n_choices, d->k, idx); break;
    default: v.f = d->flo; break;
    }
    return v;
}

/* Maps a real in [0, 1] to a FLOAT decision's value (log scale when log). */
static inline double nasc_su_float_from_unit(const nasc_decision *d, double u) {
    if (u < 0) u = 0;
    if (u > 1) u = 1;
    double v = d->log ? exp(log(d->flo) + u * (log(d->fhi) - log(d->flo))) : d->flo + u * (d->fhi - d->flo);
    return v < d->flo ? d->flo : v > d->fhi ? d->fhi : v;
}

/* Inverse of nasc_su_float_from_unit. */
static inline double nasc_su_float_to_unit(const nasc_decision *d, double v) {
    if (d->fhi <= d->flo) return 0.5;
    double u =
        d->log ? (log(v) - log(d->flo)) / (log(d->fhi) - log(d->flo)) : (v - d->flo) / (d->fhi - d->flo);
    return u < 0 ? 0 : u > 1 ? 1 : u;
}

/* A uniformly random k-subset of n as a bit set (partial Fisher-Yates). */
static inline uint64_t nasc_su_random_subset(nasc_rng *r, int n, int k) {
    int idx[64];
    for (int i = 0; i < n; i++) idx[i] = i;
    uint64_t bits = 0;
    for (int i = 0; i < k; i++) {
        int j = i + (int)nasc_rng_below(r, (uint64_t)(n - i));
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        bits |= 1ull << idx[i];
    }
    return bits;
}

/* A value drawn uniformly from the decision's domain (log-uniform for log FLOAT). */
static inline nasc_value nasc_su_sample_value(nasc_rng *r, const nasc_decision *d) {
    nasc_value v;
    if (d->kind == NASC_DEC_FLOAT) {
        v.f = nasc_su_float_from_unit(d, nasc_rng_uniform(r));
        return v;
    }
    if (d->kind == NASC_DEC_SUBSET) {
        v.subset = nasc_su_random_subset(r, d->n_choices, d->k);
        return v;
    }
    return nasc_su_value_at(d, nasc_rng_below(r, nasc_su_domain_size(d)));
}

/* The value a plugin stores for an inactive decision, so that two points
 * that differ only in inactive decisions are bitwise equal. */
static inline nasc_value nasc_su_canonical_value(const nasc_decision *d) {
    if (d->kind == NASC_DEC_FLOAT) {
        nasc_value v;
        v.f = d->flo;
        return v;
    }
    return nasc_su_value_at(d, 0);
}

static inline int nasc_su_same_value(const nasc_decision *d, nasc_value a, nasc_value b) {
    if (d->kind == NASC_DEC_FLOAT) return a.f == b.f;
    if (d->kind == NASC_DEC_SUBSET) return a.subset == b.subset;
    return a.i == b.i;
}

/* Number of distinct values the decision can take, capped (FLOAT: many). */
static inline int nasc_su_mutable(const nasc_decision *d) {
    if (d->kind == NASC_DEC_FLOAT) return d->fhi > d->flo;
    if (d->kind == NASC_DEC_SUBSET) return d->k > 0 && d->k < d->n_choices;
    return nasc_su_domain_size(d) > 1;
}

/* ------------------------------------------------------------------ */
/* Points: plugins keep n values + n activity flags per point.          */
/* ------------------------------------------------------------------ */

/* Asks the host which decisions are active in (vals) and whether the point
 * is feasible; writes the flags into act and canonical values into the
 * inactive slots.  Returns the host's answer: 1 feasible, 0 infeasible,
 * -1 out of domain. */
static inline int nasc_su_normalize(const nasc_space *sp, nasc_value *vals, unsigned char *act) {
    nasc_point p;
    memset(&p, 0, sizeof p);
    p.abi_version = NASC_STRATEGY_ABI_VERSION;
    p.struct_size = sizeof p;
    p.n = sp->n_decisions;
    p.values = vals;
    p.active = act;
    for (int i = 0; i < sp->n_decisions; i++) act[i] = 1;
    int rc = sp->normalize(sp->host, &p);
    for (int i = 0; i < sp->n_decisions; i++)
        if (!act[i]) vals[i] = nasc_su_canonical_value(&sp->decisions[i]);
    return rc;
}

/* Draws every decision uniformly (the host's normalize then decides which
 * are active), retrying infeasible draws up to max_tries times.  Returns 1
 * for a feasible point, 0 when every try was infeasible (the last one is
 * left in vals), -1 when the host rejects the values. */
static inline int nasc_su_random_point(const nasc_space *sp, nasc_rng *r, nasc_value *vals,
                                       unsigned char *act, int max_tries) {
    int rc = 0;
    for (int t = 0; t < (max_tries < 1 ? 1 : max_tries); t++) {
        for (int i = 0; i < sp->n_decisions; i++) vals[i] = nasc_su_sample_value(r, &sp->decisions[i]);
        rc = nasc_su_normalize(sp, vals, act);
        if (rc != 0) return rc;
    }
    return rc;
}

/* Gives every currently inactive decision a fresh random value, so that a
 * decision a change activates starts from a uniform draw, not from its
 * canonical placeholder. */
static inline void nasc_su_resample_inactive(const nasc_space *sp, nasc_rng *r, nasc_value *vals,
                                             const unsigned char *act) {
    for (int i = 0; i < sp->n_decisions; i++)
        if (!act[i]) vals[i] = nasc_su_sample_value(r, &sp->decisions[i]);
}

/* Changes decision i to a different value: another alternative, another
 * integer, a Gaussian step of sigma (in unit, log-aware coordinates) for
 * reals, one element swapped for subsets. */
static inline void nasc_su_change_value(nasc_rng *r, const nasc_decision *d, nasc_value *v, double sigma) {
    switch (d->kind) {
    case NASC_DEC_CATEGORICAL:
    case NASC_DEC_INT: {
        uint64_t n = nasc_su_domain_size(d);
        uint64_t cur = d->kind == NASC_DEC_INT ? (uint64_t)((v->i - d->lo) / d->step) : (uint64_t)v->i;
        if (n < 2) return;
        uint64_t nx = nasc_rng_below(r, n - 1);
        if (nx >= cur) nx++;
        *v = nasc_su_value_at(d, nx);
        break;
    }
    case NASC_DEC_FLOAT: {
        double u = nasc_su_float_to_unit(d, v->f);
        double old = v->f;
        for (int t = 0; t < 16 && v->f == old; t++) {
            double nu = u + sigma * nasc_su_normal(r);
            if (nu < 0) nu = -nu;
            if (nu > 1) nu = 2 - nu;
            v->f = nasc_su_float_from_unit(d, nu);
        }
        break;
    }
    case NASC_DEC_SUBSET: {
        uint64_t all = d->n_choices == 64 ? UINT64_MAX : ((1ull << d->n_choices) - 1);
        uint64_t in = v->subset & all, out = all & ~in;
        int nin = __builtin_popcountll(in), nout = __builtin_popcountll(out);
        if (nin == 0 || nout == 0) return;
        int a = (int)nasc_rng_below(r, (uint64_t)nin), b = (int)nasc_rng_below(r, (uint64_t)nout);
        uint64_t x = in, y = out;
        while (a--) x &= x - 1;
        while (b--) y &= y - 1;
        v->subset = (in & ~(x & -x)) | (y & -y);
        break;
    }
    }
}

/* Mutates ONE active, mutable decision of (vals, act) in place, resamples
 * the inactive ones and renormalises.  Returns the host's answer (1
 * feasible), or -2 when no active decision can change. */
static inline int nasc_su_mutate_one(const nasc_space *sp, nasc_rng *r, nasc_value *vals, unsigned char *act,
                                     double sigma) {
    int cand = 0;
    for (int i = 0; i < sp->n_decisions; i++) cand += act[i] && nasc_su_mutable(&sp->decisions[i]);
    if (cand == 0) return -2;
    int pick = (int)nasc_rng_below(r, (uint64_t)cand);
    for (int i = 0; i < sp->n_decisions; i++) {
        if (!(act[i] && nasc_su_mutable(&sp->decisions[i]))) continue;
        if (pick-- == 0) {
            nasc_su_change_value(r, &sp->decisions[i], &vals[i], sigma);
            break;
        }
    }
    nasc_su_resample_inactive(sp, r, vals, act);
    return nasc_su_normalize(sp, vals, act);
}

/* 1 when two normalised points have the same active decisions and values. */
static inline int nasc_su_same_point(const nasc_space *sp, const nasc_value *a, const unsigned char *aa,
                                     const nasc_value *b, const unsigned char *ba) {
    for (int i = 0; i < sp->n_decisions; i++) {
        if (aa[i] != ba[i]) return 0;
        if (aa[i] && !nasc_su_same_value(&sp->decisions[i], a[i], b[i])) return 0;
    }
    return 1;
}

/* A 64-bit hash of a point's activity and active values (for sets of points). */
static inline uint64_t nasc_su_point_hash(const nasc_space *sp, const nasc_value *v,
                                          const unsigned char *act) {
    uint64_t h = 0x243f6a8885a308d3ull;
    for (int i = 0; i < sp->n_decisions; i++) {
        uint64_t x = act[i] ? 0x9e37u + v[i].subset : 0x51u;
        if (act[i] && sp->decisions[i].kind == NASC_DEC_FLOAT) {
            double f = v[i].f;
            memcpy(&x, &f, sizeof x);
        } else if (act[i] && sp->decisions[i].kind != NASC_DEC_SUBSET) {
            x = 0x9e37u + (uint64_t)v[i].i;
        }
        h ^= x + (uint64_t)i;
        h = nasc_rng_splitmix64(&h);
    }
    return h;
}

/* The scalar a single-objective strategy maximises: the first (signed,
 * larger-is-better) objective, or -inf for failed, infeasible or
 * malformed results, which every strategy treats as the worst. */
static inline double nasc_su_score(const nasc_result *r) {
    if (!r || r->status != NASC_RESULT_OK || r->n_objectives < 1 || !r->objectives ||
        !isfinite(r->objectives[0]))
        return -HUGE_VAL;
    return r->objectives[0];
}

/* Copies a point's values and activity out of a host point (tell); unknown
 * shapes (n mismatch) return -1 so a plugin can ignore them. */
static inline int nasc_su_copy_in(const nasc_space *sp, const nasc_point *p, nasc_value *vals,
                                  unsigned char *act) {
    if (!p || p->n != sp->n_decisions || (p->n > 0 && (!p->values || !p->active))) return -1;
    for (int i = 0; i < p->n; i++) {
        act[i] = p->active[i] ? 1 : 0;
        vals[i] = act[i] ? p->values[i] : nasc_su_canonical_value(&sp->decisions[i]);
    }
    return 0;
}

/* Writes a stored point into the host's point (ask). */
static inline int nasc_su_copy_out(const nasc_space *sp, nasc_point *p, const nasc_value *vals, char *err,
                                   size_t errcap, const char *plugin) {
    if (!p || p->n != sp->n_decisions || (p->n > 0 && !p->values))
        return nasc_su_fail(err, errcap, "%s: the host's point has %d values, the space %d", plugin,
                            p ? p->n : -1, sp->n_decisions);
    for (int i = 0; i < p->n; i++) p->values[i] = vals[i];
    return 0;
}

/* Fills the common part of the table an entry point returns.  The host,
 * not the plugin, judges ABI compatibility (it reads abi_version), so the
 * table is always filled. */
static inline void nasc_su_entry_fill(nasc_strategy *out) {
    memset(out, 0, sizeof *out);
    out->abi_version = NASC_STRATEGY_ABI_VERSION;
    out->struct_size = sizeof *out;
}

/* ------------------------------------------------------------------ */
/* A growable store of points with one score each (histories,          */
/* populations).                                                       */
/* ------------------------------------------------------------------ */

typedef struct nasc_su_points {
    int n; /* decisions per point */
    size_t count, cap;
    nasc_value *vals;   /* count * n */
    unsigned char *act; /* count * n */
    double *score;      /* count */
} nasc_su_points;

static inline void nasc_su_points_init(nasc_su_points *ps, int n) {
    memset(ps, 0, sizeof *ps);
    ps->n = n;
}

static inline void nasc_su_points_free(nasc_su_points *ps) {
    free(ps->vals);
    free(ps->act);
    free(ps->score);
    memset(ps, 0, sizeof *ps);
}

static inline nasc_value *nasc_su_pv(const nasc_su_points *ps, size_t i) {
    return ps->vals + i * (size_t)ps->n;
}

static inline unsigned char *nasc_su_pa(const nasc_su_points *ps, size_t i) {
    return ps->act + i * (size_t)ps->n;
}

/* Appends a point; returns its index, or -1 when memory runs out. */
static inline long nasc_su_points_push(nasc_su_points *ps, const nasc_value *vals, const unsigned char *act,
                                       double score) {
    if (ps->count == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        size_t n = ps->n > 0 ? (size_t)ps->n : 1;
        nasc_value *v = realloc(ps->vals, cap * n * sizeof *v);
        if (!v) return -1;
        ps->vals = v;
        unsigned char *a = realloc(ps->act, cap * n);
        if (!a) return -1;
        ps->act = a;
        double *s = realloc(ps->score, cap * sizeof *s);
        if (!s) return -1;
        ps->score = s;
        ps->cap = cap;
    }
    size_t i = ps->count++;
    if (ps->n > 0) {
        memcpy(nasc_su_pv(ps, i), vals, (size_t)ps->n * sizeof *vals);
        memcpy(nasc_su_pa(ps, i), act, (size_t)ps->n);
    }
    ps->score[i] = score;
    return (long)i;
}

/* Removes point i, keeping the order of the others (oldest first). */
static inline void nasc_su_points_remove(nasc_su_points *ps, size_t i) {
    size_t n = (size_t)ps->n, tail = ps->count - i - 1;
    memmove(ps->vals + i * n, ps->vals + (i + 1) * n, tail * n * sizeof *ps->vals);
    memmove(ps->act + i * n, ps->act + (i + 1) * n, tail * n);
    memmove(ps->score + i, ps->score + i + 1, tail * sizeof *ps->score);
    ps->count--;
}

/* ------------------------------------------------------------------ */
/* Zero-cost warm start (docs/proxies.md): N random feasible points,    */
/* ranked by a training-free proxy the host computes at initialisation  */
/* (nasc_space.proxy_scores), handed out best first as a strategy's     */
/* opening points.  The sample comes from its own generator, seeded     */
/* from the search seed, and is drawn at the first ask (the host has    */
/* its store open by then and records the scores; a --resume replaying  */
/* that ask gets the same scores back from the record).                 */
/* ------------------------------------------------------------------ */

/* The two options, for a plugin's option table (docs) and rules. */
#define NASC_SU_WARM_PROXY "synflow" /* warm_proxy's default */
#define NASC_SU_WARM_DOCS                                                                                    \
    {"warm_start", "0",                                                                                      \
     "zero-cost warm start: rank this many random points by warm_proxy (computed by the host at "            \
     "initialisation, no training; recorded in the store, not trials) and start from the best; 0: off"},     \
    {                                                                                                        \
        "warm_proxy", NASC_SU_WARM_PROXY,                                                                    \
            "the warm start's training-free proxy (docs/proxies.md: synflow, snip, naswot, ..., or params, " \
            "flops); -NAME ranks the smallest first"                                                         \
    }
#define NASC_SU_WARM_RULES \
    {NASC_SU_OPT_INT, 0, 1e6, 0, 0, NULL}, { NASC_SU_OPT_TEXT, 0, 0, 0, 0, NULL }
#define NASC_SU_WARM_DRAWS 10 /* draws per wanted point before a small space counts as sampled */

typedef struct nasc_su_warm {
    int n;      /* points to rank (0: no warm start) */
    int negate; /* "-name": the smallest first */
    char proxy[64];
    uint64_t seed;
    int ranked;          /* drawn and ranked (at the first ask) */
    nasc_su_points best; /* the points with a score, best first (score: the proxy, signed) */
    size_t next;         /* the next to hand out */
} nasc_su_warm;

static inline void nasc_su_warm_free(nasc_su_warm *w) { nasc_su_points_free(&w->best); }

/* Reads the options (n: the parsed warm_start) and checks the proxy's name
 * with the host, so a typo fails at create.  0, or -1 with a message. */
static inline int nasc_su_warm_setup(const char *plugin, const nasc_space *sp, const nasc_option_doc *docs,
                                     int n_docs, const nasc_option *opts, int n_opts, double n, uint64_t seed,
                                     nasc_su_warm *w, char *err, size_t errcap) {
    memset(w, 0, sizeof *w);
    nasc_su_points_init(&w->best, sp->n_decisions);
    w->n = (int)n;
    w->seed = seed ^ 0x5741524d53544152ull; /* "WARMSTAR": apart from the strategy's own stream */
    char name[80];
    nasc_su_option_text(docs, n_docs, opts, n_opts, "warm_proxy", name, sizeof name);
    w->negate = name[0] == '-';
    snprintf(w->proxy, sizeof w->proxy, "%s", name + w->negate);
    if (w->n == 0) {
        /* a proxy named without warm_start would do nothing: say so (its default alone is harmless) */
        if (nasc_su_option_given(opts, n_opts, "warm_proxy") && strcmp(name, NASC_SU_WARM_PROXY))
            return nasc_su_fail(err, errcap,
                                "%s: option 'warm_proxy' needs warm_start=N (the points to rank)", plugin);
        return 0;
    }
    if (!NASC_SPACE_HAS(sp, proxy_scores))
        return nasc_su_fail(err, errcap,
                            "%s: warm_start needs a host that computes training-free proxies (this host's "
                            "space has no proxy_scores service)",
                            plugin);
    char e[400] = "";
    if (sp->proxy_scores(sp->host, w->proxy, NULL, 0, NULL, e, sizeof e) != 0)
        return nasc_su_fail(err, errcap, "%s: option 'warm_proxy': %s", plugin,
                            e[0] ? e : "refused by the host");
    return 0;
}

typedef struct nasc_su_warm_item {
    double score;
    size_t i;
} nasc_su_warm_item;

/* Best first; equal scores in sample order, so the ranking depends on the seed alone. */
static inline int nasc_su_warm_cmp(const void *a, const void *b) {
    const nasc_su_warm_item *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Draws up to n distinct feasible points (at most NASC_SU_WARM_DRAWS * n
 * draws: a small space gives fewer), has the host score them and keeps
 * those with a score, best first.  0, or -1 with a message. */
static inline int nasc_su_warm_rank(const char *plugin, const nasc_space *sp, nasc_su_warm *w, char *err,
                                    size_t errcap) {
    int nd = sp->n_decisions, rc = -1;
    size_t want = (size_t)w->n, tsize = 16, got = 0;
    while (tsize < 2 * want) tsize *= 2;
    nasc_su_points smp;
    nasc_su_points_init(&smp, nd);
    uint64_t *table = calloc(tsize, sizeof *table); /* hashes of the points drawn (0: empty) */
    nasc_value *v = calloc((size_t)nd + 1, sizeof *v);
    unsigned char *a = calloc((size_t)nd + 1, 1);
    nasc_point *pts = NULL;
    double *sc = NULL;
    nasc_su_warm_item *it = NULL;
    nasc_rng r;
    nasc_rng_seed(&r, w->seed);
    if (!table || !v || !a) goto oom;
    for (size_t t = 0; got < want && t < NASC_SU_WARM_DRAWS * want; t++) {
        int f = nasc_su_random_point(sp, &r, v, a, 64);
        if (f < 0) {
            nasc_su_fail(err, errcap, "%s: warm start: the host rejected a sampled point", plugin);
            goto out;
        }
        if (f == 0) continue;
        uint64_t h = nasc_su_point_hash(sp, v, a) | 1u, k = h & (tsize - 1);
        while (table[k] && table[k] != h) k = (k + 1) & (tsize - 1);
        if (table[k]) continue; /* drawn before */
        table[k] = h;
        if (nasc_su_points_push(&smp, v, a, 0) < 0) goto oom;
        got++;
    }
    pts = calloc(got + 1, sizeof *pts);
    sc = calloc(got + 1, sizeof *sc);
    it = calloc(got + 1, sizeof *it);
    if (!pts || !sc || !it) goto oom;
    for (size_t i = 0; i < got; i++) {
        pts[i].abi_version = NASC_STRATEGY_ABI_VERSION;
        pts[i].struct_size = sizeof pts[i];
        pts[i].n = nd;
        pts[i].values = nasc_su_pv(&smp, i);
        pts[i].active = nasc_su_pa(&smp, i);
    }
    char e[400] = "";
    if (got && sp->proxy_scores(sp->host, w->proxy, pts, (int)got, sc, e, sizeof e) != 0) {
        nasc_su_fail(err, errcap, "%s: warm start: %s", plugin,
                     e[0] ? e : "the host could not score the points");
        goto out;
    }
    size_t m = 0;
    for (size_t i = 0; i < got; i++)
        if (isfinite(sc[i])) it[m++] = (nasc_su_warm_item){w->negate ? -sc[i] : sc[i], i};
    if (m == 0) {
        nasc_su_fail(err, errcap, "%s: warm start: %s is undefined for all %zu sampled points", plugin,
                     w->proxy, got);
        goto out;
    }
    qsort(it, m, sizeof *it, nasc_su_warm_cmp);
    for (size_t k = 0; k < m; k++)
        if (nasc_su_points_push(&w->best, nasc_su_pv(&smp, it[k].i), nasc_su_pa(&smp, it[k].i), it[k].score) <
            0)
            goto oom;
    w->ranked = 1;
    rc = 0;
    goto out;
oom:
    nasc_su_fail(err, errcap, "%s: out of memory", plugin);
out:
    nasc_su_points_free(&smp);
    free(table);
    free(v);
    free(a);
    free(pts);
    free(sc);
    free(it);
    return rc;
}

/* The next point of the warm start into (vals, act): 1, 0 when there is no
 * warm start or every ranked point was handed out, -1 with a message. */
static inline int nasc_su_warm_next(const char *plugin, const nasc_space *sp, nasc_su_warm *w,
                                    nasc_value *vals, unsigned char *act, char *err, size_t errcap) {
    if (w->n <= 0) return 0;
    if (!w->ranked && nasc_su_warm_rank(plugin, sp, w, err, errcap)) return -1;
    if (w->next >= w->best.count) return 0;
    memcpy(vals, nasc_su_pv(&w->best, w->next), (size_t)sp->n_decisions * sizeof *vals);
    memcpy(act, nasc_su_pa(&w->best, w->next), (size_t)sp->n_decisions);
    w->next++;
    return 1;
}

#endif
