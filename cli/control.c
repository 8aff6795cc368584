/*  control — shoal pause, resume, cancel and retry: one request each,
    answered with the job as it is after the change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "report.h"
#include "wire.h"

#define MAX_STATUSES 100
#define MAX_CLASSES  10

//  Parse a --status filter ("5xx,429", "503|504", "none") into HTTP
//  statuses and status classes (0 = no response). Returns 0, or -1 with
//  the offending word in err.
static int
s_parse_status_filter(const char *text, uint32_t *statuses, size_t *n_statuses, uint32_t *classes,
                      size_t *n_classes, char *err, size_t errlen)
{
    char *buf = strdup(text);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",| ", &save); tok; tok = strtok_r(NULL, ",| ", &save)) {
        size_t len = strlen(tok);
        bool is_class = len == 3 && tok[0] >= '1' && tok[0] <= '5' && (tok[1] == 'x' || tok[1] == 'X')
                     && (tok[2] == 'x' || tok[2] == 'X');
        bool is_none = !strcmp(tok, "none") || !strcmp(tok, "0");
        if (is_class || is_none) {
            if (*n_classes >= MAX_CLASSES) {
                snprintf(err, errlen, "too many classes");
                rc = -1;
                break;
            }
            uint32_t c = is_none ? 0 : (uint32_t) (tok[0] - '0');
            bool seen = false;
            for (size_t i = 0; i < *n_classes; i++)
                seen = seen || classes[i] == c;
            if (!seen)
                classes[(*n_classes)++] = c;
            continue;
        }
        char *end;
        long v = strtol(tok, &end, 10);
        if (*end || v < 100 || v > 599) {
            snprintf(err, errlen, "'%s' is not an HTTP status (100..599), a class (4xx, 5xx) or 'none'", tok);
            rc = -1;
            break;
        }
        if (*n_statuses >= MAX_STATUSES) {
            snprintf(err, errlen, "at most %d statuses", MAX_STATUSES);
            rc = -1;
            break;
        }
        statuses[(*n_statuses)++] = (uint32_t) v;
    }
    if (rc == 0 && *n_statuses + *n_classes == 0) {
        snprintf(err, errlen, "no status given");
        rc = -1;
    }
    free(buf);
    return rc;
}

//  The help of one control subcommand: what it does, and examples.
static void
s_help(Shoal__ControlAction action, const char **description, const char **epilog)
{
    *description =
        action == SHOAL__CONTROL_ACTION__CONTROL_PAUSE
        ? "Stop handing out the job's tasks; tasks already running finish and their\n"
          "results are kept. 'shoal resume JOB' goes on."
      : action == SHOAL__CONTROL_ACTION__CONTROL_RESUME
        ? "Hand out a paused job's tasks again."
      : action == SHOAL__CONTROL_ACTION__CONTROL_CANCEL
        ? "Cancel the job: tasks not yet run get a 'cancelled' result, running ones are\n"
          "aborted. Results already stored stay. A cancelled job cannot be resumed."
        : "Run the job's failed tasks again, each with a fresh attempt budget; a job that\n"
          "was done becomes active again. Prints how many tasks were requeued.";
    *epilog =
        action == SHOAL__CONTROL_ACTION__CONTROL_PAUSE ? "Examples:\n  shoal pause 3\n  shoal -o json pause 3 | jq .state"
      : action == SHOAL__CONTROL_ACTION__CONTROL_RESUME ? "Examples:\n  shoal resume 3"
      : action == SHOAL__CONTROL_ACTION__CONTROL_CANCEL ? "Examples:\n  shoal cancel 3"
      : "Examples:\n  shoal retry 3\n  shoal retry 3 --failed --status 5xx,429\n"
        "  shoal retry 3 --status none            # only tasks that got no response\n"
        "  shoal retry 3 && shoal status 3 --wait";
}

int
cmd_control(cli_globals_t *g, int argc, char **argv)
{
    const char *name = argv[0];
    const char *status_filter = NULL;
    bool failed = false;
    opt_t retry_opts[] = {
        { "failed", 0, NULL, OPT_BOOL, &failed, NULL, "retry the failed tasks (the default; cancelled tasks are not retried)" },
        { "status", 's', NULL, OPT_STRING, &status_filter, "LIST",
          "only failed tasks whose last HTTP status is in LIST: statuses, classes and\n"
          "                                 'none' (no response: timeouts, connection errors, non-HTTP tasks)\n"
          "                                 separated by ',' or '|', e.g. 5xx,429 or '503|none'" },
        { NULL }
    };
    opt_t none[] = { { NULL } };
    char prog[64];
    snprintf(prog, sizeof prog, "shoal %s", name);
    Shoal__ControlAction action = !strcmp(name, "pause") ? SHOAL__CONTROL_ACTION__CONTROL_PAUSE
                                : !strcmp(name, "resume") ? SHOAL__CONTROL_ACTION__CONTROL_RESUME
                                : !strcmp(name, "cancel") ? SHOAL__CONTROL_ACTION__CONTROL_CANCEL
                                : SHOAL__CONTROL_ACTION__CONTROL_RETRY;
    bool retry = action == SHOAL__CONTROL_ACTION__CONTROL_RETRY;
    const char *description, *epilog;
    s_help(action, &description, &epilog);
    config_t cfg = { .prog = prog, .usage = retry ? "JOB [--failed] [--status LIST]" : "JOB",
                     .opts = retry ? retry_opts : none, .description = description, .epilog = epilog };
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (cfg.positional_count != 1) {
        fprintf(stderr, "%s: expected one JOB (see %s --help)\n", prog, prog);
        config_free(&cfg);
        return EXIT_USAGE;
    }
    uint32_t job_id = cli_job_id(prog, cfg.positional[0]);
    config_free(&cfg);
    if (!job_id)
        return EXIT_USAGE;
    uint32_t statuses[MAX_STATUSES], classes[MAX_CLASSES];
    size_t n_statuses = 0, n_classes = 0;
    char err[1024];
    if (status_filter
    &&  s_parse_status_filter(status_filter, statuses, &n_statuses, classes, &n_classes, err, sizeof err)) {
        fprintf(stderr, "%s: --status: %s (e.g. --status 5xx,429,none)\n", prog, err);
        return EXIT_USAGE;
    }
    int code = EXIT_OK;
    client_t *client = cli_connect(g, prog, &code);
    if (!client)
        return code;
    Shoal__JobControl jc = SHOAL__JOB_CONTROL__INIT;
    jc.has_job_id = jc.has_action = 1;
    jc.job_id = job_id;
    jc.action = action;
    jc.retry_status = statuses;
    jc.n_retry_status = n_statuses;
    jc.retry_class = classes;
    jc.n_retry_class = n_classes;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_CONTROL;
    req.job_control = &jc;
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
    client_destroy(&client);
    if (!reply) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return code;
    }
    Shoal__ControlReply *cr = reply->body_case == SHOAL__ENVELOPE__BODY_CONTROL_REPLY ? reply->control_reply : NULL;
    unsigned long long affected = cr ? (unsigned long long) cr->affected : 0;
    if (g->json) {
        json_t *o = cr && cr->job && cr->job->has_id ? report_job_json(cr->job) : json_object();
        json_object_set_new(o, "id", json_integer(job_id));
        json_object_set_new(o, "action", json_string(name));
        json_object_set_new(o, "affected", json_integer((json_int_t) affected));
        char *text = json_dumps(o, JSON_COMPACT);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
    }
    else
    if (action == SHOAL__CONTROL_ACTION__CONTROL_CANCEL)
        printf("job %u cancelled (%llu tasks not yet run)\n", job_id, affected);
    else
    if (retry && affected == 0)
        printf("job %u: no failed tasks%s; nothing to retry\n", job_id, status_filter ? " match --status" : "");
    else
    if (retry)
        printf("job %u: %llu failed tasks queued again\n", job_id, affected);
    else
        printf("job %u %s\n", job_id, action == SHOAL__CONTROL_ACTION__CONTROL_PAUSE ? "paused" : "resumed");
    wire_free(reply);
    return EXIT_OK;
}
