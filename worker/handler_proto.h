/*  handler_proto — the JSON lines a handler process reads and writes
    (docs/handlers.md is the stable description).

    worker -> handler: {"id": "...", "attempt": 2, "deadline_ms": ...,
                        "payload": {...}, "vars": {...}}
    handler -> worker: {"ready": true}                       (optional, first)
                       {"id": "...", "ok": true, "output": ..., "vars": {...}}
                       {"id": "...", "ok": false, "error": "...", "retry": true}
*/
#ifndef SHOAL_WORKER_HANDLER_PROTO_H
#define SHOAL_WORKER_HANDLER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Largest output (and vars) an answer may carry, as compact JSON.
#define HANDLER_MAX_OUTPUT (1u << 20)

typedef enum {
    HANSWER_READY,      //  {"ready": true}
    HANSWER_OK,         //  the task succeeded
    HANSWER_FAIL,       //  the handler says the task failed
    HANSWER_BAD         //  not a valid line: a protocol error (error says why)
} hanswer_kind_t;

typedef struct {
    hanswer_kind_t kind;
    char *id;           //  the answer's task id (owned), NULL for READY / BAD
    char *output;       //  OK: compact JSON text (owned), NULL when absent
    char *vars;         //  OK: compact JSON object text (owned), NULL when absent
    char *error;        //  FAIL: the handler's text; BAD: what is wrong (owned)
    bool  retry;        //  FAIL: the handler allows a retry (default true)
    bool  too_big;      //  OK turned FAIL: output or vars over HANDLER_MAX_OUTPUT
} hanswer_t;

//  Build the line for one task (ending in '\n') from JSON texts; payload
//  and vars may be NULL (sent as {} and omitted). Returns a malloc'ed line
//  and its length, or NULL with a message in err.
char *handler_proto_task_line(const char *id, uint32_t attempt, int64_t deadline_ms, const char *payload,
                              const char *vars, size_t *len, char *err, size_t errlen);
//  Parse one line (without its '\n') into a (cleared first). Never fails:
//  anything that is not a valid line is HANSWER_BAD with the reason.
void handler_proto_parse(const char *line, size_t len, hanswer_t *a);
//  Free what an answer owns and zero it.
void handler_proto_clear(hanswer_t *a);

#endif
