/*  tui — the full-screen monitor's loop.

    One thread, one zmq_poll over the SUB socket, the DEALER and the
    terminal (fd 0). The screen is redrawn when a snapshot or event
    arrives, after a key, after a resize, and once a second (ages and the
    "unreachable for" counter move). SIGWINCH only sets a flag; the loop
    reads the new size and ncurses hands a KEY_RESIZE to the key handler.
    A backlog (after ^Z, or a slow terminal) is read in bounded batches and
    drawn once. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <ncurses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <zmq.h>

#include "clock.h"
#include "monitor.h"
#include "wire.h"

#define BATCH_MAX   1000        //  messages read per socket per turn
#define TICK_MS     1000        //  redraw at least this often
#define STALL_MS    500         //  a poll this late means the process was stopped

static volatile sig_atomic_t s_resized = 0;

//  SIGWINCH: only a flag; the loop does the work.
static void
s_on_winch(int sig)
{
    s_resized = 1;
}

typedef struct {
    const monitor_config_t *cfg;
    link_t    *link;
    state_t   *state;
    control_t *control;
    view_t     view;
    bool       quit;            //  q was pressed
    bool       dirty;           //  the screen needs a redraw
    bool       tty_gone;        //  the terminal hung up
    bool       met;             //  the broker was reachable before
} tui_t;

//  The terminal changed size: tell ncurses, which queues KEY_RESIZE.
static void
s_resize(tui_t *self)
{
    struct winsize ws;
    if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0
    &&  (ws.ws_row != LINES || ws.ws_col != COLS))
        resizeterm(ws.ws_row, ws.ws_col);
    self->dirty = true;
}

//  Pause, resume, retry: checked against what the screen shows, then sent.
static void
s_control(tui_t *self, Shoal__ControlAction action, int64_t now)
{
    const Shoal__JobInfo *j = state_selected_job(self->state);
    if (!j) {
        state_message(self->state, true, now, "no job selected");
        return;
    }
    const char *why = NULL;
    switch (action) {
        case SHOAL__CONTROL_ACTION__CONTROL_PAUSE:
            why = j->state == SHOAL__JOB_STATE__JOB_PAUSED ? "is already paused"
                : j->state != SHOAL__JOB_STATE__JOB_ACTIVE ? "is finished" : NULL;
            break;
        case SHOAL__CONTROL_ACTION__CONTROL_RESUME:
            why = j->state == SHOAL__JOB_STATE__JOB_ACTIVE ? "is not paused"
                : j->state != SHOAL__JOB_STATE__JOB_PAUSED ? "is finished" : NULL;
            break;
        case SHOAL__CONTROL_ACTION__CONTROL_CANCEL:
            why = j->state == SHOAL__JOB_STATE__JOB_DONE || j->state == SHOAL__JOB_STATE__JOB_CANCELLED
                ? "is finished" : NULL;
            break;
        case SHOAL__CONTROL_ACTION__CONTROL_RETRY:
            why = j->state == SHOAL__JOB_STATE__JOB_CANCELLED ? "is cancelled"
                : j->failed == 0 ? "has no failed tasks" : NULL;
            break;
        default:
            break;
    }
    state_pin(self->state);
    if (why) {
        state_message(self->state, true, now, "job %u %s", j->id, why);
        return;
    }
    if (action == SHOAL__CONTROL_ACTION__CONTROL_CANCEL) {
        self->view.confirm_cancel = j->id;
        return;
    }
    control_request(self->control, j->id, action, now);
}

//  One key: the y/N prompt and the help box take it first.
static void
s_on_key(tui_t *self, int ch, int64_t now)
{
    view_t *v = &self->view;
    self->dirty = true;
    if (ch == KEY_RESIZE)
        return;
    if (v->confirm_cancel) {
        uint32_t job = v->confirm_cancel;
        v->confirm_cancel = 0;
        if (ch == 'y' || ch == 'Y')
            control_request(self->control, job, SHOAL__CONTROL_ACTION__CONTROL_CANCEL, now);
        else
            state_message(self->state, false, now, "job %u not cancelled", job);
        return;
    }
    if (v->help) {
        v->help = false;
        if (ch != 'q')
            return;
    }
    int page = LINES > 12 ? LINES / 3 : 4;
    switch (ch) {
        case 'q': case 'Q':
            self->quit = true;
            break;
        case KEY_UP:    state_select_move(self->state, -1); break;
        case KEY_DOWN:  case '\t': state_select_move(self->state, 1); break;
        case KEY_PPAGE: state_select_move(self->state, -page); break;
        case KEY_NPAGE: state_select_move(self->state, page); break;
        case KEY_HOME:  state_select_move(self->state, -1000000); break;
        case KEY_END:   state_select_move(self->state, 1000000); break;
        case 'p': s_control(self, SHOAL__CONTROL_ACTION__CONTROL_PAUSE, now); break;
        case 'r': s_control(self, SHOAL__CONTROL_ACTION__CONTROL_RESUME, now); break;
        case 'c': s_control(self, SHOAL__CONTROL_ACTION__CONTROL_CANCEL, now); break;
        case 'R': s_control(self, SHOAL__CONTROL_ACTION__CONTROL_RETRY, now); break;
        case 'j': v->show_jobs = !v->show_jobs; break;
        case 'd': v->show_detail = !v->show_detail; break;
        case 'w': v->show_workers = !v->show_workers; break;
        case 'e': v->show_events = !v->show_events; break;
        case '?': case 'h': v->help = true; break;
        case 12:  //  Ctrl-L
            clearok(curscr, TRUE);
            break;
        default:
            self->dirty = false;
            break;
    }
}

//  Read what the broker sent, a bounded batch per socket.
static void
s_read_sockets(tui_t *self)
{
    for (int i = 0; i < 2; i++) {
        void *socket = i == 0 ? link_sub(self->link) : link_dealer(self->link);
        for (int n = 0; n < BATCH_MAX && link_pending(socket); n++) {
            Shoal__Envelope *env = link_recv(self->link, socket);
            if (!env)
                continue;
            int64_t now = clock_mono_ms();
            self->dirty = true;
            if (env->body_case == SHOAL__ENVELOPE__BODY_SNAPSHOT)
                state_apply_snapshot(self->state, &env, now);
            else
            if (env->body_case == SHOAL__ENVELOPE__BODY_EVENT)
                state_add_event(self->state, env->event);
            else
            if (i == 1)
                control_on_reply(self->control, env, now);
            wire_free(env);
        }
    }
}

//  Every key waiting on the terminal.
static void
s_read_keys(tui_t *self)
{
    int ch;
    while ((ch = getch()) != ERR)
        s_on_key(self, ch, clock_mono_ms());
}

//  The broker's reachability after what was just read: a backlog read
//  after ^Z counts as hearing from it, not as a silence.
static void
s_check_link(tui_t *self, int64_t now)
{
    link_change_t change = link_check(self->link, now);
    if (change == LINK_DOWN) {
        state_note(self->state, NOTE_WARN, "broker unreachable: nothing heard for %lld ms; retrying",
                   (long long) self->cfg->timeout_ms);
        self->dirty = true;
    }
    if (change == LINK_UP) {
        if (self->met)
            state_note(self->state, NOTE_INFO, "broker reachable again");
        else
            state_note(self->state, NOTE_INFO, "connected to %s", self->cfg->broker);
        self->met = true;
        self->dirty = true;
    }
}

//  Draw when needed, wait for the sockets, the keyboard or the next
//  deadline, read what came; until q, a signal, or the terminal is gone.
static void
s_loop(tui_t *self, volatile sig_atomic_t *stop)
{
    int64_t last_draw = 0;
    while (!*stop && !self->quit && !self->tty_gone) {
        int64_t now = clock_mono_ms();
        s_check_link(self, now);
        control_expire(self->control, now);
        if (now - last_draw >= TICK_MS)
            self->dirty = true;
        if (self->dirty) {
            view_draw(&self->view, self->state, self->link, self->cfg, now);
            self->dirty = false;
            last_draw = now;
        }
        int64_t next = link_next_deadline(self->link);
        if (next > last_draw + TICK_MS)
            next = last_draw + TICK_MS;
        long wait = next - now < 0 ? 0 : (long) (next - now);
        zmq_pollitem_t items[] = {
            { link_sub(self->link), 0, ZMQ_POLLIN, 0 },
            { link_dealer(self->link), 0, ZMQ_POLLIN, 0 },
            { NULL, 0, ZMQ_POLLIN, 0 },
        };
        int64_t before = clock_mono_ms();
        int rc = zmq_poll(items, 3, wait);
        if (rc < 0 && zmq_errno() != EINTR)
            break;
        //  slept much longer than asked: we were stopped (^Z, kill -STOP)
        int64_t late = clock_mono_ms() - before - wait;
        if (late > STALL_MS)
            link_stalled(self->link, late);
        if (s_resized) {
            s_resized = 0;
            s_resize(self);
        }
        if (rc > 0 && (items[2].revents & ZMQ_POLLERR))
            self->tty_gone = true;
        s_read_sockets(self);
        s_read_keys(self);
    }
}

int
tui_run(const monitor_config_t *cfg, volatile sig_atomic_t *stop)
{
    setlocale(LC_ALL, "");
    char err[256];
    tui_t self = { .cfg = cfg };
    self.view = (view_t) { .show_jobs = true, .show_detail = true, .show_workers = true, .show_events = true };
    self.view.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    self.link = link_new(cfg->broker, cfg->progress, cfg->timeout_ms, cfg->keys, err, sizeof err);
    if (!self.link) {
        fprintf(stderr, "shoal-monitor: %s\n", err);
        return 2;
    }
    self.state = state_new();
    self.control = self.state ? control_new(self.link, self.state) : NULL;
    if (!self.control) {
        fprintf(stderr, "shoal-monitor: out of memory\n");
        state_destroy(&self.state);
        link_destroy(&self.link);
        return 2;
    }
    //  ours before ncurses': it then leaves SIGWINCH to us
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_winch;
    sigaction(SIGWINCH, &sa, NULL);
    SCREEN *screen = newterm(NULL, stdout, stdin);
    if (!screen) {
        fprintf(stderr, "shoal-monitor: cannot use terminal '%s'; try --plain\n",
                getenv("TERM") ? getenv("TERM") : "");
        control_destroy(&self.control);
        state_destroy(&self.state);
        link_destroy(&self.link);
        return 2;
    }
    set_term(screen);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    view_init(&self.view);
    self.dirty = true;

    s_loop(&self, stop);

    endwin();
    delscreen(screen);
    control_destroy(&self.control);
    state_destroy(&self.state);
    link_destroy(&self.link);
    if (self.tty_gone)
        return 1;
    return 0;
}
