/*  exec_parts — see exec_parts.h. */
#include "exec_parts.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

void
exec_tail_add(exec_tail_t *t, const uint8_t *data, size_t n)
{
    if (t->cap == 0)
        return;
    if (!t->data) {
        t->data = malloc(t->cap);
        if (!t->data)
            return;
    }
    if (n >= t->cap) {
        memcpy(t->data, data + n - t->cap, t->cap);
        t->start = 0;
        t->len = t->cap;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t pos = (t->start + t->len) % t->cap;
        t->data[pos] = data[i];
        if (t->len < t->cap)
            t->len++;
        else
            t->start = (t->start + 1) % t->cap;
    }
}

uint8_t *
exec_tail_flat(const exec_tail_t *t)
{
    uint8_t *out = malloc(t->len ? t->len : 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < t->len; i++)
        out[i] = t->data[(t->start + i) % t->cap];
    return out;
}

char **
exec_environment(const Shoal__ExecSpec *t, const Shoal__ExecSpec *d)
{
    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    size_t extra = (t ? t->n_env : 0) + (d ? d->n_env : 0);
    char **env = calloc(n + extra + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t o = 0;
    const Shoal__ExecSpec *layers[2] = { d, t };
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "SHOAL_", 6) == 0)
            continue;
        //  replaced by a task or job entry of the same name?
        size_t name_len = strcspn(*e, "=");
        bool replaced = false;
        for (int l = 0; l < 2 && !replaced; l++)
            for (size_t i = 0; layers[l] && i < layers[l]->n_env; i++)
                if (strncmp(layers[l]->env[i], *e, name_len + 1) == 0)
                    replaced = true;
        if (!replaced)
            env[o++] = *e;
    }
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; layers[l] && i < layers[l]->n_env; i++) {
            //  the task's entry wins over the job's of the same name
            size_t name_len = strcspn(layers[l]->env[i], "=");
            bool later = false;
            for (int m = l + 1; m < 2 && !later; m++)
                for (size_t j = 0; layers[m] && j < layers[m]->n_env; j++)
                    if (strncmp(layers[m]->env[j], layers[l]->env[i], name_len + 1) == 0)
                        later = true;
            if (!later)
                env[o++] = layers[l]->env[i];
        }
    env[o] = NULL;
    return env;
}
