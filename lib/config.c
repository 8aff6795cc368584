/*  config — flags and SHOAL_* environment variables. See config.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
strlist_push(strlist_t *list, const char *value)
{
    if (list->count == list->alloc) {
        size_t alloc = list->alloc ? list->alloc * 2 : 8;
        const char **items = realloc(list->items, alloc * sizeof *items);
        if (!items)
            return -1;
        list->items = items;
        list->alloc = alloc;
    }
    list->items[list->count++] = value;
    return 0;
}

void
strlist_free(strlist_t *list)
{
    free(list->items);
    list->items = NULL;
    list->count = list->alloc = 0;
}

static int
s_parse_bool(const char *text, bool *out)
{
    if (!strcasecmp(text, "1") || !strcasecmp(text, "true") || !strcasecmp(text, "yes")
    ||  !strcasecmp(text, "on"))
        *out = true;
    else
    if (!strcasecmp(text, "0") || !strcasecmp(text, "false") || !strcasecmp(text, "no")
    ||  !strcasecmp(text, "off"))
        *out = false;
    else
        return -1;
    return 0;
}

//  Store one value into an option's target; prints an error naming `origin`.
static int
s_assign(const config_t *cfg, const opt_t *opt, const char *value, const char *origin)
{
    switch (opt->type) {
        case OPT_STRING:
            *(const char **) opt->target = value;
            return 0;
        case OPT_LIST:
            if (strlist_push((strlist_t *) opt->target, value)) {
                fprintf(stderr, "%s: out of memory\n", cfg->prog);
                return -1;
            }
            return 0;
        case OPT_INT: {
            char *end;
            errno = 0;
            long long v = strtoll(value, &end, 10);
            if (errno || end == value || *end) {
                fprintf(stderr, "%s: %s expects an integer, got '%s'\n", cfg->prog, origin, value);
                return -1;
            }
            *(int64_t *) opt->target = v;
            return 0;
        }
        case OPT_DOUBLE: {
            char *end;
            errno = 0;
            double v = strtod(value, &end);
            if (errno || end == value || *end) {
                fprintf(stderr, "%s: %s expects a number, got '%s'\n", cfg->prog, origin, value);
                return -1;
            }
            *(double *) opt->target = v;
            return 0;
        }
        case OPT_BOOL: {
            bool v;
            if (s_parse_bool(value, &v)) {
                fprintf(stderr, "%s: %s expects true/false, got '%s'\n", cfg->prog, origin, value);
                return -1;
            }
            *(bool *) opt->target = v;
            return 0;
        }
    }
    return -1;
}

void
config_print_help(const config_t *cfg)
{
    printf("Usage: %s %s\n", cfg->prog, cfg->usage ? cfg->usage : "[options]");
    if (cfg->description)
        printf("\n%s\n", cfg->description);
    printf("\nOptions:\n");
    for (const opt_t *o = cfg->opts; o && o->name; o++) {
        char flag[80];
        if (o->short_name)
            snprintf(flag, sizeof flag, "-%c, --%s%s%s", o->short_name, o->name,
                     o->metavar ? " " : "", o->metavar ? o->metavar : "");
        else
            snprintf(flag, sizeof flag, "    --%s%s%s", o->name,
                     o->metavar ? " " : "", o->metavar ? o->metavar : "");
        printf("  %-30s %s", flag, o->help ? o->help : "");
        if (o->env)
            printf(" [env %s]", o->env);
        printf("\n");
    }
    printf("  %-30s %s\n", "-h, --help", "show this help and exit");
    printf("  %-30s %s\n", "    --version", "print the version and exit");
    if (cfg->epilog)
        printf("\n%s\n", cfg->epilog);
}

static const opt_t *
s_find_long(const config_t *cfg, const char *name, size_t len)
{
    for (const opt_t *o = cfg->opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static const opt_t *
s_find_short(const config_t *cfg, char c)
{
    for (const opt_t *o = cfg->opts; o && o->name; o++)
        if (o->short_name == c)
            return o;
    return NULL;
}

int
config_parse(config_t *cfg, int argc, char **argv)
{
    cfg->positional = calloc((size_t) argc + 1, sizeof(char *));
    cfg->positional_count = 0;
    cfg->rest_index = argc;
    if (!cfg->positional) {
        fprintf(stderr, "%s: out of memory\n", cfg->prog);
        return -1;
    }
    //  environment first, so flags override it
    for (const opt_t *o = cfg->opts; o && o->name; o++) {
        const char *value = o->env ? getenv(o->env) : NULL;
        if (value && *value) {
            char origin[96];
            snprintf(origin, sizeof origin, "environment variable %s", o->env);
            if (o->type == OPT_LIST) {
                //  a list from the environment is one value
                if (s_assign(cfg, o, value, origin))
                    return -1;
            }
            else
            if (s_assign(cfg, o, value, origin))
                return -1;
        }
    }
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            for (i++; i < argc; i++)
                cfg->positional[cfg->positional_count++] = argv[i];
            break;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            config_print_help(cfg);
            return 1;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("%s %s\n", cfg->prog, SHOAL_VERSION);
            return 1;
        }
        if (arg[0] != '-' || arg[1] == 0) {
            if (cfg->stop_at_positional) {
                cfg->rest_index = i;
                return 0;
            }
            cfg->positional[cfg->positional_count++] = arg;
            continue;
        }
        const opt_t *opt = NULL;
        const char *value = NULL;
        char origin[128];
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t) (eq - name) : strlen(name);
            opt = s_find_long(cfg, name, len);
            if (!opt && !eq && len > 3 && strncmp(name, "no-", 3) == 0) {
                const opt_t *neg = s_find_long(cfg, name + 3, len - 3);
                if (neg && neg->type == OPT_BOOL) {
                    *(bool *) neg->target = false;
                    continue;
                }
            }
            if (!opt) {
                fprintf(stderr, "%s: unknown option '--%.*s' (see --help)\n",
                        cfg->prog, (int) len, name);
                return -1;
            }
            snprintf(origin, sizeof origin, "--%s", opt->name);
            if (eq)
                value = eq + 1;
        }
        else {
            opt = s_find_short(cfg, arg[1]);
            if (!opt) {
                fprintf(stderr, "%s: unknown option '-%c' (see --help)\n", cfg->prog, arg[1]);
                return -1;
            }
            snprintf(origin, sizeof origin, "-%c", arg[1]);
            if (arg[2])
                value = arg + 2;
        }
        if (opt->type == OPT_BOOL && !value) {
            *(bool *) opt->target = true;
            continue;
        }
        if (!value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value (see --help)\n", cfg->prog, origin);
                return -1;
            }
            value = argv[++i];
        }
        if (s_assign(cfg, opt, value, origin))
            return -1;
    }
    return 0;
}

void
config_free(config_t *cfg)
{
    free(cfg->positional);
    cfg->positional = NULL;
    for (const opt_t *o = cfg->opts; o && o->name; o++)
        if (o->type == OPT_LIST)
            strlist_free((strlist_t *) o->target);
}
