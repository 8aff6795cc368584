/*  test_csvin — CSV records as Excel and people write them: quoted line
    breaks, CRLF, the UTF-8 BOM, `;` and tab delimiters, line numbers of
    every record and error, recovery after a bad quote, bounds. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "csvin.h"
#include "input.h"

typedef struct {
    char   text[64][512];   //  records joined by '|', errors as "ERR <message>"
    uint64_t line[64];
    int    n;
    char   delimiter;
} got_t;

//  Read every record of `data` into got.
static void
s_read(const char *data, size_t max_record, char delimiter, got_t *got)
{
    memset(got, 0, sizeof *got);
    FILE *f = fmemopen((void *) data, strlen(data), "r");
    csvin_t *in = csvin_new(f, "t.csv", max_record, delimiter);
    CHECK(in != NULL);
    char err[256];
    while (got->n < 64) {
        char **fields;
        size_t n;
        int rc = csvin_next(in, &fields, &n, err, sizeof err);
        if (rc == 0 || rc == -2)
            break;
        char *out = got->text[got->n];
        if (rc == -1)
            snprintf(out, 512, "ERR %.200s", err);
        else
            for (size_t i = 0; i < n; i++)
                snprintf(out + strlen(out), 512 - strlen(out), "%s%s", i ? "|" : "", fields[i]);
        got->line[got->n++] = csvin_line(in);
    }
    got->delimiter = csvin_delimiter(in);
    csvin_destroy(&in);
    CHECK(in == NULL);
    csvin_destroy(&in);
    fclose(f);
}

static void
test_quoting(void)
{
    got_t g;
    s_read("a,b,c\r\n"
           "1,\"two, with comma\",\"say \"\"hi\"\"\"\r\n"
           "\r\n"
           "2,\"line one\r\nline two\",x\r\n"
           "3, spaced ,\r\n", 0, 0, &g);
    CHECK(g.n == 4);
    CHECK_STR(g.text[0], "a|b|c");
    CHECK_STR(g.text[1], "1|two, with comma|say \"hi\"");
    CHECK_STR(g.text[2], "2|line one\nline two|x");
    CHECK_STR(g.text[3], "3| spaced |");
    CHECK(g.line[0] == 1 && g.line[1] == 2 && g.line[2] == 4 && g.line[3] == 6);
    CHECK(g.delimiter == ',');
}

static void
test_bom_and_delimiters(void)
{
    got_t g;
    s_read("\xEF\xBB\xBFurl;name\nhttps://a/1;\"x;y\"\n", 0, 0, &g);
    CHECK(g.n == 2);
    CHECK_STR(g.text[0], "url|name");
    CHECK_STR(g.text[1], "https://a/1|x;y");
    CHECK(g.delimiter == ';');
    s_read("url\tname\thint\nhttps://a/1\tb,c\td\n", 0, 0, &g);
    CHECK_STR(g.text[1], "https://a/1|b,c|d");
    CHECK(g.delimiter == '\t');
    //  given: the header has no delimiter to detect
    s_read("url\nhttps://a/1;2\n", 0, ';', &g);
    CHECK_STR(g.text[1], "https://a/1|2");
    s_read("url\nhttps://a/1;2\n", 0, 0, &g);
    CHECK_STR(g.text[1], "https://a/1;2");
    CHECK(g.delimiter == ',');
    //  a BOM only counts at the start of the file
    s_read("a\n\xEF\xBB\xBFx\n", 0, 0, &g);
    CHECK_STR(g.text[1], "\xEF\xBB\xBFx");
}

static void
test_errors(void)
{
    got_t g;
    //  a stray quote: that record only, the next line reads on
    s_read("a,b\n1,x\"y\n2,z\n", 0, 0, &g);
    CHECK(g.n == 3);
    CHECK_CONTAINS(g.text[1], "ERR t.csv:2: not valid CSV");
    CHECK_STR(g.text[2], "2|z");
    CHECK(g.line[2] == 3);
    //  text after a closing quote
    s_read("a,b\n\"1\"x,y\n", 0, 0, &g);
    CHECK_CONTAINS(g.text[1], "ERR t.csv:2:");
    //  a quote never closed: reported at its line, the lines after it read again
    s_read("a,b\n1,2\n\"3,4\n5,6\n7,8\n", 0, 0, &g);
    CHECK(g.n == 5);
    CHECK_STR(g.text[1], "1|2");
    CHECK_STR(g.text[2], "ERR t.csv:3: not valid CSV: a quoted field is never closed");
    CHECK_STR(g.text[3], "5|6");
    CHECK_STR(g.text[4], "7|8");
    CHECK(g.line[2] == 3 && g.line[3] == 4 && g.line[4] == 5);
    //  a record longer than the bound (across lines) and a long line
    s_read("a\n\"0123456789\n0123456789\n0123456789\"\nok\n", 24, 0, &g);
    CHECK_CONTAINS(g.text[1], "ERR t.csv:2: record longer than the line limit");
    CHECK_STR(g.text[g.n - 1], "ok");
    CHECK(g.line[g.n - 1] == 5);
    s_read("a\n0123456789012345678901234567890123456789\nok\n", 24, 0, &g);
    CHECK_STR(g.text[1], "ERR t.csv:2: line longer than 24 bytes");
    CHECK_STR(g.text[2], "ok");
    //  too many fields
    char many[1200] = "h\n";
    for (int i = 0; i < 300; i++)
        strcat(many, "x,");
    strcat(many, "x\nlast\n");
    s_read(many, 0, 0, &g);
    CHECK_STR(g.text[1], "ERR t.csv:2: more than 256 fields");
    CHECK_STR(g.text[2], "last");
    //  empty input, only blank lines
    s_read("", 0, 0, &g);
    CHECK(g.n == 0);
    s_read("\n\r\n\n", 0, 0, &g);
    CHECK(g.n == 0);
}

//  The CSV task reader on top: header errors at line 1, BOM, `;`.
static void
test_input_csv(void)
{
    const char *data = "\xEF\xBB\xBFurl;tag\r\nhttps://a.example/1;\"multi\r\nline\"\r\n";
    FILE *f = fmemopen((void *) data, strlen(data), "r");
    input_t *in = input_new(INPUT_CSV, f, "x.csv", 0);
    Shoal__TaskSpec *spec = NULL;
    char err[256];
    CHECK(input_next(in, &spec, err, sizeof err) == 1);
    if (spec) {
        CHECK_STR(spec->http->url, "https://a.example/1");
        CHECK_STR(spec->tag, "multi\nline");
        shoal__task_spec__free_unpacked(spec, NULL);
    }
    CHECK(input_line(in) == 2);
    CHECK(input_next(in, &spec, err, sizeof err) == 0);
    input_destroy(&in);
    fclose(f);

    const char *bad[] = { "url,colour\nhttps://a/1,red\n", "url,header:Bad Name\nhttps://a/1,v\n",
                          "url,url\nhttps://a/1,https://a/2\n" };
    const char *want[] = { "x.csv:1: unknown field 'colour'", "x.csv:1: column 2: http.headers[0]: bad header name",
                           "x.csv:1: column 'url' appears twice" };
    for (int i = 0; i < 3; i++) {
        f = fmemopen((void *) bad[i], strlen(bad[i]), "r");
        in = input_new(INPUT_CSV, f, "x.csv", 0);
        CHECK(input_next(in, &spec, err, sizeof err) == -2);
        CHECK_CONTAINS(err, want[i]);
        input_destroy(&in);
        fclose(f);
    }
    //  a given delimiter
    data = "url\nhttps://a.example/1\n";
    f = fmemopen((void *) data, strlen(data), "r");
    in = input_new(INPUT_CSV, f, "x.csv", 0);
    input_set_csv_delimiter(in, '\t');
    CHECK(input_next(in, &spec, err, sizeof err) == 1);
    if (spec)
        shoal__task_spec__free_unpacked(spec, NULL);
    input_destroy(&in);
    fclose(f);
    CHECK(input_field_known("url") && input_field_known("sleep_ms") && !input_field_known("colour"));
}

int
main(void)
{
    test_quoting();
    test_bom_and_delimiters();
    test_errors();
    test_input_csv();
    return check_result("test_csvin");
}
