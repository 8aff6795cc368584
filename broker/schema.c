/*  schema — see schema.h and docs/schema.md. */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int         version;        //  applied in increasing order
    const char *description;    //  recorded in shoal_schema
    const char *sql;            //  statements of the step
} migration_t;

static const migration_t s_migrations[] = {
    { 1, "jobs, tasks, results, attempts",
      "CREATE TABLE shoal_meta ("
      "  key   text PRIMARY KEY,"
      "  value bigint NOT NULL);"
      "INSERT INTO shoal_meta VALUES ('epoch', 0);"
      "CREATE TABLE jobs ("
      "  id          serial PRIMARY KEY,"
      "  name        text NOT NULL DEFAULT '',"
      "  idem_key    text UNIQUE,"
      "  state       text NOT NULL DEFAULT 'active'"
      "              CHECK (state IN ('active','paused','done','cancelled')),"
      "  priority    int NOT NULL DEFAULT 1,"
      "  defaults    bytea,"
      "  n_tasks     bigint NOT NULL DEFAULT 0,"
      "  sealed      boolean NOT NULL DEFAULT false,"
      "  n_ok        bigint NOT NULL DEFAULT 0,"
      "  n_failed    bigint NOT NULL DEFAULT 0,"
      "  n_cancelled bigint NOT NULL DEFAULT 0,"
      "  n_retries   bigint NOT NULL DEFAULT 0,"
      "  n_stale     bigint NOT NULL DEFAULT 0,"
      "  n_duplicate bigint NOT NULL DEFAULT 0,"
      "  created_at  timestamptz NOT NULL DEFAULT now(),"
      "  sealed_at   timestamptz,"
      "  finished_at timestamptz);"
      "CREATE TABLE tasks ("
      "  job_id int NOT NULL,"
      "  seq    int NOT NULL,"
      "  kind   text NOT NULL,"
      "  target text NOT NULL,"
      "  spec   bytea NOT NULL,"
      "  PRIMARY KEY (job_id, seq));"
      "CREATE TABLE results ("
      "  job_id       int NOT NULL,"
      "  seq          int NOT NULL,"
      "  outcome      text NOT NULL CHECK (outcome IN ('ok','failed','cancelled')),"
      "  attempt      int NOT NULL,"
      "  worker       text,"
      "  error        text,"
      "  started_at   timestamptz,"
      "  finished_at  timestamptz,"
      "  duration_ms  double precision,"
      "  http_status  int,"
      "  final_url    text,"
      "  content_type text,"
      "  headers      jsonb,"
      "  bytes        bigint,"
      "  sha256       text,"
      "  body         bytea,"
      "  body_path    text,"
      "  truncated    boolean,"
      "  dns_ms       double precision,"
      "  connect_ms   double precision,"
      "  tls_ms       double precision,"
      "  ttfb_ms      double precision,"
      "  total_ms     double precision,"
      "  exit_code    int,"
      "  signal       int,"
      "  stdout       text,"
      "  stderr       text,"
      "  PRIMARY KEY (job_id, seq));"
      "CREATE TABLE attempts ("
      "  job_id      int NOT NULL,"
      "  seq         int NOT NULL,"
      "  attempt     int NOT NULL,"
      "  worker      text,"
      "  outcome     text NOT NULL,"
      "  error       text,"
      "  http_status int,"
      "  started_at  timestamptz,"
      "  finished_at timestamptz,"
      "  retry_at    timestamptz,"
      "  counted     boolean NOT NULL DEFAULT true);"
      "CREATE INDEX attempts_task ON attempts (job_id, seq);"
      "CREATE VIEW attempt_log AS"
      "  SELECT job_id, seq, attempt, worker, outcome, error, http_status,"
      "         started_at, finished_at, false AS final FROM attempts"
      "  UNION ALL"
      "  SELECT job_id, seq, attempt, worker, outcome, error, http_status,"
      "         started_at, finished_at, true AS final FROM results WHERE attempt > 0;"
    },
    { 2, "batch ids: a result write whose commit reply was lost is not applied twice",
      "CREATE TABLE shoal_batches ("
      "  epoch bigint NOT NULL,"
      "  seq   bigint NOT NULL,"
      "  PRIMARY KEY (epoch, seq));"
    },
    { 3, "results.body_url: where a body stored outside the row is (s3://bucket/key)",
      "ALTER TABLE results ADD COLUMN body_url text;"
    },
    { 4, "pipelines: steps as tasks (root, parent, step, element), extracted variables, items",
      "ALTER TABLE jobs ADD COLUMN pipeline jsonb,"
      "  ADD COLUMN n_children bigint NOT NULL DEFAULT 0;"
      "ALTER TABLE tasks ADD COLUMN root int, ADD COLUMN parent int,"
      "  ADD COLUMN step int, ADD COLUMN element int;"
      //  a step's child for one element exists once, whatever crashes
      "CREATE UNIQUE INDEX tasks_child ON tasks (job_id, parent, element) WHERE parent IS NOT NULL;"
      "CREATE INDEX tasks_root ON tasks (job_id, root) WHERE root IS NOT NULL;"
      "ALTER TABLE results ADD COLUMN vars jsonb;"
      //  one row per input item of a pipeline job: how far it got, how it ended
      "CREATE VIEW items AS"
      "  SELECT t.job_id, coalesce(t.root, t.seq) AS item, count(*) AS tasks,"
      "    max(coalesce(t.step, 0)) AS last_step,"
      "    (array_agg(j.pipeline->'steps'->coalesce(t.step, 0)->>'name'"
      "               ORDER BY coalesce(t.step, 0) DESC, t.seq DESC))[1] AS step_name,"
      "    CASE WHEN bool_or(r.outcome = 'failed') THEN 'failed'"
      "         WHEN bool_or(r.outcome = 'cancelled') THEN 'cancelled'"
      "         WHEN bool_or(r.outcome IS NULL) THEN 'running'"
      "         ELSE 'complete' END AS outcome,"
      "    (array_agg(r.vars ORDER BY coalesce(t.step, 0) DESC, t.seq DESC)"
      "       FILTER (WHERE r.vars IS NOT NULL))[1] AS vars,"
      "    (array_agg(j.pipeline->'steps'->coalesce(t.step, 0)->>'name' ORDER BY t.seq)"
      "       FILTER (WHERE r.outcome = 'failed'))[1] AS failed_step,"
      "    (array_agg(r.error ORDER BY t.seq) FILTER (WHERE r.outcome IN ('failed', 'cancelled')))[1] AS error"
      "  FROM tasks t JOIN jobs j ON j.id = t.job_id"
      "  LEFT JOIN results r ON r.job_id = t.job_id AND r.seq = t.seq"
      "  WHERE j.pipeline IS NOT NULL"
      "  GROUP BY t.job_id, coalesce(t.root, t.seq);"
    },
    { 5, "shoal update: the last change of a job's defaults, and every change",
      "ALTER TABLE jobs ADD COLUMN updated_at timestamptz, ADD COLUMN update_note text;"
      "CREATE TABLE job_updates ("
      "  job_id   int NOT NULL,"
      "  at       timestamptz NOT NULL DEFAULT now(),"
      "  note     text NOT NULL,"
      "  change   bytea,"
      "  priority int);"
      "CREATE INDEX job_updates_job ON job_updates (job_id);"
    },
    { 6, "handler output: what a handler answered, as jsonb",
      "ALTER TABLE results ADD COLUMN output jsonb;"
    },
    { 7, "counters that never go backwards: jobs.n_failed_total, shoal_counters",
      //  failed results ever stored: the current ones plus those `retry` moved
      "ALTER TABLE jobs ADD COLUMN n_failed_total bigint NOT NULL DEFAULT 0;"
      "UPDATE jobs j SET n_failed_total = j.n_failed"
      "  + (SELECT count(*) FROM attempts a WHERE a.job_id = j.id AND a.outcome = 'failed');"
      //  cluster-wide: histogram buckets and sums, HTTP status classes
      "CREATE TABLE shoal_counters ("
      "  name   text NOT NULL,"
      "  bucket int NOT NULL,"
      "  n      bigint NOT NULL DEFAULT 0,"
      "  PRIMARY KEY (name, bucket));"
    },
    { 8, "shoal delete: jobs whose rows are being deleted (a restarted broker finishes them)",
      "CREATE TABLE job_deletions ("
      "  job_id       int PRIMARY KEY,"
      "  name         text,"
      "  state        text,"
      "  requested_at timestamptz NOT NULL DEFAULT now());"
    },
    { 9, "results rows up to 8 KB stay whole in their heap page (toast_tuple_target)",
      //  a row over 2 KB (an HTTP body kept inline) was pglz-compressed and,
      //  when that did not shrink it, moved to the TOAST table: a second
      //  heap insert and a TOAST index entry per result, about a third of
      //  PostgreSQL's CPU per 2 KB HTTP task (docs/benchmarks.md)
      "ALTER TABLE results SET (toast_tuple_target = 8160);"
    },
    { 10, "leadership: one leader's lease and term; every broker write fenced by the term",
      //  one row: who leads, under which term (the epoch of its run), until when
      "CREATE TABLE shoal_leader ("
      "  id         int PRIMARY KEY CHECK (id = 1),"
      "  leader     text NOT NULL,"
      "  term       bigint NOT NULL,"
      "  since      timestamptz NOT NULL,"
      "  expires_at timestamptz NOT NULL);"
      "INSERT INTO shoal_leader VALUES (1, '', 0, now(), '-infinity');"
      //  the last result batch of each term stays, with its time: what a
      //  deposed leader committed after the takeover can be counted
      "ALTER TABLE shoal_batches ADD COLUMN written_at timestamptz NOT NULL DEFAULT now();"
      //  a broker session names its term in shoal.term; a statement of such
      //  a session on a broker table fails (SQLSTATE SHF01) once the term
      //  moved on. FOR KEY SHARE: the renewal (a non-key update) goes on
      //  beside the writes, a takeover (FOR UPDATE) waits for them.
      "CREATE FUNCTION shoal_fence() RETURNS trigger LANGUAGE plpgsql AS $$"
      " DECLARE t text := current_setting('shoal.term', true);"
      " BEGIN"
      "  IF t IS NULL OR t = '' THEN RETURN NULL; END IF;"
      "  PERFORM 1 FROM shoal_leader WHERE id = 1 AND term = t::bigint FOR KEY SHARE;"
      "  IF NOT FOUND THEN"
      "   RAISE EXCEPTION 'fenced: term % is no longer the leader''s', t USING ERRCODE = 'SHF01';"
      "  END IF;"
      "  RETURN NULL;"
      " END $$;"
      "CREATE TRIGGER shoal_fence BEFORE INSERT OR UPDATE OR DELETE ON jobs"
      "  FOR EACH STATEMENT EXECUTE FUNCTION shoal_fence();"
      "CREATE TRIGGER shoal_fence BEFORE INSERT OR UPDATE OR DELETE ON tasks"
      "  FOR EACH STATEMENT EXECUTE FUNCTION shoal_fence();"
      "CREATE TRIGGER shoal_fence BEFORE INSERT OR UPDATE OR DELETE ON results"
      "  FOR EACH STATEMENT EXECUTE FUNCTION shoal_fence();"
      "CREATE TRIGGER shoal_fence BEFORE INSERT OR UPDATE OR DELETE ON attempts"
      "  FOR EACH STATEMENT EXECUTE FUNCTION shoal_fence();"
      "CREATE TRIGGER shoal_fence BEFORE INSERT OR UPDATE OR DELETE ON shoal_batches"
      "  FOR EACH STATEMENT EXECUTE FUNCTION shoal_fence();"
      "CREATE TRIGGER shoal_fence BEFORE INSERT OR UPDATE OR DELETE ON job_updates"
      "  FOR EACH STATEMENT EXECUTE FUNCTION shoal_fence();"
      "CREATE TRIGGER shoal_fence BEFORE INSERT OR UPDATE OR DELETE ON shoal_counters"
      "  FOR EACH STATEMENT EXECUTE FUNCTION shoal_fence();"
      "CREATE TRIGGER shoal_fence BEFORE INSERT OR UPDATE OR DELETE ON job_deletions"
      "  FOR EACH STATEMENT EXECUTE FUNCTION shoal_fence();"
    },
    { 11, "items with their own steps: tasks.pipeline on the item's first task; items names their steps",
      //  the steps of an item that brought its own (its line's "steps"),
      //  on its first task only: NULL, and no cost, for every other row.
      //  The broker renders from the copy in each step's spec; this is
      //  what SQL reads (the items view's step names)
      "ALTER TABLE tasks ADD COLUMN pipeline jsonb;"
      "CREATE INDEX tasks_pipeline ON tasks (job_id) WHERE pipeline IS NOT NULL;"
      //  as in migration 4, the names from the item's own steps when it has
      //  them; a plain job's items are its lines with their own steps
      "CREATE OR REPLACE VIEW items AS"
      "  SELECT g.job_id, g.item, g.tasks, g.last_step,"
      "    coalesce(g.own, j.pipeline)->'steps'->g.last_step->>'name' AS step_name,"
      "    g.outcome, g.vars,"
      "    coalesce(g.own, j.pipeline)->'steps'->g.failed->>'name' AS failed_step,"
      "    g.error"
      "  FROM (SELECT t.job_id, coalesce(t.root, t.seq) AS item, count(*) AS tasks,"
      "      max(coalesce(t.step, 0)) AS last_step,"
      "      CASE WHEN bool_or(r.outcome = 'failed') THEN 'failed'"
      "           WHEN bool_or(r.outcome = 'cancelled') THEN 'cancelled'"
      "           WHEN bool_or(r.outcome IS NULL) THEN 'running'"
      "           ELSE 'complete' END AS outcome,"
      "      (array_agg(r.vars ORDER BY coalesce(t.step, 0) DESC, t.seq DESC)"
      "         FILTER (WHERE r.vars IS NOT NULL))[1] AS vars,"
      "      (array_agg(coalesce(t.step, 0) ORDER BY t.seq) FILTER (WHERE r.outcome = 'failed'))[1] AS failed,"
      "      (array_agg(r.error ORDER BY t.seq) FILTER (WHERE r.outcome IN ('failed', 'cancelled')))[1] AS error,"
      "      (array_agg(t.pipeline) FILTER (WHERE t.pipeline IS NOT NULL))[1] AS own"
      "    FROM tasks t LEFT JOIN results r ON r.job_id = t.job_id AND r.seq = t.seq"
      "    GROUP BY t.job_id, coalesce(t.root, t.seq)) g"
      "  JOIN jobs j ON j.id = g.job_id"
      "  WHERE j.pipeline IS NOT NULL OR g.own IS NOT NULL;"
    },
    { 12, "leased_term: the last term that handed out a lease",
      //  written by each term before its first lease (store_term.c). A
      //  new broker waits its recovery window only when a lease was handed
      //  out after the last clean stop. A database that existed before
      //  this counts every term so far as one that may have leased
      "INSERT INTO shoal_meta SELECT 'leased_term', value FROM shoal_meta WHERE key = 'epoch'"
      "  ON CONFLICT (key) DO NOTHING;"
    },
};

#define MIGRATION_COUNT (sizeof s_migrations / sizeof s_migrations[0])

int
schema_latest(void)
{
    return s_migrations[MIGRATION_COUNT - 1].version;
}

//  Run one command; on failure copy the server's message into err.
static int
s_exec(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(res));
        size_t n = strlen(err);
        while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = 0;
        rc = -1;
    }
    PQclear(res);
    return rc;
}

static int
s_current_version(PGconn *conn, int *version, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, "SELECT coalesce(max(version), 0) FROM shoal_schema");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "reading schema version: %s", PQresultErrorMessage(res));
        PQclear(res);
        return -1;
    }
    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int
schema_migrate(PGconn *conn, int *version, char *err, size_t errlen)
{
    int applied = 0;
    *version = 0;
    if (s_exec(conn,
               "CREATE TABLE IF NOT EXISTS shoal_schema ("
               "  version     int PRIMARY KEY,"
               "  description text NOT NULL,"
               "  applied_at  timestamptz NOT NULL DEFAULT now())", err, errlen))
        return -1;
    for (size_t i = 0; i < MIGRATION_COUNT; i++) {
        const migration_t *m = &s_migrations[i];
        //  each step in its own transaction, under a lock so that two
        //  brokers starting at once do not both apply it
        if (s_exec(conn, "BEGIN", err, errlen))
            return -1;
        if (s_exec(conn, "SELECT pg_advisory_xact_lock(7152001)", err, errlen)
        ||  s_current_version(conn, version, err, errlen)) {
            PQclear(PQexec(conn, "ROLLBACK"));
            return -1;
        }
        if (*version >= m->version) {
            s_exec(conn, "COMMIT", err, errlen);
            continue;
        }
        char step_err[1024];
        if (s_exec(conn, m->sql, step_err, sizeof step_err)) {
            snprintf(err, errlen, "migration %d (%s): %s", m->version, m->description, step_err);
            PQclear(PQexec(conn, "ROLLBACK"));
            return -1;
        }
        const char *params[2];
        char vbuf[16];
        snprintf(vbuf, sizeof vbuf, "%d", m->version);
        params[0] = vbuf;
        params[1] = m->description;
        PGresult *res = PQexecParams(conn,
            "INSERT INTO shoal_schema (version, description) VALUES ($1, $2)",
            2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(err, errlen, "recording migration %d: %s", m->version, PQresultErrorMessage(res));
            PQclear(res);
            PQclear(PQexec(conn, "ROLLBACK"));
            return -1;
        }
        PQclear(res);
        if (s_exec(conn, "COMMIT", err, errlen))
            return -1;
        *version = m->version;
        applied++;
    }
    return applied;
}
