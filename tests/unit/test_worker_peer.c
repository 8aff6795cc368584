/*  test_worker_peer — worker/peer.c: every state x event of the worker's
    conversation with the broker, written out here as the expected table
    (what happens, in words), checked against the machine. */
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "peer.h"

#define C PEER_CONNECTING
#define R PEER_READY
#define D PEER_DRAINING
#define A PEER_ABORTING
#define S PEER_STOPPED

typedef struct {
    peer_state_t  from;
    peer_event_t  event;
    peer_state_t  to;
    peer_action_t actions[PEER_MAX_ACTIONS];
} row_t;

#define ABORT PEER_ABORT_TASKS, PEER_WAIT_FOR_ACKS

//  Every (state, event) pair that does something; all others must be
//  "ignore" (same state, no action).
static const row_t s_expected[] = {
    //  a fresh connection: the Welcome makes it ready
    { C, PEER_WELCOME,           R, { PEER_STORE_WELCOME } },
    { C, PEER_WELCOME_NEW_EPOCH, R, { PEER_STORE_WELCOME, PEER_RESEND_RESULTS } },
    { C, PEER_TASKS,             C, { PEER_START_TASKS } },
    { C, PEER_RESULT_ACK,        C, { PEER_FORGET_ACKED } },
    { C, PEER_CANCEL,            C, { PEER_CANCEL_TASKS } },
    { C, PEER_UNKNOWN_PEER,      C, { PEER_SAY_HELLO_AGAIN } },
    { C, PEER_VERSION_ERROR,     A, { PEER_LOG_BROKER_ERROR, ABORT } },
    { C, PEER_BROKER_ERROR,      C, { PEER_LOG_BROKER_ERROR } },
    { C, PEER_HEARTBEAT_DUE,     C, { PEER_SEND_HEARTBEAT } },
    { C, PEER_SILENCE,           C, { PEER_RECONNECT } },
    { C, PEER_RESUMED,           C, { PEER_FORGIVE_SILENCE } },
    { C, PEER_RECONNECTED,       C, { PEER_SAY_HELLO } },
    { C, PEER_STOP,              D, { PEER_START_GRACE, PEER_ANNOUNCE_DRAINING } },
    { C, PEER_STOP_NOW,          A, { ABORT } },
    //  ready: the same, but silence means a new connection
    { R, PEER_WELCOME,           R, { PEER_STORE_WELCOME } },
    { R, PEER_WELCOME_NEW_EPOCH, R, { PEER_STORE_WELCOME, PEER_RESEND_RESULTS } },
    { R, PEER_TASKS,             R, { PEER_START_TASKS } },
    { R, PEER_RESULT_ACK,        R, { PEER_FORGET_ACKED } },
    { R, PEER_CANCEL,            R, { PEER_CANCEL_TASKS } },
    { R, PEER_UNKNOWN_PEER,      R, { PEER_SAY_HELLO_AGAIN } },
    { R, PEER_VERSION_ERROR,     A, { PEER_LOG_BROKER_ERROR, ABORT } },
    { R, PEER_BROKER_ERROR,      R, { PEER_LOG_BROKER_ERROR } },
    { R, PEER_HEARTBEAT_DUE,     R, { PEER_SEND_HEARTBEAT } },
    { R, PEER_SILENCE,           C, { PEER_RECONNECT } },
    { R, PEER_RESUMED,           R, { PEER_FORGIVE_SILENCE } },
    { R, PEER_RECONNECTED,       R, { PEER_SAY_HELLO } },
    { R, PEER_STOP,              D, { PEER_START_GRACE, PEER_ANNOUNCE_DRAINING } },
    { R, PEER_STOP_NOW,          A, { ABORT } },
    //  draining: tasks refused, every new Hello says we drain, idle ends it
    { D, PEER_WELCOME,           D, { PEER_STORE_WELCOME } },
    { D, PEER_WELCOME_NEW_EPOCH, D, { PEER_STORE_WELCOME, PEER_RESEND_RESULTS } },
    { D, PEER_TASKS,             D, { PEER_REFUSE_TASKS } },
    { D, PEER_RESULT_ACK,        D, { PEER_FORGET_ACKED } },
    { D, PEER_CANCEL,            D, { PEER_CANCEL_TASKS } },
    { D, PEER_UNKNOWN_PEER,      D, { PEER_SAY_HELLO_AGAIN, PEER_ANNOUNCE_DRAINING } },
    { D, PEER_VERSION_ERROR,     A, { PEER_LOG_BROKER_ERROR, ABORT } },
    { D, PEER_BROKER_ERROR,      D, { PEER_LOG_BROKER_ERROR } },
    { D, PEER_HEARTBEAT_DUE,     D, { PEER_SEND_HEARTBEAT } },
    { D, PEER_SILENCE,           D, { PEER_RECONNECT, PEER_ANNOUNCE_DRAINING } },
    { D, PEER_RESUMED,           D, { PEER_FORGIVE_SILENCE } },
    { D, PEER_RECONNECTED,       D, { PEER_SAY_HELLO, PEER_ANNOUNCE_DRAINING } },
    { D, PEER_STOP_NOW,          A, { ABORT } },
    { D, PEER_GRACE_OVER,        A, { ABORT } },
    { D, PEER_IDLE,              S, { PEER_SAY_BYE } },
    //  aborting: a moment for the acks, then Bye
    { A, PEER_WELCOME,           A, { PEER_STORE_WELCOME } },
    { A, PEER_WELCOME_NEW_EPOCH, A, { PEER_STORE_WELCOME, PEER_RESEND_RESULTS } },
    { A, PEER_TASKS,             A, { PEER_REFUSE_TASKS } },
    { A, PEER_RESULT_ACK,        A, { PEER_FORGET_ACKED } },
    { A, PEER_CANCEL,            A, { PEER_CANCEL_TASKS } },
    { A, PEER_UNKNOWN_PEER,      A, { PEER_SAY_HELLO_AGAIN, PEER_ANNOUNCE_DRAINING } },
    { A, PEER_BROKER_ERROR,      A, { PEER_LOG_BROKER_ERROR } },
    { A, PEER_HEARTBEAT_DUE,     A, { PEER_SEND_HEARTBEAT } },
    { A, PEER_SILENCE,           A, { PEER_RECONNECT, PEER_ANNOUNCE_DRAINING } },
    { A, PEER_RESUMED,           A, { PEER_FORGIVE_SILENCE } },
    { A, PEER_RECONNECTED,       A, { PEER_SAY_HELLO, PEER_ANNOUNCE_DRAINING } },
    { A, PEER_IDLE,              S, { PEER_SEND_RESULTS, PEER_SAY_BYE } },
    { A, PEER_ACK_WAIT_OVER,     S, { PEER_SEND_RESULTS, PEER_SAY_BYE } },
    //  stopped: nothing, ever (no rows)
};
#define N_EXPECTED (sizeof s_expected / sizeof s_expected[0])

static void
test_every_state_and_event(void)
{
    int checked = 0;
    for (int st = 0; st < PEER_STATES; st++)
        for (int ev = 0; ev < PEER_EVENTS; ev++) {
            const row_t *want = NULL;
            for (size_t i = 0; i < N_EXPECTED; i++)
                if ((int) s_expected[i].from == st && (int) s_expected[i].event == ev)
                    want = &s_expected[i];
            const peer_transition_t *got = peer_transition((peer_state_t) st, (peer_event_t) ev);
            CHECK(got != NULL);
            if (!got)
                continue;
            peer_state_t to = want ? want->to : (peer_state_t) st;
            if (got->next != to)
                fprintf(stderr, "%s + %s: to %s, expected %s\n", peer_state_name(st), peer_event_name(ev),
                        peer_state_name(got->next), peer_state_name(to));
            CHECK(got->next == to);
            for (int a = 0; a < PEER_MAX_ACTIONS; a++) {
                peer_action_t w = want ? want->actions[a] : PEER_NOTHING;
                if (got->actions[a] != w)
                    fprintf(stderr, "%s + %s: action %d is %s, expected %s\n", peer_state_name(st),
                            peer_event_name(ev), a, peer_action_name(got->actions[a]), peer_action_name(w));
                CHECK(got->actions[a] == w);
            }
            checked++;
        }
    CHECK(checked == PEER_STATES * PEER_EVENTS);
}

//  Properties that hold whatever the table's details.
static void
test_properties(void)
{
    for (int st = 0; st < PEER_STATES; st++) {
        //  a stopping worker never starts a task; a live one never drops one
        const peer_transition_t *t = peer_transition((peer_state_t) st, PEER_TASKS);
        if (st == PEER_DRAINING || st == PEER_ABORTING)
            CHECK(t->actions[0] == PEER_REFUSE_TASKS);
        else
        if (st != PEER_STOPPED)
            CHECK(t->actions[0] == PEER_START_TASKS);
        //  the connection is kept alive until the end
        t = peer_transition((peer_state_t) st, PEER_SILENCE);
        CHECK((t->actions[0] == PEER_RECONNECT) == (st != PEER_STOPPED));
        //  a new broker run hears every unacked result again
        t = peer_transition((peer_state_t) st, PEER_WELCOME_NEW_EPOCH);
        CHECK((t->actions[1] == PEER_RESEND_RESULTS) == (st != PEER_STOPPED));
        //  STOPPED is reached only with a Bye, and never left
        for (int ev = 0; ev < PEER_EVENTS; ev++) {
            t = peer_transition((peer_state_t) st, (peer_event_t) ev);
            if (st == PEER_STOPPED)
                CHECK(t->next == PEER_STOPPED && t->actions[0] == PEER_NOTHING);
            else
            if (t->next == PEER_STOPPED) {
                bool bye = false;
                for (int a = 0; a < PEER_MAX_ACTIONS; a++)
                    bye |= t->actions[a] == PEER_SAY_BYE;
                CHECK(bye);
            }
        }
    }
    //  two signals stop a worker whatever it was doing, via the drain
    peer_state_t st = PEER_READY;
    st = peer_transition(st, PEER_STOP)->next;
    CHECK(st == PEER_DRAINING);
    st = peer_transition(st, PEER_STOP)->next;      //  the same signal seen again: no change
    CHECK(st == PEER_DRAINING);
    st = peer_transition(st, PEER_STOP_NOW)->next;
    CHECK(st == PEER_ABORTING);
    st = peer_transition(st, PEER_ACK_WAIT_OVER)->next;
    CHECK(st == PEER_STOPPED);
    //  out-of-range arguments are ignored, not trusted
    CHECK(peer_transition(PEER_STATES, PEER_TASKS)->actions[0] == PEER_NOTHING);
    CHECK(peer_transition(PEER_READY, PEER_EVENTS)->actions[0] == PEER_NOTHING);
    CHECK_STR(peer_state_name(PEER_READY), "ready");
    CHECK_STR(peer_event_name(PEER_ACK_WAIT_OVER), "ack_wait_over");
    CHECK_STR(peer_action_name(PEER_SAY_BYE), "say_bye");
}

int
main(void)
{
    test_every_state_and_event();
    test_properties();
    return check_result("test_worker_peer");
}
