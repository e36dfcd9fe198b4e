/* hyperband.c: successive halving and Hyperband strategy plugin (nasc-hyperband.so).
 *
 * Li, Jamieson, DeSalvo, Rostamizadeh, Talwalkar 2018, "Hyperband: A Novel
 * Bandit-Based Approach to Hyperparameter Optimization".  Fidelity is the
 * space's training budget (epochs) between min_fidelity and max_fidelity;
 * R = max/min and s_max = floor(log_eta R).  Bracket s starts
 * n = ceil((s_max+1)/(s+1) * eta^s) random points at fidelity
 * min * R * eta^-s; each rung keeps the best floor(n_i / eta) and re-asks
 * the SAME points (values copied) at eta times the fidelity, so the host
 * can resume their training from saved weights, up to max_fidelity.
 * mode=hyperband cycles s = s_max .. 0; mode=sh repeats the most
 * aggressive bracket (plain successive halving).  Fidelities are rounded
 * to whole numbers when both ends of the range are whole (epochs).
 *
 * Several asks may be outstanding.  A rung waits for all its results
 * before promoting; while every open rung is waiting, the next bracket
 * starts (the ABI has no "wait" answer), so workers stay busy.  Failed and
 * infeasible trials are never promoted.  The tag is
 * bracket << 32 | rung << 24 | index, bracket ids following the host's
 * trial ids; a tell counts only when its tag and its values match what was
 * asked.  Tells of unknown brackets (a resumed search replays its trials)
 * are ignored: a resumed search starts new brackets rather than rebuilding
 * half-finished ones.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasc/strategy.h"
#include "nasc/strategy_util.h"

#define HB_TRIES 64

static const nasc_option_doc hb_docs[] = {
    {"eta", "3", "keep 1/eta of each rung and multiply the fidelity by eta (Li et al.: 3)"},
    {"mode", "hyperband",
     "hyperband: cycle all brackets; sh: successive halving, the most "
     "aggressive bracket only"},
};
static const nasc_su_optrule hb_rules[] = {
    {NASC_SU_OPT_INT, 2, 1000, 0, 0, NULL},
    {NASC_SU_OPT_CHOICE, 0, 0, 0, 0, "hyperband|sh"},
};
#define HB_NOPT (int)(sizeof hb_docs / sizeof hb_docs[0])

typedef struct hb_bracket {
    uint64_t id;
    int s, rung;
    double n0; /* configurations at rung 0 */
    size_t asked, told;
    nasc_su_points cfg; /* the current rung's points; score NAN until told */
} hb_bracket;

typedef struct hb_state {
    const nasc_space *sp;
    nasc_rng rng;
    int eta, sh, s_max, round_fid;
    double fmin, fmax;
    uint64_t next_id;
    int next_s;
    hb_bracket *br;
    size_t n_br, cap_br;
    nasc_value *cv;
    unsigned char *ca;
} hb_state;

static void hb_destroy(void *state) {
    hb_state *h = state;
    if (!h) return;
    for (size_t i = 0; i < h->n_br; i++) nasc_su_points_free(&h->br[i].cfg);
    free(h->br);
    free(h->cv);
    free(h->ca);
    free(h);
}

static int hb_create(const nasc_space *sp, const nasc_option *opts, int n_opts, uint64_t seed, void **state,
                     char *err, size_t errcap) {
    double o[HB_NOPT];
    if (nasc_su_check_space("hyperband", sp, state, err, errcap) != 0 ||
        nasc_su_parse_options("hyperband", hb_docs, hb_rules, HB_NOPT, opts, n_opts, o, err, errcap) != 0)
        return -1;
    if (!(sp->min_fidelity > 0) || !(sp->max_fidelity >= sp->min_fidelity) || !isfinite(sp->max_fidelity))
        return nasc_su_fail(err, errcap,
                            "hyperband: the space has no fidelity range (min %g, max %g); "
                            "hyperband needs a training budget such as train.epochs",
                            sp->min_fidelity, sp->max_fidelity);
    double R = sp->max_fidelity / sp->min_fidelity;
    int s_max = (int)floor(log(R) / log(o[0]) + 1e-9);
    /* the widest bracket starts eta^s_max points: keep that sane (and the tag's 24-bit index) */
    if (pow(o[0], s_max) > 1e5)
        return nasc_su_fail(err, errcap,
                            "hyperband: fidelity range %g..%g is too wide for eta = %g (the first "
                            "bracket would start %g points); raise min_fidelity or eta",
                            sp->min_fidelity, sp->max_fidelity, o[0], pow(o[0], s_max));
    hb_state *h = calloc(1, sizeof *h);
    size_t n = (size_t)sp->n_decisions + 1;
    if (h) {
        h->cv = calloc(n, sizeof *h->cv);
        h->ca = calloc(n, 1);
    }
    if (!h || !h->cv || !h->ca) {
        hb_destroy(h);
        return nasc_su_fail(err, errcap, "hyperband: out of memory");
    }
    h->sp = sp;
    h->eta = (int)o[0];
    h->sh = o[1] == 1;
    h->fmin = sp->min_fidelity;
    h->fmax = sp->max_fidelity;
    h->round_fid = h->fmin == floor(h->fmin) && h->fmax == floor(h->fmax);
    h->s_max = s_max;
    h->next_s = h->s_max;
    nasc_rng_seed(&h->rng, seed);
    *state = h;
    return 0;
}

/* Fidelity of rung i of bracket s: min * R * eta^(i - s). */
static double hb_fidelity(const hb_state *h, int s, int rung) {
    if (rung >= s) return h->fmax;
    double f = h->fmax * pow((double)h->eta, (double)(rung - s));
    if (h->round_fid) f = floor(f + 0.5);
    return f < h->fmin ? h->fmin : f > h->fmax ? h->fmax : f;
}

/* Configurations in rung i of a bracket that started with n0. */
static size_t hb_rung_size(const hb_state *h, double n0, int rung) {
    double k = floor(n0 / pow((double)h->eta, (double)rung) + 1e-9);
    return k < 1 ? 1 : (size_t)k;
}

/* Opens the next bracket with its random configurations. */
static hb_bracket *hb_open(hb_state *h, int64_t trial) {
    if (h->n_br == h->cap_br) {
        size_t cap = h->cap_br ? h->cap_br * 2 : 4;
        hb_bracket *b = realloc(h->br, cap * sizeof *b);
        if (!b) return NULL;
        h->br = b;
        h->cap_br = cap;
    }
    int s = h->sh ? h->s_max : h->next_s;
    if (!h->sh) h->next_s = h->next_s == 0 ? h->s_max : h->next_s - 1;
    hb_bracket *b = &h->br[h->n_br];
    memset(b, 0, sizeof *b);
    /* ids follow the host's trial ids, which a resumed search never reuses,
     * so a replayed or re-run trial of an old bracket cannot match a new one */
    h->next_id = trial >= 0 && (uint64_t)trial + 1 > h->next_id ? (uint64_t)trial + 1 : h->next_id + 1;
    b->id = h->next_id & 0xffffffffu;
    b->s = s;
    b->n0 = ceil((double)(h->s_max + 1) / (s + 1) * pow((double)h->eta, (double)s) - 1e-9);
    nasc_su_points_init(&b->cfg, h->sp->n_decisions);
    for (size_t k = 0; k < (size_t)b->n0; k++) {
        if (nasc_su_random_point(h->sp, &h->rng, h->cv, h->ca, HB_TRIES) < 0 ||
            nasc_su_points_push(&b->cfg, h->cv, h->ca, NAN) < 0) {
            nasc_su_points_free(&b->cfg);
            return NULL;
        }
    }
    h->n_br++;
    return b;
}

static int hb_ask(void *state, nasc_point *p, char *err, size_t errcap) {
    hb_state *h = state;
    if (!p) return nasc_su_fail(err, errcap, "hyperband: no point given");
    hb_bracket *b = NULL;
    for (size_t i = 0; i < h->n_br && !b; i++)
        if (h->br[i].asked < h->br[i].cfg.count) b = &h->br[i];
    if (!b && !(b = hb_open(h, p->trial)))
        return nasc_su_fail(err, errcap,
                            "hyperband: could not sample a bracket (out of memory "
                            "or the host rejected a point)");
    size_t idx = b->asked++;
    if (nasc_su_copy_out(h->sp, p, nasc_su_pv(&b->cfg, idx), err, errcap, "hyperband") != 0) return -1;
    p->fidelity = hb_fidelity(h, b->s, b->rung);
    p->tag = b->id << 32 | (uint64_t)b->rung << 24 | (uint64_t)idx;
    return 0;
}

/* Ranks the rung's told points (best first, ties by index) and keeps the
 * first `keep` that did not fail. */
static void hb_promote(hb_state *h, size_t bi) {
    hb_bracket *b = &h->br[bi];
    size_t keep = b->rung >= b->s ? 0 : hb_rung_size(h, b->n0, b->rung + 1);
    size_t n = b->cfg.count, kept = 0;
    nasc_su_points next;
    nasc_su_points_init(&next, h->sp->n_decisions);
    unsigned char *taken = calloc(n + 1, 1);
    while (taken && kept < keep) {
        size_t best = SIZE_MAX;
        for (size_t k = 0; k < n; k++)
            if (!taken[k] && isfinite(b->cfg.score[k]) &&
                (best == SIZE_MAX || b->cfg.score[k] > b->cfg.score[best]))
                best = k;
        if (best == SIZE_MAX) break;
        taken[best] = 1;
        if (nasc_su_points_push(&next, nasc_su_pv(&b->cfg, best), nasc_su_pa(&b->cfg, best), NAN) < 0) break;
        kept++;
    }
    free(taken);
    nasc_su_points_free(&b->cfg);
    if (kept == 0) {
        nasc_su_points_free(&next);
        memmove(h->br + bi, h->br + bi + 1, (h->n_br - bi - 1) * sizeof *h->br);
        h->n_br--;
        return;
    }
    b->cfg = next;
    b->rung++;
    b->asked = b->told = 0;
}

static void hb_tell(void *state, const nasc_point *p, const nasc_result *r) {
    hb_state *h = state;
    if (!p) return;
    uint64_t id = p->tag >> 32, idx = p->tag & 0xffffff;
    int rung = (int)(p->tag >> 24 & 0xff);
    for (size_t i = 0; i < h->n_br; i++) {
        hb_bracket *b = &h->br[i];
        if (b->id != id) continue;
        if (rung != b->rung || idx >= b->asked || !isnan(b->cfg.score[idx])) return;
        /* a result counts only for the very point and fidelity asked */
        if (nasc_su_copy_in(h->sp, p, h->cv, h->ca) != 0 ||
            !nasc_su_same_point(h->sp, h->cv, h->ca, nasc_su_pv(&b->cfg, idx), nasc_su_pa(&b->cfg, idx)))
            return;
        double sc = nasc_su_score(r);
        b->cfg.score[idx] = isnan(sc) ? -HUGE_VAL : sc;
        if (++b->told == b->cfg.count) hb_promote(h, i);
        return;
    }
}

NASC_EXPORT int nasc_strategy_entry(uint32_t host_abi, nasc_strategy *out) {
    (void)host_abi;
    if (!out) return -1;
    nasc_su_entry_fill(out);
    out->name = "hyperband";
    out->version = "1.0";
    out->description = "successive halving and Hyperband over epochs, Li et al. 2018; promotion "
                       "re-asks the same point at a higher fidelity";
    out->n_option_docs = HB_NOPT;
    out->option_docs = hb_docs;
    out->create = hb_create;
    out->ask = hb_ask;
    out->tell = hb_tell;
    out->destroy = hb_destroy;
    return 0;
}
