/*  test_schema_rows — the COPY rows the broker streams: one field per
    column of schema.c's tables, untrusted text cleaned and cut to its
    column's limit, an exec tail kept from its end. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "schema_rows.h"
#include "taskspec.h"

//  A decoded binary COPY row: each field's offset and length (-1: NULL).
typedef struct {
    int         n;
    const char *data[32];
    int32_t     len[32];
} row_t;

static int
s_parse(const pgbuf_t *b, row_t *row)
{
    const uint8_t *p = b->data, *end = b->data + b->len;
    uint16_t n;
    if (end - p < 2)
        return -1;
    memcpy(&n, p, 2);
    row->n = ntohs(n);
    p += 2;
    for (int i = 0; i < row->n && i < 32; i++) {
        uint32_t l;
        if (end - p < 4)
            return -1;
        memcpy(&l, p, 4);
        p += 4;
        row->len[i] = (int32_t) ntohl(l);
        row->data[i] = (const char *) p;
        if (row->len[i] > 0)
            p += row->len[i];
    }
    return p == end ? 0 : -1;
}

static void
test_task_row(void)
{
    pgbuf_t b = { 0 };
    //  a target cut inside a UTF-8 sequence is still valid text
    schema_rows_task(&b, 7, 41, "http", "https://h/\xc3", (const uint8_t *) "\x08\x01", 2, NULL);
    row_t r;
    CHECK(s_parse(&b, &r) == 0);
    CHECK(r.n == 6);
    CHECK(r.len[2] == 4 && memcmp(r.data[2], "http", 4) == 0);
    CHECK(r.len[3] == 11 && memcmp(r.data[3], "https://h/?", 11) == 0);
    CHECK(r.len[4] == 2);
    CHECK(r.len[5] == -1);              //  no steps of its own: NULL
    pgbuf_free(&b);
    //  an item's own steps: jsonb (version 1, then the text)
    pgbuf_t c = { 0 };
    schema_rows_task(&c, 7, 42, "noop", "", (const uint8_t *) "\x08\x01", 2, "{\"steps\":[]}");
    CHECK(s_parse(&c, &r) == 0);
    CHECK(r.n == 6);
    CHECK(r.len[5] == 13 && r.data[5][0] == 1 && memcmp(r.data[5] + 1, "{\"steps\":[]}", 12) == 0);
    pgbuf_free(&c);
}

static void
test_result_row(void)
{
    Shoal__Result res = SHOAL__RESULT__INIT;
    Shoal__ExecResult x = SHOAL__EXEC_RESULT__INIT;
    size_t big = (size_t) TASKSPEC_MAX_TAIL + 100;
    char *out = malloc(big);
    memset(out, 'a', big);
    memcpy(out + big - 3, "END", 3);
    x.has_stdout_tail = 1;
    x.stdout_tail.data = (uint8_t *) out;
    x.stdout_tail.len = big;
    x.has_exit_code = 1;
    res.exec = &x;
    char error[SCHEMA_ROWS_MAX_ERROR + 500];
    memset(error, 'e', sizeof error - 1);
    error[sizeof error - 1] = 0;
    pgbuf_t b = { 0 };
    schema_rows_result(&b, 1, 2, "ok", 1, "w\x01" "1", error, &res);
    row_t r;
    CHECK(s_parse(&b, &r) == 0);
    CHECK(r.n == 30);                                   //  the columns of results
    CHECK(r.len[4] == 3 && memcmp(r.data[4], "w 1", 3) == 0);
    CHECK(r.len[5] == SCHEMA_ROWS_MAX_ERROR);
    CHECK(r.len[9] == -1);                              //  no http: NULL
    CHECK(r.len[23] == 4);                              //  exit_code
    CHECK(r.len[25] == TASKSPEC_MAX_TAIL);              //  stdout: the last bytes
    CHECK(memcmp(r.data[25] + r.len[25] - 3, "END", 3) == 0);
    CHECK(r.len[24] == -1 && r.len[26] == -1);          //  no signal, no stderr
    CHECK(r.len[27] == -1 && r.len[28] == -1);          //  no body_url, no vars
    pgbuf_free(&b);
    free(out);
}

static void
test_attempt_row(void)
{
    pgbuf_t b = { 0 };
    schema_rows_attempt(&b, 1, 2, 3, "w1", "retry", "HTTP 503", 503, 0, 0, 0, true);
    row_t r;
    CHECK(s_parse(&b, &r) == 0);
    CHECK(r.n == 11);                                   //  the columns of attempts
    CHECK(r.len[6] == 4);                               //  http_status
    CHECK(r.len[7] == -1 && r.len[8] == -1 && r.len[9] == -1);
    pgbuf_free(&b);
}

int
main(void)
{
    test_task_row();
    test_result_row();
    test_attempt_row();
    return check_result("test_schema_rows");
}
