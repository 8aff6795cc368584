/*  peer — the worker's side of its conversation with the broker, as a
    state machine (in the manner of Malamute's mlm_server): the states the
    conversation can be in, the events that can arrive in each, and the
    actions each event triggers, named for what they do. The table is pure
    (no I/O); worker.c classifies what happened into an event, asks
    peer_transition() what to do, and performs the actions in order.

      CONNECTING  a fresh socket, Hello sent, no Welcome on it yet
      READY       welcomed: tasks in, results out
      DRAINING    asked to stop (SIGTERM): running tasks finish, new ones
                  are refused, results wait for their acks
      ABORTING    running tasks were aborted (a second SIGTERM, the grace
                  period over, a broker speaking another protocol version);
                  a moment for the last acks
      STOPPED     leave the loop (Bye sent)

    The connection is kept alive in every state but STOPPED: silence for
    `liveness` heartbeats means a new socket and a new Hello (CONNECTING,
    or the same draining state, which the new Hello announces again). */
#ifndef SHOAL_WORKER_PEER_H
#define SHOAL_WORKER_PEER_H

typedef enum {
    PEER_CONNECTING,
    PEER_READY,
    PEER_DRAINING,
    PEER_ABORTING,
    PEER_STOPPED,
    PEER_STATES
} peer_state_t;

typedef enum {
    //  from the broker
    PEER_WELCOME,               //  Welcome from the broker run we knew (or the first)
    PEER_WELCOME_NEW_EPOCH,     //  Welcome from a new broker run
    PEER_TASKS,                 //  Tasks
    PEER_RESULT_ACK,            //  ResultAck: results committed
    PEER_CANCEL,                //  Cancel: abort these tasks
    PEER_HEARTBEAT,             //  Heartbeat
    PEER_UNKNOWN_PEER,          //  Error ERR_UNKNOWN_PEER: it does not know us
    PEER_VERSION_ERROR,         //  Error ERR_VERSION: it speaks another protocol
    PEER_BROKER_ERROR,          //  any other Error
    //  from the worker's timers and signals
    PEER_HEARTBEAT_DUE,         //  nothing sent for a heartbeat interval
    PEER_SILENCE,               //  nothing heard for `liveness` intervals
    PEER_RESUMED,               //  this process was frozen (a loop turn over two heartbeats)
    PEER_RECONNECTED,           //  the socket's connection came up again (a broker restarted, a new leader)
    PEER_STOP,                  //  first SIGTERM / SIGINT
    PEER_STOP_NOW,              //  second SIGTERM / SIGINT
    PEER_GRACE_OVER,            //  the drain's grace period ended
    PEER_IDLE,                  //  no task running, no result unacked
    PEER_ACK_WAIT_OVER,         //  aborting: waited long enough for acks
    PEER_EVENTS
} peer_event_t;

typedef enum {
    PEER_NOTHING,               //  (end of a list)
    PEER_STORE_WELCOME,         //  keep the epoch and heartbeat settings it gave
    PEER_RESEND_RESULTS,        //  queue every unacked result again
    PEER_START_TASKS,           //  run the tasks
    PEER_REFUSE_TASKS,          //  end them at once: the worker is stopping
    PEER_FORGET_ACKED,          //  drop acked results
    PEER_CANCEL_TASKS,          //  abort the tasks named
    PEER_SAY_HELLO_AGAIN,       //  Hello on the same socket (rate-limited)
    PEER_SAY_HELLO,             //  Hello on the same socket, now: a new connection
    PEER_LOG_BROKER_ERROR,      //  log what the broker said
    PEER_SEND_HEARTBEAT,        //  Heartbeat
    PEER_RECONNECT,             //  new socket, Hello, every unacked result again
    PEER_FORGIVE_SILENCE,       //  the silence was ours: count from now
    PEER_ANNOUNCE_DRAINING,     //  Heartbeat marked draining
    PEER_START_GRACE,           //  the grace period starts
    PEER_ABORT_TASKS,           //  abort every running task
    PEER_WAIT_FOR_ACKS,         //  a moment for the last acks
    PEER_SEND_RESULTS,          //  send every queued result now
    PEER_SAY_BYE,               //  Bye ("drained" or "aborted")
    PEER_ACTIONS
} peer_action_t;

#define PEER_MAX_ACTIONS 4

typedef struct {
    peer_state_t  next;                         //  the state after the event
    peer_action_t actions[PEER_MAX_ACTIONS];    //  in order, PEER_NOTHING-terminated
} peer_transition_t;

//  What an event does in a state (never NULL for valid arguments; an event
//  a state ignores gives no actions and the same state).
const peer_transition_t *peer_transition(peer_state_t state, peer_event_t event);
//  Names for logs ("ready", "welcome", "send_heartbeat").
const char *peer_state_name(peer_state_t state);
const char *peer_event_name(peer_event_t event);
const char *peer_action_name(peer_action_t action);

#endif
