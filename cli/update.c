/*  update — shoal update: change a running job's defaults (headers and
    cookies, timeouts, retry policy, per-host limits, priority). The flags
    mean what they mean for shoal submit (submit_opts.c builds the change). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "report.h"
#include "submit.h"
#include "wire.h"

//  The flags of shoal update, pointing into o.
static void
s_options(submit_opts_t *o, opt_t *opts, size_t room)
{
    const opt_t table[] = {
        { "header", 'H', NULL, OPT_LIST, &o->headers, "'N: V'", "HTTP header; replaces the job's header of that name (repeatable)" },
        { "timeout-ms", 0, NULL, OPT_INT, &o->timeout_ms, "MS", "task timeout" },
        { "connect-timeout-ms", 0, NULL, OPT_INT, &o->connect_timeout_ms, "MS", "HTTP connect timeout" },
        { "max-attempts", 0, NULL, OPT_INT, &o->max_attempts, "N", "attempts per task" },
        { "backoff-ms", 0, NULL, OPT_INT, &o->backoff_ms, "MS", "first retry delay, doubling" },
        { "backoff-max-ms", 0, NULL, OPT_INT, &o->backoff_max_ms, "MS", "longest retry delay" },
        { "retry-status", 0, NULL, OPT_STRING, &o->retry_status, "LIST", "HTTP statuses to retry (replaces the list)" },
        { "per-host", 0, NULL, OPT_INT, &o->per_host, "N", "at most N requests at once per target host (0: no limit)" },
        { "rate-per-host", 0, NULL, OPT_DOUBLE, &o->rate_per_host, "R", "at most R requests per second per host (0: no limit)" },
        { "priority", 'p', NULL, OPT_INT, &o->priority, "N", "share weight against other jobs, 1..1000" },
        { NULL }
    };
    size_t n = sizeof table / sizeof table[0];
    memcpy(opts, table, (n < room ? n : room) * sizeof *opts);
}

//  Print the answer: the job as it is now.
static void
s_print(cli_globals_t *g, uint32_t job_id, const Shoal__ControlReply *cr)
{
    if (g->json) {
        json_t *o = cr && cr->job && cr->job->has_id ? report_job_json(cr->job) : json_object();
        json_object_set_new(o, "id", json_integer(job_id));
        json_object_set_new(o, "action", json_string("update"));
        char *text = json_dumps(o, JSON_COMPACT);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
        return;
    }
    const char *note = cr && cr->job && cr->job->last_update ? cr->job->last_update : "";
    printf("job %u updated: %s (tasks dispatched from now on use it)\n", job_id, note);
}

int
cmd_update(cli_globals_t *g, int argc, char **argv)
{
    const char *prog = "shoal update";
    submit_opts_t o = {
        .priority = 0, .max_attempts = -1, .backoff_ms = -1, .backoff_max_ms = -1, .timeout_ms = -1,
        .per_host = -1, .connect_timeout_ms = -1, .max_redirects = -1, .max_response_bytes = -1,
        .inline_limit = -1, .rate_per_host = -1,
    };
    opt_t opts[16];
    s_options(&o, opts, 16);
    config_t cfg = { .prog = prog, .usage = "JOB [options]", .opts = opts,
        .description =
            "Change a job's defaults while it runs. Tasks handed out after the update\n"
            "use the new values; tasks already at a worker finish with the old ones. The\n"
            "change is stored with the job (a broker restart keeps it), logged, and\n"
            "'shoal status JOB' shows when and what changed (header names, not values).\n"
            "Failed tasks can then be run again: shoal retry JOB --status 401,403.",
        .epilog =
            "Examples:\n"
            "  shoal update 3 -H 'Cookie: session=fresh'\n"
            "  shoal update 3 --timeout-ms 5000 --max-attempts 5 --rate-per-host 2\n"
            "  shoal update 3 -H 'Cookie: session=fresh' && shoal retry 3 --status 401" };
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    uint32_t job_id = 0;
    if (cfg.positional_count != 1)
        fprintf(stderr, "%s: expected one JOB (see %s --help)\n", prog, prog);
    else
        job_id = cli_job_id(prog, cfg.positional[0]);
    int code = EXIT_USAGE;
    char err[1024];
    Shoal__JobDefaults *d = NULL;
    if (!job_id)
        goto done;
    if (o.priority < 0 || o.priority > 1000) {
        fprintf(stderr, "%s: --priority: %lld is not in 1..1000\n", prog, (long long) o.priority);
        goto done;
    }
    d = submit_defaults(&o, err, sizeof err);
    if (!d) {
        fprintf(stderr, "%s: %s\n", prog, err);
        goto done;
    }
    if (shoal__job_defaults__get_packed_size(d) == 0 && o.priority == 0) {
        fprintf(stderr, "%s: nothing to change (see %s --help)\n", prog, prog);
        goto done;
    }
    client_t *client = cli_connect(g, prog, &code);
    if (!client)
        goto done;
    Shoal__JobUpdate up = SHOAL__JOB_UPDATE__INIT;
    up.has_job_id = 1;
    up.job_id = job_id;
    up.defaults = d;
    up.has_priority = o.priority > 0;
    up.priority = (uint32_t) o.priority;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_UPDATE;
    req.job_update = &up;
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
    client_destroy(&client);
    if (!reply) {
        fprintf(stderr, "%s: %s\n", prog, err);
        goto done;
    }
    s_print(g, job_id, reply->body_case == SHOAL__ENVELOPE__BODY_CONTROL_REPLY ? reply->control_reply : NULL);
    wire_free(reply);
    code = EXIT_OK;
done:
    if (d)
        shoal__job_defaults__free_unpacked(d, NULL);
    config_free(&cfg);          //  and the header list
    return code;
}
