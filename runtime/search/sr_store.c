/* sr_store.c: the SQLite store of a search (schema in docs/store.md).
 *
 * One writer (the host process), WAL journal, synchronous=NORMAL: every
 * statement commits on its own, so a state change is durable against a
 * killed process before the host acts on it, at a cost of tens of
 * microseconds (WAL appends without fsync; only a power loss can drop the
 * last commits).  Statements used per trial are prepared once. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sr_util.h"

#define SR_SCHEMA_VERSION 3

struct sr_store {
    sqlite3 *db;
    sqlite3_stmt *ins, *fin, *restart;
};

/* Version 3: the stand-alone retraining of the top points of a search
 * (search.retrain), one row per retrained trial, linked by its id. */
#define RETRAIN_TABLE                                                          \
    "CREATE TABLE IF NOT EXISTS retrain ("                                     \
    " trial INTEGER PRIMARY KEY REFERENCES trials(id), rank INTEGER NOT NULL," \
    " status TEXT NOT NULL CHECK (status IN ('running','done','failed')),"     \
    " metrics TEXT, error TEXT, weights TEXT, started REAL, finished REAL);"

static const char *store_schema =
    "CREATE TABLE IF NOT EXISTS run ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " source TEXT, source_hash TEXT NOT NULL, space TEXT, strategy TEXT, seed INTEGER,"
    " objectives TEXT, options TEXT, nasc_version TEXT, started REAL);"
    "CREATE TABLE IF NOT EXISTS trials ("
    " id INTEGER PRIMARY KEY, point TEXT NOT NULL, fidelity REAL, tag INTEGER,"
    " status TEXT NOT NULL CHECK (status IN ('running','done','failed','infeasible')),"
    " metrics TEXT, objectives TEXT, started REAL, finished REAL, duration REAL,"
    " worker INTEGER, error TEXT, weights TEXT, asked INTEGER, told INTEGER, answered TEXT);"
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT);" RETRAIN_TABLE;

static int st_check_version(const char *path, sr_store *s, sr_store **out, int writer, char *err, size_t cap);

static int store_fail(sr_store *s, const char *what, char *err, size_t cap) {
    err_set(err, cap, "store: %s: %s", what, s && s->db ? sqlite3_errmsg(s->db) : "no database");
    return -1;
}

static int store_exec(sr_store *s, const char *sql, char *err, size_t cap) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(err, cap, "store: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int store_prepare(sr_store *s, char *err, size_t cap) {
    static const char *ins =
        "INSERT INTO trials (id, point, fidelity, tag, status, metrics, objectives, started,"
        " finished, duration, worker, error, weights, asked, told, answered)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    static const char *fin = "UPDATE trials SET status=?, metrics=?, objectives=?, finished=?, duration=?,"
                             " error=?, weights=?, worker=?, told=?, answered=? WHERE id=?";
    static const char *rs =
        "UPDATE trials SET status='running', started=?, finished=NULL, duration=NULL WHERE id=?";
    if (sqlite3_prepare_v2(s->db, ins, -1, &s->ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, fin, -1, &s->fin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, rs, -1, &s->restart, NULL) != SQLITE_OK)
        return store_fail(s, "prepare", err, cap);
    return 0;
}

/* Version 1 had no event order (asked, told) and no answered column:
 * added empty, which resume reads as "told right after its ask". */
static int upgrade_v1(sr_store *s, char *err, size_t cap) {
    if (store_exec(
            s,
            "BEGIN; ALTER TABLE trials ADD COLUMN asked INTEGER; ALTER TABLE trials ADD COLUMN told INTEGER;"
            " ALTER TABLE trials ADD COLUMN answered TEXT;"
            " INSERT OR REPLACE INTO kv (key, value) VALUES ('schema_version', '2'); COMMIT;",
            err, cap)) {
        char e2[80];
        store_exec(s, "ROLLBACK", e2, sizeof e2);
        return -1;
    }
    return 0;
}

/* Version 2 had no retrain table: an empty one (a writer's open already
 * made it with the schema; made here too, so the upgrade stands alone). */
static int upgrade_v2(sr_store *s, char *err, size_t cap) {
    if (store_exec(s,
                   "BEGIN; " RETRAIN_TABLE
                   " INSERT OR REPLACE INTO kv (key, value) VALUES ('schema_version', "
                   "'3'); COMMIT;",
                   err, cap)) {
        char e2[80];
        store_exec(s, "ROLLBACK", e2, sizeof e2);
        return -1;
    }
    return 0;
}

/* 1 when the store has the three tables (a read-only open cannot create them). */
static int st_has_tables(sr_store *s, int *sqlite_rc) {
    sqlite3_stmt *st;
    int n = -1;
    *sqlite_rc = sqlite3_prepare_v2(s->db,
                                    "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN"
                                    " ('run','trials','kv')",
                                    -1, &st, NULL);
    if (*sqlite_rc == SQLITE_OK) {
        *sqlite_rc = sqlite3_step(st);
        if (*sqlite_rc == SQLITE_ROW) n = sqlite3_column_int(st, 0), *sqlite_rc = SQLITE_OK;
        sqlite3_finalize(st);
    }
    return n == 3;
}

/* file:PATH?immutable=1, for a store in a folder nasc cannot write (WAL
 * needs its side files there otherwise). */
static char *st_immutable_uri(const char *path) {
    strbuf b = {0};
    strbuf_puts(&b, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '/' ||
            *p == '.' || *p == '-' || *p == '_')
            strbuf_append(&b, (const char *)p, 1);
        else
            strbuf_printf(&b, "%%%02X", *p);
    }
    strbuf_puts(&b, "?immutable=1");
    return strbuf_take(&b);
}

static int st_dir_writable(const char *path) {
    char *d = strdup(path);
    if (!d) return 1;
    char *slash = strrchr(d, '/');
    int ok = slash ? (slash == d ? access("/", W_OK) : (*slash = 0, access(d, W_OK))) : access(".", W_OK);
    free(d);
    return ok == 0;
}

/* A reader's open: never writes, never creates (report). */
static int st_open_readonly(const char *path, sr_store *s, char *err, size_t cap) {
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        err_set(err, cap, "%s: cannot open the store: %s", path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        return -1;
    }
    sqlite3_busy_timeout(s->db, 5000);
    int rc;
    int ok = st_has_tables(s, &rc);
    if (!ok && rc != SQLITE_OK && !st_dir_writable(path)) {
        char *uri = st_immutable_uri(path);
        sqlite3_close(s->db);
        s->db = NULL;
        if (!uri || sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
            err_set(err, cap, "%s: cannot open the store: %s", path,
                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
            free(uri);
            return -1;
        }
        free(uri);
        ok = st_has_tables(s, &rc);
    }
    if (!ok) {
        err_set(err, cap, "%s: not a nasc store (%s)", path,
                rc != SQLITE_OK ? sqlite3_errmsg(s->db) : "it has no run, trials and kv tables");
        return -1;
    }
    return 0;
}

int sr_store_open(const char *path, int create, sr_store **out, char *err, size_t cap) {
    *out = NULL;
    sr_store *s = calloc(1, sizeof *s);
    if (!s) {
        err_set(err, cap, "out of memory");
        return -1;
    }
    if (create == SR_STORE_READONLY) {
        if (st_open_readonly(path, s, err, cap)) {
            sr_store_close(s);
            return -1;
        }
        return st_check_version(path, s, out, 0, err, cap);
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        err_set(err, cap, "%s: cannot open the store: %s", path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sr_store_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char e2[300] = "";
    if (store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", e2, sizeof e2) ||
        store_exec(s, store_schema, e2, sizeof e2)) {
        err_set(err, cap, "%s: not a nasc store (%s)", path, e2);
        sr_store_close(s);
        return -1;
    }
    return st_check_version(path, s, out, 1, err, cap);
}

/* Refuses a store of another schema version; a writer stamps a new one. */
static int st_check_version(const char *path, sr_store *s, sr_store **out, int writer, char *err,
                            size_t cap) {
    char v[32], e2[300] = "";
    snprintf(v, sizeof v, "%d", SR_SCHEMA_VERSION);
    char *have = sr_store_kv_get(s, "schema_version");
    /* Only a writer upgrades: a reader (report) never writes. */
    if (have && !strcmp(have, "1") && writer && upgrade_v1(s, e2, sizeof e2) == 0) {
        free(have);
        have = strdup("2");
    }
    if (have && !strcmp(have, "2") && writer && upgrade_v2(s, e2, sizeof e2) == 0) {
        free(have);
        have = strdup(v);
    }
    /* a reader reads version 2 as is: it has no retrain table, so no retraining */
    int readable = have && (!strcmp(have, v) || (!writer && !strcmp(have, "2")));
    if (!have && writer)
        sr_store_kv_set(s, "schema_version", v, NULL, 0);
    else if (have && !readable) {
        err_set(err, cap, "%s: store schema version %s, this nasc reads version %s", path, have, v);
        free(have);
        sr_store_close(s);
        return -1;
    }
    if (store_prepare(s, e2, sizeof e2)) {
        err_set(err, cap, "%s: not a nasc store (%s)", path, e2);
        free(have);
        sr_store_close(s);
        return -1;
    }
    free(have);
    *out = s;
    return 0;
}

void sr_store_close(sr_store *s) {
    if (!s) return;
    sqlite3_finalize(s->ins);
    sqlite3_finalize(s->fin);
    sqlite3_finalize(s->restart);
    sqlite3_close(s->db);
    free(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Event numbers: 0 is unknown (NULL), -1 never (the strategy was not told). */
static void bind_order(sqlite3_stmt *st, int i, int64_t v) {
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static char *col_text(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

int sr_store_has_run(sr_store *s) {
    sqlite3_stmt *st;
    int has = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM run", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) has = sqlite3_column_int(st, 0) > 0;
        sqlite3_finalize(st);
    }
    return has;
}

int sr_store_put_run(sr_store *s, const sr_run_row *r, char *err, size_t cap) {
    sqlite3_stmt *st;
    const char *sql =
        "INSERT OR REPLACE INTO run (id, source, source_hash, space, strategy, seed, objectives,"
        " options, nasc_version, started) VALUES (1,?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, "write run", err, cap);
    bind_text(st, 1, r->source);
    bind_text(st, 2, r->source_hash ? r->source_hash : "");
    bind_text(st, 3, r->space);
    bind_text(st, 4, r->strategy);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)r->seed);
    bind_text(st, 6, r->objectives);
    bind_text(st, 7, r->options);
    bind_text(st, 8, r->version);
    sqlite3_bind_double(st, 9, r->started);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "write run", err, cap);
    sqlite3_finalize(st);
    return rc;
}

int sr_store_get_run(sr_store *s, sr_run_row *r, char *err, size_t cap) {
    memset(r, 0, sizeof *r);
    sqlite3_stmt *st;
    const char *sql = "SELECT source, source_hash, space, strategy, seed, objectives, options, nasc_version,"
                      " started FROM run WHERE id = 1";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, "read run", err, cap);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        r->source = col_text(st, 0);
        r->source_hash = col_text(st, 1);
        r->space = col_text(st, 2);
        r->strategy = col_text(st, 3);
        r->seed = (uint64_t)sqlite3_column_int64(st, 4);
        r->objectives = col_text(st, 5);
        r->options = col_text(st, 6);
        r->version = col_text(st, 7);
        r->started = sqlite3_column_double(st, 8);
        rc = 0;
    } else {
        err_set(err, cap, "store: no search recorded in it");
    }
    sqlite3_finalize(st);
    return rc;
}

int sr_store_set_options(sr_store *s, const char *options, char *err, size_t cap) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "UPDATE run SET options = ? WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, "write run options", err, cap);
    bind_text(st, 1, options);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "write run options", err, cap);
    sqlite3_finalize(st);
    return rc;
}

int sr_store_set_metrics(sr_store *s, int64_t id, const char *metrics, char *err, size_t cap) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "UPDATE trials SET metrics = ? WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, "write trial metrics", err, cap);
    bind_text(st, 1, metrics);
    sqlite3_bind_int64(st, 2, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "write trial metrics", err, cap);
    sqlite3_finalize(st);
    return rc;
}

void sr_run_row_free(sr_run_row *r) {
    free(r->source_hash);
    free(r->space);
    free(r->strategy);
    free(r->objectives);
    free(r->options);
    free(r->version);
    free(r->source);
    memset(r, 0, sizeof *r);
}

int sr_store_insert(sr_store *s, const sr_trial_row *t, char *err, size_t cap) {
    sqlite3_stmt *st = s->ins;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, t->id);
    bind_text(st, 2, t->point);
    sqlite3_bind_double(st, 3, t->fidelity);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)t->tag);
    bind_text(st, 5, t->status);
    bind_text(st, 6, t->metrics);
    bind_text(st, 7, t->objectives);
    sqlite3_bind_double(st, 8, t->started);
    if (t->finished > 0)
        sqlite3_bind_double(st, 9, t->finished);
    else
        sqlite3_bind_null(st, 9);
    if (t->finished > 0)
        sqlite3_bind_double(st, 10, t->duration);
    else
        sqlite3_bind_null(st, 10);
    sqlite3_bind_int(st, 11, t->worker);
    bind_text(st, 12, t->error);
    bind_text(st, 13, t->weights);
    bind_order(st, 14, t->asked);
    bind_order(st, 15, t->told);
    bind_text(st, 16, t->answered[0] ? t->answered : NULL);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "insert trial", err, cap);
    sqlite3_reset(st);
    return rc;
}

int sr_store_finish(sr_store *s, const sr_trial_row *t, char *err, size_t cap) {
    sqlite3_stmt *st = s->fin;
    sqlite3_reset(st);
    bind_text(st, 1, t->status);
    bind_text(st, 2, t->metrics);
    bind_text(st, 3, t->objectives);
    sqlite3_bind_double(st, 4, t->finished);
    sqlite3_bind_double(st, 5, t->duration);
    bind_text(st, 6, t->error);
    bind_text(st, 7, t->weights);
    sqlite3_bind_int(st, 8, t->worker);
    bind_order(st, 9, t->told);
    bind_text(st, 10, t->answered[0] ? t->answered : NULL);
    sqlite3_bind_int64(st, 11, t->id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "finish trial", err, cap);
    sqlite3_reset(st);
    return rc;
}

int sr_store_restart(sr_store *s, int64_t id, double started, char *err, size_t cap) {
    sqlite3_stmt *st = s->restart;
    sqlite3_reset(st);
    sqlite3_bind_double(st, 1, started);
    sqlite3_bind_int64(st, 2, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "restart trial", err, cap);
    sqlite3_reset(st);
    return rc;
}

/* The next row of a growing array of rows of SIZE bytes, zeroed; NULL when
 * memory runs out (the array stays valid).  Shared by the readers below. */
static void *next_row(void **v, int *cnt, int *vcap, size_t size, int first) {
    if (*cnt == *vcap) {
        int nc = *vcap ? *vcap * 2 : first;
        void *nv = realloc(*v, (size_t)nc * size);
        if (!nv) return NULL;
        *v = nv, *vcap = nc;
    }
    void *row = (char *)*v + (size_t)(*cnt)++ * size;
    memset(row, 0, size);
    return row;
}

/* Column I as a status string into BUF. */
static void col_status(sqlite3_stmt *st, int i, char *buf, size_t cap) {
    const unsigned char *status = sqlite3_column_text(st, i);
    snprintf(buf, cap, "%s", status ? (const char *)status : "");
}

int sr_store_trials(sr_store *s, sr_trial_row **out, int *n, char *err, size_t cap) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    const char *sql =
        "SELECT id, point, fidelity, tag, status, metrics, objectives, started, finished, duration,"
        " worker, error, weights, asked, told, answered FROM trials ORDER BY id";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, "read trials", err, cap);
    sr_trial_row *v = NULL;
    int cnt = 0, vcap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sr_trial_row *t = next_row((void **)&v, &cnt, &vcap, sizeof *t, 64);
        if (!t) {
            rc = SQLITE_NOMEM;
            break;
        }
        t->id = sqlite3_column_int64(st, 0);
        t->point = col_text(st, 1);
        t->fidelity = sqlite3_column_double(st, 2);
        t->tag = (uint64_t)sqlite3_column_int64(st, 3);
        col_status(st, 4, t->status, sizeof t->status);
        t->metrics = col_text(st, 5);
        t->objectives = col_text(st, 6);
        t->started = sqlite3_column_double(st, 7);
        t->finished = sqlite3_column_double(st, 8);
        t->duration = sqlite3_column_double(st, 9);
        t->worker = sqlite3_column_int(st, 10);
        t->error = col_text(st, 11);
        t->weights = col_text(st, 12);
        t->asked = sqlite3_column_int64(st, 13);
        t->told = sqlite3_column_int64(st, 14);
        const unsigned char *an = sqlite3_column_text(st, 15);
        snprintf(t->answered, sizeof t->answered, "%s", an ? (const char *)an : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        sr_trials_free(v, cnt);
        return store_fail(s, "read trials", err, cap);
    }
    *out = v;
    *n = cnt;
    return 0;
}

void sr_trials_free(sr_trial_row *v, int n) {
    for (int i = 0; v && i < n; i++) {
        free(v[i].point);
        free(v[i].metrics);
        free(v[i].objectives);
        free(v[i].error);
        free(v[i].weights);
    }
    free(v);
}

int sr_store_kv_set(sr_store *s, const char *key, const char *value, char *err, size_t cap) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", -1, &st, NULL) !=
        SQLITE_OK)
        return store_fail(s, "write kv", err, cap);
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "write kv", err, cap);
    sqlite3_finalize(st);
    return rc;
}

char *sr_store_kv_get(sr_store *s, const char *key) {
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM kv WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    bind_text(st, 1, key);
    if (sqlite3_step(st) == SQLITE_ROW) v = col_text(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ----- retraining (search.retrain) ----- */

int sr_store_retrain_put(sr_store *s, const sr_retrain_row *r, char *err, size_t cap) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            s->db,
            "INSERT OR REPLACE INTO retrain (trial, rank, status, metrics, error, weights, started,"
            " finished) VALUES (?,?,?,?,?,?,?,?)",
            -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, "write retrain", err, cap);
    sqlite3_bind_int64(st, 1, r->trial);
    sqlite3_bind_int(st, 2, r->rank);
    bind_text(st, 3, r->status);
    bind_text(st, 4, r->metrics);
    bind_text(st, 5, r->error);
    bind_text(st, 6, r->weights);
    sqlite3_bind_double(st, 7, r->started);
    if (r->finished > 0)
        sqlite3_bind_double(st, 8, r->finished);
    else
        sqlite3_bind_null(st, 8);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "write retrain", err, cap);
    sqlite3_finalize(st);
    return rc;
}

int sr_store_retrain_rows(sr_store *s, sr_retrain_row **out, int *n, char *err, size_t cap) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int has = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='retrain'",
                           -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) has = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    if (!has) return 0; /* a version-2 store, read as is */
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT trial, rank, status, metrics, error, weights, started, finished FROM retrain"
            " ORDER BY rank, trial",
            -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, "read retrain", err, cap);
    sr_retrain_row *v = NULL;
    int cnt = 0, vcap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sr_retrain_row *r = next_row((void **)&v, &cnt, &vcap, sizeof *r, 16);
        if (!r) {
            rc = SQLITE_NOMEM;
            break;
        }
        r->trial = sqlite3_column_int64(st, 0);
        r->rank = sqlite3_column_int(st, 1);
        col_status(st, 2, r->status, sizeof r->status);
        r->metrics = col_text(st, 3);
        r->error = col_text(st, 4);
        r->weights = col_text(st, 5);
        r->started = sqlite3_column_double(st, 6);
        r->finished = sqlite3_column_double(st, 7);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        sr_retrain_free(v, cnt);
        return store_fail(s, "read retrain", err, cap);
    }
    *out = v;
    *n = cnt;
    return 0;
}

int sr_store_retrain_delete(sr_store *s, int64_t trial, char *err, size_t cap) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM retrain WHERE trial = ?", -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, "write retrain", err, cap);
    sqlite3_bind_int64(st, 1, trial);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "write retrain", err, cap);
    sqlite3_finalize(st);
    return rc;
}

void sr_retrain_free(sr_retrain_row *v, int n) {
    for (int i = 0; v && i < n; i++) {
        free(v[i].metrics);
        free(v[i].error);
        free(v[i].weights);
    }
    free(v);
}
