/*  test_result_csv — result rows as CSV records: quoting of commas, quotes
    and newlines, empty cells for absent fields, the base64 body column, and
    the rows of --items. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "result_csv.h"

static char *
s_row(const Shoal__ResultRow *row, bool with_body)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    result_csv_row(out, row, 7, with_body);
    fclose(out);
    return text;
}

int
main(void)
{
    Shoal__HttpResult h = SHOAL__HTTP_RESULT__INIT;
    h.has_status = h.has_bytes = h.has_total_us = h.has_body = 1;
    h.status = 200;
    h.bytes = 5;
    h.total_us = 1500;
    h.body.data = (uint8_t *) "hello";
    h.body.len = 5;
    Shoal__Result r = SHOAL__RESULT__INIT;
    r.http = &h;
    r.error = "a, \"quoted\"\nerror";
    r.has_started_us = 1;
    r.started_us = 10;
    Shoal__ResultRow row = SHOAL__RESULT_ROW__INIT;
    row.seq = 3;
    row.outcome = "failed";
    row.attempt = 2;
    row.target = "https://example.com/a,b";
    row.result = &r;
    char *text = s_row(&row, false);
    CHECK_STR(text, "7,3,failed,2,\"https://example.com/a,b\",,,\"a, \"\"quoted\"\"\nerror\",200,5,,,,1.500,,10,\n");
    free(text);
    text = s_row(&row, true);
    CHECK_CONTAINS(text, ",10,,aGVsbG8=\n");
    free(text);
    //  a row without a result: every result column empty
    Shoal__ResultRow bare = SHOAL__RESULT_ROW__INIT;
    bare.seq = 1;
    bare.outcome = "cancelled";
    text = s_row(&bare, false);
    CHECK_STR(text, "7,1,cancelled,0,,,,,,,,,,,,,\n");
    free(text);
    //  the header has as many columns as a row
    size_t commas = 0;
    for (const char *p = RESULT_CSV_HEADER; *p; p++)
        commas += *p == ',';
    CHECK(commas == 16);
    //  --items: a pipeline item, its vars as quoted JSON text
    Shoal__Result ir = SHOAL__RESULT__INIT;
    ir.vars = "{\"a\":\"x,y\"}";
    Shoal__ResultRow item = SHOAL__RESULT_ROW__INIT;
    item.seq = 4;
    item.outcome = "complete";
    item.tasks = 3;
    item.last_step = 2;
    item.step_name = "pdf";
    item.result = &ir;
    char *itext = NULL;
    size_t ilen = 0;
    FILE *out = open_memstream(&itext, &ilen);
    result_csv_item_row(out, &item, 7);
    fclose(out);
    CHECK_STR(itext, "7,4,complete,3,2,pdf,,,\"{\"\"a\"\":\"\"x,y\"\"}\"\n");
    free(itext);
    commas = 0;
    for (const char *p = RESULT_CSV_ITEM_HEADER; *p; p++)
        commas += *p == ',';
    CHECK(commas == 8);
    return check_result("test_result_csv");
}
