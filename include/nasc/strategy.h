/* nasc/strategy.h: the ABI between nasc and search-strategy plugins.
 *
 * A strategy is a shared object exporting ONE symbol, nasc_strategy_entry,
 * which fills a nasc_strategy table.  Every struct that crosses the
 * boundary begins with (abi_version, struct_size) and only ever grows at
 * the end, so the host can read an older plugin field by field (as
 * redismodule.h and sqlite3ext.h do).  The host refuses a plugin whose
 * major ABI version differs from NASC_STRATEGY_ABI_VERSION, naming both.
 *
 * The model is ask/tell:
 *   create(space, options, seed) -> state
 *   ask(state, point)            propose a trial (several may be outstanding)
 *   tell(state, point, result)   a finished trial
 *   destroy(state)
 * Given the same seed and the same sequence of asks and tells, a strategy
 * must make the same asks: plugins keep no files and no hidden global
 * state.  On --resume the host rebuilds a strategy's state by calling ask
 * and tell again in the order the run made them (the replayed asks must
 * propose the stored points), so no save/restore is needed.
 */
#ifndef NASC_STRATEGY_H
#define NASC_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NASC_STRATEGY_ABI_VERSION 1u
#define NASC_STRATEGY_ENTRY       "nasc_strategy_entry"

#if defined(__GNUC__)
#define NASC_EXPORT __attribute__((visibility("default")))
#else
#define NASC_EXPORT
#endif

/* ----- the space, as the host describes it ----- */

typedef enum {
    NASC_DEC_CATEGORICAL = 0, /* one of n_choices labelled alternatives (value: index) */
    NASC_DEC_INT = 1,         /* lo..hi step (value: the integer) */
    NASC_DEC_FLOAT = 2,       /* [lo, hi], uniform or log-uniform (value: the real) */
    NASC_DEC_SUBSET = 3,      /* k distinct of n_choices alternatives (value: sorted indices) */
} nasc_decision_kind;

typedef struct nasc_decision {
    uint32_t abi_version, struct_size;
    const char *label; /* e.g. "width[2]", "op.sepconv.k", "train.lr" */
    nasc_decision_kind kind;
    int n_choices;               /* CATEGORICAL, SUBSET */
    const char *const *choices;  /* their names as a point spells them ("relu", "32", "true") */
    const double *choice_values; /* numeric value of each alternative, or NULL when not numeric */
    int64_t lo, hi, step;        /* INT */
    double flo, fhi;             /* FLOAT */
    int log;                     /* FLOAT: log-uniform */
    int k;                       /* SUBSET: how many are chosen */
    /* Activity: the decision is active when its parent decision (an index
     * into nasc_space.decisions, or -1 for always/unknown) takes one of
     * parent_values (indices for CATEGORICAL parents, integers for INT
     * parents), and the parent itself is active.  When the host cannot
     * express the condition that simply, parent is -1 and `condition`
     * still says it in words; the host always reports the true activity of
     * every decision in nasc_point.active after normalising a point. */
    int parent;
    int n_parent_values;
    const int64_t *parent_values;
    const char *condition; /* human-readable, "" when always active */
} nasc_decision;

typedef struct nasc_objective {
    uint32_t abi_version, struct_size;
    const char *name; /* "accuracy", or the text of a scalarised expression */
    int maximize;     /* 1 maximise, 0 minimise */
} nasc_objective;

typedef struct nasc_point nasc_point;

typedef struct nasc_space {
    uint32_t abi_version, struct_size;
    const char *name;
    int n_decisions;
    const nasc_decision *decisions;
    int n_objectives;
    const nasc_objective *objectives;
    double min_fidelity, max_fidelity; /* e.g. epochs: 1 and train.epochs */
    /* Host services (may be called from any plugin function): */
    void *host;
    /* Sets p->active[] for the values in p (inactive values are ignored)
     * and returns 1 if the point is feasible (satisfies every `require`),
     * 0 if not, -1 if a value is outside its domain. */
    int (*normalize)(void *host, nasc_point *p);
    /* ----- appended (ABI 1, second revision): a plugin reads the fields
     * below only when struct_size covers them (an older host passes a
     * shorter struct; NASC_SPACE_HAS(sp, field) checks) and they are not
     * NULL. ----- */
    /* Scores n normalised points by the training-free proxy `proxy` (a
     * name of docs/proxies.md: "synflow", "snip", "naswot"...), computed
     * by the host at each point's initialisation, whatever the search's
     * evaluator.  scores[i] is NaN where the proxy is undefined for point
     * i (no ReLU for naswot...).  The host records the scores in the
     * search's store (they are not trials) and, when the same points are
     * scored again (a --resume replaying the asks), answers from that
     * record without computing them again.  n = 0 only checks the name.
     * Returns 0, or -1 with a message in err (an unknown proxy, a point
     * the host cannot build).  NULL: the host computes no proxies. */
    int (*proxy_scores)(void *host, const char *proxy, const nasc_point *points, int n, double *scores,
                        char *err, size_t errcap);
} nasc_space;

/* 1 when the host's space struct has `field` (it was built with a header
 * that has it) and the field is set: the check for appended services. */
#define NASC_SPACE_HAS(sp, field) \
    ((sp)->struct_size >= offsetof(nasc_space, field) + sizeof((sp)->field) && (sp)->field != NULL)

/* ----- points and results ----- */

typedef union nasc_value {
    int64_t i;       /* CATEGORICAL: index; INT: the integer */
    double f;        /* FLOAT */
    uint64_t subset; /* SUBSET: bit i set = alternative i chosen (n_choices <= 64) */
} nasc_value;

struct nasc_point {
    uint32_t abi_version, struct_size;
    int n;                 /* == space->n_decisions */
    nasc_value *values;    /* n values (host-allocated; plugins write into them in ask) */
    unsigned char *active; /* n flags, set by normalize; plugins read them */
    double fidelity;       /* requested fidelity (0 = the space's max_fidelity) */
    int64_t trial;         /* host's trial id (set by the host before tell; in ask: the id it will get) */
    uint64_t tag;          /* plugin's own bookkeeping, returned unchanged in tell */
};

typedef enum {
    NASC_RESULT_OK = 0,
    NASC_RESULT_FAILED = 1,     /* the evaluation crashed, timed out, produced NaN... */
    NASC_RESULT_INFEASIBLE = 2, /* a `require` limit was violated */
} nasc_result_status;

typedef struct nasc_result {
    uint32_t abi_version, struct_size;
    nasc_result_status status;
    int n_objectives;
    const double *objectives; /* one per space objective, in space order; already signed so that
                                   LARGER IS BETTER for every objective (minimised ones negated) */
    const double *raw;        /* the same objectives, unsigned, as the user sees them */
    double fidelity;          /* the fidelity actually evaluated */
} nasc_result;

/* ----- the plugin ----- */

typedef struct nasc_option {
    const char *key;
    const char *value; /* as written: "20", "0.5", "true", "\"name\"" */
} nasc_option;

typedef struct nasc_option_doc {
    const char *key, *default_value, *help;
} nasc_option_doc;

typedef struct nasc_strategy {
    uint32_t abi_version, struct_size;
    const char *name;        /* "evolution" */
    const char *version;     /* the plugin's own version, "1.0" */
    const char *description; /* one line */
    int n_option_docs;
    const nasc_option_doc *option_docs;
    /* Returns 0 and sets *state, or -1 and writes a message into err
     * (unknown option, bad value, space it cannot handle). */
    int (*create)(const nasc_space *space, const nasc_option *opts, int n_opts, uint64_t seed, void **state,
                  char *err, size_t errcap);
    /* Fills p->values (and p->fidelity, p->tag).  Returns 0, 1 when the
     * strategy is exhausted (grid: every point proposed), -1 on error. */
    int (*ask)(void *state, nasc_point *p, char *err, size_t errcap);
    void (*tell)(void *state, const nasc_point *p, const nasc_result *r);
    void (*destroy)(void *state);
} nasc_strategy;

/* The one entry point.  host_abi is the host's NASC_STRATEGY_ABI_VERSION.
 * Fill *out (set out->abi_version = NASC_STRATEGY_ABI_VERSION and
 * out->struct_size = sizeof *out) and return 0. */
typedef int (*nasc_strategy_entry_fn)(uint32_t host_abi, nasc_strategy *out);

#ifdef __cplusplus
}
#endif
#endif
