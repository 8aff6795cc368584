/*  peer — the transition table of the worker's conversation with the
    broker (see peer.h). Rows are states, columns events; an entry not
    written here is "ignore: no action, same state". */
#include "peer.h"

#include <stddef.h>

#define GO(state, ...) { state, { __VA_ARGS__ } }

static const peer_transition_t s_table[PEER_STATES][PEER_EVENTS] = {
    [PEER_CONNECTING] = {
        [PEER_WELCOME]           = GO(PEER_READY, PEER_STORE_WELCOME),
        [PEER_WELCOME_NEW_EPOCH] = GO(PEER_READY, PEER_STORE_WELCOME, PEER_RESEND_RESULTS),
        [PEER_TASKS]             = GO(PEER_CONNECTING, PEER_START_TASKS),
        [PEER_RESULT_ACK]        = GO(PEER_CONNECTING, PEER_FORGET_ACKED),
        [PEER_CANCEL]            = GO(PEER_CONNECTING, PEER_CANCEL_TASKS),
        [PEER_UNKNOWN_PEER]      = GO(PEER_CONNECTING, PEER_SAY_HELLO_AGAIN),
        [PEER_VERSION_ERROR]     = GO(PEER_ABORTING, PEER_LOG_BROKER_ERROR, PEER_ABORT_TASKS, PEER_WAIT_FOR_ACKS),
        [PEER_BROKER_ERROR]      = GO(PEER_CONNECTING, PEER_LOG_BROKER_ERROR),
        [PEER_HEARTBEAT_DUE]     = GO(PEER_CONNECTING, PEER_SEND_HEARTBEAT),
        [PEER_SILENCE]           = GO(PEER_CONNECTING, PEER_RECONNECT),
        [PEER_RESUMED]           = GO(PEER_CONNECTING, PEER_FORGIVE_SILENCE),
        [PEER_RECONNECTED]       = GO(PEER_CONNECTING, PEER_SAY_HELLO),
        [PEER_STOP]              = GO(PEER_DRAINING, PEER_START_GRACE, PEER_ANNOUNCE_DRAINING),
        [PEER_STOP_NOW]          = GO(PEER_ABORTING, PEER_ABORT_TASKS, PEER_WAIT_FOR_ACKS),
    },
    [PEER_READY] = {
        [PEER_WELCOME]           = GO(PEER_READY, PEER_STORE_WELCOME),
        [PEER_WELCOME_NEW_EPOCH] = GO(PEER_READY, PEER_STORE_WELCOME, PEER_RESEND_RESULTS),
        [PEER_TASKS]             = GO(PEER_READY, PEER_START_TASKS),
        [PEER_RESULT_ACK]        = GO(PEER_READY, PEER_FORGET_ACKED),
        [PEER_CANCEL]            = GO(PEER_READY, PEER_CANCEL_TASKS),
        [PEER_UNKNOWN_PEER]      = GO(PEER_READY, PEER_SAY_HELLO_AGAIN),
        [PEER_VERSION_ERROR]     = GO(PEER_ABORTING, PEER_LOG_BROKER_ERROR, PEER_ABORT_TASKS, PEER_WAIT_FOR_ACKS),
        [PEER_BROKER_ERROR]      = GO(PEER_READY, PEER_LOG_BROKER_ERROR),
        [PEER_HEARTBEAT_DUE]     = GO(PEER_READY, PEER_SEND_HEARTBEAT),
        [PEER_SILENCE]           = GO(PEER_CONNECTING, PEER_RECONNECT),
        [PEER_RESUMED]           = GO(PEER_READY, PEER_FORGIVE_SILENCE),
        [PEER_RECONNECTED]       = GO(PEER_READY, PEER_SAY_HELLO),
        [PEER_STOP]              = GO(PEER_DRAINING, PEER_START_GRACE, PEER_ANNOUNCE_DRAINING),
        [PEER_STOP_NOW]          = GO(PEER_ABORTING, PEER_ABORT_TASKS, PEER_WAIT_FOR_ACKS),
    },
    [PEER_DRAINING] = {
        [PEER_WELCOME]           = GO(PEER_DRAINING, PEER_STORE_WELCOME),
        [PEER_WELCOME_NEW_EPOCH] = GO(PEER_DRAINING, PEER_STORE_WELCOME, PEER_RESEND_RESULTS),
        [PEER_TASKS]             = GO(PEER_DRAINING, PEER_REFUSE_TASKS),
        [PEER_RESULT_ACK]        = GO(PEER_DRAINING, PEER_FORGET_ACKED),
        [PEER_CANCEL]            = GO(PEER_DRAINING, PEER_CANCEL_TASKS),
        [PEER_UNKNOWN_PEER]      = GO(PEER_DRAINING, PEER_SAY_HELLO_AGAIN, PEER_ANNOUNCE_DRAINING),
        [PEER_VERSION_ERROR]     = GO(PEER_ABORTING, PEER_LOG_BROKER_ERROR, PEER_ABORT_TASKS, PEER_WAIT_FOR_ACKS),
        [PEER_BROKER_ERROR]      = GO(PEER_DRAINING, PEER_LOG_BROKER_ERROR),
        [PEER_HEARTBEAT_DUE]     = GO(PEER_DRAINING, PEER_SEND_HEARTBEAT),
        [PEER_SILENCE]           = GO(PEER_DRAINING, PEER_RECONNECT, PEER_ANNOUNCE_DRAINING),
        [PEER_RESUMED]           = GO(PEER_DRAINING, PEER_FORGIVE_SILENCE),
        [PEER_RECONNECTED]       = GO(PEER_DRAINING, PEER_SAY_HELLO, PEER_ANNOUNCE_DRAINING),
        [PEER_STOP_NOW]          = GO(PEER_ABORTING, PEER_ABORT_TASKS, PEER_WAIT_FOR_ACKS),
        [PEER_GRACE_OVER]        = GO(PEER_ABORTING, PEER_ABORT_TASKS, PEER_WAIT_FOR_ACKS),
        [PEER_IDLE]              = GO(PEER_STOPPED, PEER_SAY_BYE),
    },
    [PEER_ABORTING] = {
        [PEER_WELCOME]           = GO(PEER_ABORTING, PEER_STORE_WELCOME),
        [PEER_WELCOME_NEW_EPOCH] = GO(PEER_ABORTING, PEER_STORE_WELCOME, PEER_RESEND_RESULTS),
        [PEER_TASKS]             = GO(PEER_ABORTING, PEER_REFUSE_TASKS),
        [PEER_RESULT_ACK]        = GO(PEER_ABORTING, PEER_FORGET_ACKED),
        [PEER_CANCEL]            = GO(PEER_ABORTING, PEER_CANCEL_TASKS),
        [PEER_UNKNOWN_PEER]      = GO(PEER_ABORTING, PEER_SAY_HELLO_AGAIN, PEER_ANNOUNCE_DRAINING),
        [PEER_BROKER_ERROR]      = GO(PEER_ABORTING, PEER_LOG_BROKER_ERROR),
        [PEER_HEARTBEAT_DUE]     = GO(PEER_ABORTING, PEER_SEND_HEARTBEAT),
        [PEER_SILENCE]           = GO(PEER_ABORTING, PEER_RECONNECT, PEER_ANNOUNCE_DRAINING),
        [PEER_RESUMED]           = GO(PEER_ABORTING, PEER_FORGIVE_SILENCE),
        [PEER_RECONNECTED]       = GO(PEER_ABORTING, PEER_SAY_HELLO, PEER_ANNOUNCE_DRAINING),
        [PEER_IDLE]              = GO(PEER_STOPPED, PEER_SEND_RESULTS, PEER_SAY_BYE),
        [PEER_ACK_WAIT_OVER]     = GO(PEER_STOPPED, PEER_SEND_RESULTS, PEER_SAY_BYE),
    },
    //  PEER_STOPPED: nothing, ever
};

const peer_transition_t *
peer_transition(peer_state_t state, peer_event_t event)
{
    static const peer_transition_t ignore[PEER_STATES] = {
        GO(PEER_CONNECTING, PEER_NOTHING), GO(PEER_READY, PEER_NOTHING), GO(PEER_DRAINING, PEER_NOTHING),
        GO(PEER_ABORTING, PEER_NOTHING), GO(PEER_STOPPED, PEER_NOTHING),
    };
    if ((unsigned) state >= PEER_STATES || (unsigned) event >= PEER_EVENTS)
        return &ignore[PEER_STOPPED];
    const peer_transition_t *t = &s_table[state][event];
    //  an entry not written is all zeros, {PEER_CONNECTING, no action}:
    //  outside that state it means "ignore"
    if (t->next == PEER_CONNECTING && t->actions[0] == PEER_NOTHING && state != PEER_CONNECTING)
        return &ignore[state];
    return t;
}

const char *
peer_state_name(peer_state_t state)
{
    static const char *names[PEER_STATES] = { "connecting", "ready", "draining", "aborting", "stopped" };
    return (unsigned) state < PEER_STATES ? names[state] : "?";
}

const char *
peer_event_name(peer_event_t event)
{
    static const char *names[PEER_EVENTS] = {
        "welcome", "welcome_new_epoch", "tasks", "result_ack", "cancel", "heartbeat",
        "unknown_peer", "version_error", "broker_error", "heartbeat_due", "silence", "resumed", "reconnected",
        "stop", "stop_now", "grace_over", "idle", "ack_wait_over",
    };
    return (unsigned) event < PEER_EVENTS ? names[event] : "?";
}

const char *
peer_action_name(peer_action_t action)
{
    static const char *names[PEER_ACTIONS] = {
        "nothing", "store_welcome", "resend_results", "start_tasks", "refuse_tasks", "forget_acked",
        "cancel_tasks", "say_hello_again", "say_hello", "log_broker_error", "send_heartbeat", "reconnect",
        "forgive_silence", "announce_draining", "start_grace", "abort_tasks", "wait_for_acks",
        "send_results", "say_bye",
    };
    return (unsigned) action < PEER_ACTIONS ? names[action] : "?";
}
