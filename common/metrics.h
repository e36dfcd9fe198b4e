/* metrics.h: the one table of the metrics nasc itself knows.
 *
 * The front end checks objectives and limits against it (a metric's
 * dimension: the units of a limit must fit it), the search host knows
 * from it which limits are static (checked before evaluation) and what
 * unit labels a report's axes, and the driver which metrics the builtin
 * evaluator measures only when something names them.  An external
 * evaluator may report any other metric.
 */
#ifndef NASC_METRICS_H
#define NASC_METRICS_H

#include <stdbool.h>

/* The dimension of a metric, which the units of its limits must fit. */
typedef enum { MD_NUMBER, MD_TIME, MD_BYTES } metric_dim;

typedef struct metric_info {
    const char *name;
    const char *unit; /* for labels: "us", "bytes", "count", "" when none */
    metric_dim dim;
    bool is_static;  /* known before evaluation: a limit on it is checked first */
    bool on_request; /* the builtin evaluator measures it only when named */
    bool goal;       /* may appear in an objective or a limit */
} metric_info;

const metric_info *metric_table(int *n);
const metric_info *metric_find(const char *name); /* NULL: not a metric nasc knows */
const char *metric_dim_name(metric_dim d);        /* "a time", "a size in bytes", "a number" */

#endif
