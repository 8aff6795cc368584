/*  config — command-line flags with SHOAL_* environment equivalents.

    Precedence: built-in default < environment variable < flag.
    Flags are --name VALUE or --name=VALUE; booleans are --name (or
    --no-name), and their environment values are 1/0, true/false, yes/no.
    --help and --version are handled here.

    int64_t slots = 4;
    opt_t opts[] = {
        { "slots", 's', "SHOAL_SLOTS", OPT_INT, &slots, "N", "tasks run at once" },
        { NULL }
    };
    config_t cfg = { .prog = "shoal-worker", .usage = "[options]", .opts = opts };
    int rc = config_parse(&cfg, argc, argv);   // 0 ok, 1 help/version printed, -1 error
*/
#ifndef SHOAL_CONFIG_H
#define SHOAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    OPT_STRING,     //  target: char ** (the pointer is into argv/environ or a literal)
    OPT_INT,        //  target: int64_t *
    OPT_DOUBLE,     //  target: double *
    OPT_BOOL,       //  target: bool *
    OPT_LIST        //  target: strlist_t * — repeatable, values appended
} opt_type_t;

typedef struct {
    const char **items;     //  values in order
    size_t count;           //  number of values
    size_t alloc;           //  allocated slots
} strlist_t;

typedef struct {
    const char *name;       //  long flag, without the leading "--"
    char        short_name; //  single-letter alias, or 0
    const char *env;        //  environment variable, or NULL
    opt_type_t  type;       //  value type
    void       *target;     //  where the value goes
    const char *metavar;    //  value name in --help, NULL for booleans
    const char *help;       //  one line of help
} opt_t;

typedef struct {
    const char  *prog;          //  program (and subcommand) name for messages
    const char  *usage;         //  usage line after the program name
    const char  *description;   //  text under the usage line, may be NULL
    const char  *epilog;        //  text after the options (examples), may be NULL
    const opt_t *opts;          //  table ended by an entry with name NULL
    bool         stop_at_positional; //  true: stop at the first positional (subcommands)
    //  filled by config_parse:
    char       **positional;    //  positional arguments (points into argv)
    int          positional_count;
    int          rest_index;    //  argv index where parsing stopped
} config_t;

//  Parse environment then argv. Returns 0 on success, 1 when --help or
//  --version was printed (exit 0), -1 after printing an error (exit 2).
int config_parse(config_t *cfg, int argc, char **argv);
//  Print --help text to stdout.
void config_print_help(const config_t *cfg);
//  Free the memory config_parse allocated (positional array, lists).
void config_free(config_t *cfg);
//  Append to a string list; returns -1 on allocation failure.
int strlist_push(strlist_t *list, const char *value);
//  Free a string list's array (not the strings).
void strlist_free(strlist_t *list);

#endif
