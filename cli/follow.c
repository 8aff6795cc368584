/*  follow — follow a job until it ends: `shoal status --watch`, `shoal
    status --wait` and `shoal submit --wait`.

    People on a terminal get a redrawn screen (watch) or one progress line
    rewritten in place on stderr (wait); pipes get plain lines (watch) or
    nothing but the summary (wait); -o json gets one JSON object per line.
    A broker that answered once and then stops answering (a restart) is
    asked again for a while; one that never answered is an error at once. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "report.h"
#include "text.h"
#include "wire.h"

static volatile sig_atomic_t s_interrupt = 0;

static void
s_on_sigint(int sig)
{
    (void) sig;
    s_interrupt = 1;
    signal(SIGINT, SIG_DFL);        //  a second Ctrl-C ends the process
}

void
cli_catch_interrupt(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

bool
cli_interrupted(void)
{
    return s_interrupt != 0;
}

//  Sleep up to ms, waking early on Ctrl-C.
static void
s_nap(int64_t ms)
{
    int64_t until = clock_mono_ms() + ms;
    while (!s_interrupt) {
        int64_t left = until - clock_mono_ms();
        if (left <= 0)
            break;
        usleep((useconds_t) (left > 100 ? 100 : left) * 1000);
    }
}

static void
s_clock(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(buf, size, "%H:%M:%S", &tm);
}

typedef struct {
    cli_globals_t *g;
    const cli_follow_t *how;
    bool     screen;        //  watch: redraw a terminal
    bool     line;          //  wait: progress line on a terminal (stderr)
    bool     drawn;         //  the screen was cleared once
    bool     lost;          //  the broker stopped answering (said once in a pipe)
    char    *last;          //  last status text drawn (watch, a pipe)
    int64_t  loss_ms;       //  how long a broker that answered before may be silent
} follow_t;

//  Redraw the terminal: home, each line cleared to its end, rest cleared.
static void
s_draw_screen(follow_t *f, const Shoal__JobInfo *j, const char *note)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return;
    char now[16];
    s_clock(now, sizeof now);
    fprintf(mem, "shoal status %u --watch   %s   every %.1fs, Ctrl-C to stop\n\n", j->id, now,
            (double) f->how->interval_ms / 1000.0);
    cli_print_job(f->g, mem, j);
    if (note)
        fprintf(mem, "\n%s\n", note);
    fclose(mem);
    fputs(f->drawn ? "\033[H" : "\033[?25l\033[H\033[2J", stdout);
    f->drawn = true;
    for (char *p = text, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl) {
            fprintf(stdout, "%s\033[K", p);
            break;
        }
        fwrite(p, 1, (size_t) (nl - p), stdout);
        fputs("\033[K\n", stdout);
    }
    fputs("\033[J", stdout);
    fflush(stdout);
    free(text);
}

//  Show one status: redraw, a line, or a JSON object, depending on mode.
static void
s_show(follow_t *f, const Shoal__JobInfo *j, bool finished)
{
    if (f->how->quiet)
        return;
    if (f->how->watch) {
        if (f->g->json) {
            cli_print_job(f->g, stdout, j);
            fflush(stdout);
        }
        else
        if (f->screen)
            s_draw_screen(f, j, finished ? "the job has ended" : NULL);
        else {
            //  a pipe: a timestamped line when something changed, the
            //  whole block at the end
            char line[512], now[16];
            cli_progress_line(j, line, sizeof line);
            if (!f->last || strcmp(f->last, line)) {
                s_clock(now, sizeof now);
                printf("%s  %s\n", now, line);
                free(f->last);
                f->last = strdup(line);
            }
            if (finished) {
                printf("\n");
                cli_print_job(f->g, stdout, j);
            }
            fflush(stdout);
        }
        return;
    }
    if (f->line) {
        char line[512];
        cli_progress_line(j, line, sizeof line);
        fprintf(stderr, "\r\033[K%s%s", line, finished ? "\n" : "");
    }
}

//  The broker is not answering: say so where the progress shows.
static void
s_show_lost(follow_t *f, const char *err, int64_t lost_ms)
{
    char note[1200];
    snprintf(note, sizeof note, "%s: %s; asking again (%llds of %llds)", f->how->prog, err,
             (long long) (lost_ms / 1000), (long long) (f->loss_ms / 1000));
    if (f->how->quiet)
        return;
    if (f->screen) {
        fputs(f->drawn ? "\033[H" : "\033[H\033[2J", stdout);
        f->drawn = true;
        printf("%s\033[K\n\033[J", note);
        fflush(stdout);
    }
    else
    if (f->line)
        fprintf(stderr, "\r\033[K%s", note);
    else
    if (!f->lost)
        fprintf(stderr, "%s\n", note);
    f->lost = true;
}

int
cli_follow_job(cli_globals_t *g, client_t *client, uint32_t job_id, const cli_follow_t *how)
{
    follow_t f = {
        .g = g, .how = how,
        .screen = how->watch && !g->json && isatty(1),
        .line = !how->watch && isatty(2),
        .loss_ms = g->timeout_ms * CLI_BROKER_LOSS_TIMEOUTS,
    };
    cli_catch_interrupt();
    int64_t last_answer = 0;        //  0: the broker never answered
    int rc = EXIT_OK;
    while (true) {
        if (s_interrupt) {
            rc = EXIT_INTERRUPTED;
            break;
        }
        int code = 0;
        char err[1024];
        Shoal__Envelope *reply = cli_get_status(client, job_id, err, sizeof err, &code);
        if (!reply) {
            int64_t now = clock_mono_ms();
            if (code == EXIT_UNREACHABLE && last_answer && now - last_answer < f.loss_ms) {
                s_show_lost(&f, err, now - last_answer);
                s_nap(how->interval_ms);
                continue;
            }
            if (f.line || f.screen)
                fprintf(f.line ? stderr : stdout, f.line ? "\r\033[K" : "\033[?25h\n");
            f.line = f.screen = false;
            if (code == EXIT_UNREACHABLE && last_answer)
                fprintf(stderr, "%s: no answer from the broker at %s for %llds; job %u keeps running"
                        " there ('shoal status %u' later)\n", how->prog, g->broker,
                        (long long) (f.loss_ms / 1000), job_id, job_id);
            else
                fprintf(stderr, "%s: %s\n", how->prog, err);
            rc = code;
            break;
        }
        last_answer = clock_mono_ms();
        if (f.lost && !f.line && !f.screen && !how->quiet)
            fprintf(stderr, "%s: the broker answers again\n", how->prog);
        f.lost = false;
        const Shoal__JobInfo *j = reply->status_reply->job;
        bool finished = j->state == SHOAL__JOB_STATE__JOB_DONE || j->state == SHOAL__JOB_STATE__JOB_CANCELLED;
        s_show(&f, j, finished);
        if (finished) {
            if (how->wait)
                rc = j->failed || j->state == SHOAL__JOB_STATE__JOB_CANCELLED ? EXIT_FAILURES : EXIT_OK;
            if (!how->watch && !how->quiet) {
                if (g->json)
                    cli_print_job(g, stdout, j);
                else
                    fprintf(stderr, "job %u %s: %llu ok, %llu failed, %llu cancelled\n", j->id,
                            report_state_name(j->state), (unsigned long long) j->ok,
                            (unsigned long long) j->failed, (unsigned long long) j->cancelled);
            }
            wire_free(reply);
            break;
        }
        wire_free(reply);
        s_nap(how->interval_ms);
    }
    if (f.screen && f.drawn)
        fputs("\033[?25h", stdout);
    if (rc == EXIT_INTERRUPTED) {
        if (f.line)
            fputs("\n", stderr);
        fprintf(stderr, "%s: stopped following job %u; it keeps running ('shoal status %u')\n",
                how->prog, job_id, job_id);
    }
    fflush(stdout);
    free(f.last);
    return rc;
}
