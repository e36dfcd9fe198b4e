/* smt.h: proof obligations discharged by z3, for those that depend on too
 * many decisions to enumerate (docs/checker.md).
 *
 * Decisions become bounded integers (their finite domains), syms become
 * z3 terms with the language's floor division, and the solver is asked for
 * a point where the obligation fails: a model is a counterexample, unsat a
 * proof.  Division by a decision-dependent value with a few possible values
 * is a case split over them, so the query stays linear. */
#ifndef NASC_SMT_H
#define NASC_SMT_H

#include "space.h"

typedef struct smt smt;
typedef enum { SMT_PROVED, SMT_REFUTED, SMT_UNKNOWN } smt_result;

/* One solver context per space (its terms are shared by every query),
 * with `budget` z3 resource units for all its queries (0: the default,
 * docs/checker.md).  Units, not seconds: the same space gets the same
 * answers on any machine under any load. */
smt *smt_new(space_ir *s, uint64_t budget);
void smt_free(smt *z);

/* Is there a point of the decisions ids[0..n) where every require in
 * reqs[0..nreq) holds, guard holds without an arithmetic error, and prop
 * fails or errs?  On SMT_REFUTED vals[id] holds that point's value of each
 * decision in ids (as the enumerator would set it).  SMT_UNKNOWN: floats,
 * nonlinear arithmetic the solver gave up on, or its resource units (per
 * query, or the space's) ran out. */
smt_result smt_refute(smt *z, const int *ids, int n, require_c **reqs, int nreq, sym *guard, sym *prop,
                      sval *vals);

#endif
