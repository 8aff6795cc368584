/*  monitor — shared state of shoal-monitor (internal header).

    main.c      flags; chooses the full screen or lines
    link.c      the sockets to the broker: snapshots, events, requests,
                whether the broker is reachable
    plain.c     --plain (a line per job per interval) and --json output,
                and the loop that prints them
    state.c     the model the full screen shows: the latest snapshot, the
                selected job, the rate history, the event tail, a message
    control.c   pause/resume/cancel/retry sent to the broker, and their replies
    view.c      drawing the model with ncurses
    tui.c       the full-screen loop: sockets + keyboard + resize, no threads
*/
#ifndef SHOAL_MONITOR_H
#define SHOAL_MONITOR_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "shoal.pb-c.h"

typedef struct {
    const char *broker;         //  frontend endpoint (snapshots, control)
    const char *progress;       //  PUB endpoint
    bool        plain;
    bool        json;
    int64_t     interval_ms;    //  --plain: at most one line per job per interval
    int64_t     timeout_ms;     //  the broker counts as lost after this silence
    const keys_t *keys;         //  CURVE client keys (borrowed), NULL: plaintext;
                                //  keys_apply() on both sockets before connecting
} monitor_config_t;

//  ---- link.c
typedef struct _link_t link_t;

typedef enum {
    LINK_NONE,                  //  nothing changed
    LINK_UP,                    //  the broker was silent (or never heard) and spoke
    LINK_DOWN                   //  the broker fell silent for the timeout
} link_change_t;

//  Connect SUB to `progress` and a DEALER to `broker`. NULL with a reason
//  in err on a bad endpoint.
link_t *link_new(const char *broker, const char *progress, int64_t timeout_ms, const keys_t *keys,
                 char *err, size_t errlen);
//  Close the sockets; accepts NULL and NULLs the pointer.
void link_destroy(link_t **self_p);
//  The raw sockets, for zmq_poll.
void *link_sub(link_t *self);
void *link_dealer(link_t *self);
//  True when a message is waiting on a socket (poll said so, or a backlog).
bool link_pending(void *socket);
//  Receive one message from the SUB or the DEALER without waiting. NULL when
//  nothing was there or the frame failed validation. Caller wire_free()s.
Shoal__Envelope *link_recv(link_t *self, void *socket);
//  Send a request on the DEALER without waiting; sets a fresh correlation
//  id and returns it, or 0 when the broker is not connected.
uint64_t link_send(link_t *self, Shoal__Envelope *env);
//  Ask the frontend for a snapshot (the reply comes on the DEALER).
uint64_t link_ask_snapshot(link_t *self, int64_t now_ms);
//  Update reachability at now_ms and ask for a snapshot while the broker is
//  silent (once a second). Returns what changed.
link_change_t link_check(link_t *self, int64_t now_ms);
//  The process did not run for ms (stopped, suspended): that time is not
//  the broker's silence.
void link_stalled(link_t *self, int64_t ms);
//  When link_check next has something to do (monotonic ms).
int64_t link_next_deadline(const link_t *self);
//  The broker was heard from within the timeout (as of the last link_check).
bool link_up(const link_t *self);
//  The broker was reachable at least once.
bool link_ever_up(const link_t *self);
//  Monotonic ms of the last message, 0 if none.
int64_t link_last_heard(const link_t *self);

//  ---- plain.c
//  Run --plain or --json until SIGINT/SIGTERM; returns the exit code.
int lines_run(const monitor_config_t *cfg, volatile sig_atomic_t *stop);
//  Print an event as a plain line.
void plain_event(const monitor_config_t *cfg, const Shoal__Event *event);
//  Print a line saying the broker is unreachable / back.
void plain_broker(const monitor_config_t *cfg, bool up);
//  A snapshot, an event, a change of reachability as one JSON line each.
void json_snapshot(const Shoal__Snapshot *snap);
void json_event(const Shoal__Event *event);
void json_broker(bool up);

//  ---- state.c
#define STATE_EVENTS     200        //  event lines kept
#define STATE_HISTORY    1800       //  rate history buckets kept (an hour)
#define STATE_BUCKET_MS  2000       //  one sparkline column

//  The monitor's own notes in the event tail use kinds above the protocol's.
#define NOTE_INFO        100
#define NOTE_WARN        101

typedef struct {
    int64_t  time_us;               //  wall time it happened (the latest, if repeated)
    int      kind;                  //  Shoal__EventType or NOTE_*
    uint32_t job_id;                //  the job it is about, 0 if none
    uint32_t repeats;               //  more like it folded into this line (task failures)
    char     text[240];             //  printable, one line (the latest, if repeated)
} state_event_t;

typedef struct {
    int64_t  bucket;                //  wall time / STATE_BUCKET_MS this slot holds
    double   sum;                   //  sum of cluster rates seen in it
    uint32_t n;                     //  snapshots seen in it
} state_bucket_t;

typedef struct {
    Shoal__Envelope *env;           //  the latest snapshot's envelope (owned)
    const Shoal__Snapshot *snap;    //  env's snapshot; NULL before the first
    int64_t  snap_ms;               //  monotonic time it arrived
    uint64_t epoch;                 //  broker epoch of the latest snapshot
    uint32_t selected;              //  selected job id, 0 for none
    int      selected_row;          //  its row, for when it disappears
    bool     pinned;                //  the user chose it: it no longer follows the top row
    state_event_t events[STATE_EVENTS];     //  ring of the event tail
    size_t   events_next;           //  slot the next event goes to
    size_t   n_events;              //  events held (<= STATE_EVENTS)
    state_bucket_t history[STATE_HISTORY];  //  ring of the cluster rate
    char     message[256];          //  the latest answer or complaint, for the footer
    bool     message_bad;           //  the message is an error
    int64_t  message_ms;            //  monotonic time it was set
} state_t;

//  A new, empty model. NULL on allocation failure.
state_t *state_new(void);
//  Free the model and its snapshot; accepts NULL and NULLs the pointer.
void state_destroy(state_t **self_p);
//  Take a snapshot envelope (ownership moves; *env_p becomes NULL). An
//  older snapshot than the one shown (a late reply) is dropped. Orders the
//  jobs (unfinished first, newest first) and workers (by id), records the
//  cluster rate, notes a broker restart.
void state_apply_snapshot(state_t *self, Shoal__Envelope **env_p, int64_t now_ms);
//  Add a broker event to the tail. A task failure of the same job for the
//  same reason as the newest line is folded into it (counted in repeats).
void state_add_event(state_t *self, const Shoal__Event *event);
//  Add the monitor's own note to the tail.
void state_note(state_t *self, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
//  Set the footer message.
void state_message(state_t *self, bool bad, int64_t now_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
//  The i-th newest event (0 = newest), NULL past the end.
const state_event_t *state_event(const state_t *self, size_t i);
//  The selected job in the latest snapshot, NULL if none.
const Shoal__JobInfo *state_selected_job(const state_t *self);
//  Index of the selected job in snap->jobs, -1 if none.
int state_selected_index(const state_t *self);
//  Move the selection by delta rows (clamped); it stays on that job.
void state_select_move(state_t *self, int delta);
//  Keep the selection on its job from now on (the user acted on it).
void state_pin(state_t *self);
//  Fill out[0..n) with the mean cluster rate of the n buckets ending at the
//  broker's "now"; have[i] false where no snapshot arrived. Returns the
//  largest value. now_ms is the monitor's monotonic time.
double state_history(const state_t *self, int64_t now_ms, size_t n, double *out, bool *have);

//  ---- control.c
typedef struct _control_t control_t;

//  Job control over the link; answers land in the state's message.
control_t *control_new(link_t *link, state_t *state);
//  Free it; accepts NULL and NULLs the pointer.
void control_destroy(control_t **self_p);
//  Ask the broker to pause/resume/cancel/retry a job. Returns 0 when sent,
//  -1 when not (the reason is in the state's message).
int control_request(control_t *self, uint32_t job_id, Shoal__ControlAction action, int64_t now_ms);
//  A reply arrived on the DEALER: if it answers one of our requests, say
//  what happened and return true.
bool control_on_reply(control_t *self, const Shoal__Envelope *env, int64_t now_ms);
//  Give up on requests without an answer for too long.
void control_expire(control_t *self, int64_t now_ms);

//  ---- view.c
typedef struct {
    bool     show_jobs;             //  panes the user has not hidden
    bool     show_detail;
    bool     show_workers;
    bool     show_events;
    bool     help;                  //  the help box is open
    uint32_t confirm_cancel;        //  job awaiting y/n before a cancel, 0 for none
    bool     color;                 //  colours in use (NO_COLOR unset, terminal has them)
    bool     utf8;                  //  the locale can show block glyphs
    int      job_top;               //  first job row shown when they do not all fit
} view_t;

//  Set up colours (unless NO_COLOR or the terminal has none) after initscr.
void view_init(view_t *view);
//  Draw the whole screen from the model and refresh it.
void view_draw(view_t *view, const state_t *state, const link_t *link, const monitor_config_t *cfg,
               int64_t now_ms);

//  ---- tui.c
//  Run the full-screen view until q or a signal; returns the exit code.
int tui_run(const monitor_config_t *cfg, volatile sig_atomic_t *stop);

#endif
