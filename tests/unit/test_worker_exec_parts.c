/*  test_worker_exec_parts — worker/exec_parts.c: the kept tail of an
    output stream (small writes, a write larger than the tail, wrap-around,
    a zero cap) and the command's environment (the worker's without
    SHOAL_*, the job's entries, the task's winning over both). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "exec_parts.h"

static char *
s_flat(const exec_tail_t *t)
{
    uint8_t *f = exec_tail_flat(t);
    char *s = calloc(1, t->len + 1);
    memcpy(s, f, t->len);
    free(f);
    return s;
}

static void
test_tail(void)
{
    exec_tail_t t = { .cap = 8 };
    exec_tail_add(&t, (const uint8_t *) "abc", 3);
    char *s = s_flat(&t);
    CHECK_STR(s, "abc");
    free(s);
    exec_tail_add(&t, (const uint8_t *) "defghij", 7);     //  wraps: the last 8 of "abcdefghij"
    s = s_flat(&t);
    CHECK_STR(s, "cdefghij");
    free(s);
    exec_tail_add(&t, (const uint8_t *) "0123456789XYZ", 13);   //  larger than the tail
    s = s_flat(&t);
    CHECK_STR(s, "56789XYZ");
    free(s);
    exec_tail_add(&t, (const uint8_t *) "!", 1);
    s = s_flat(&t);
    CHECK_STR(s, "6789XYZ!");
    CHECK(t.len == 8);
    free(s);
    free(t.data);
    //  a zero cap keeps nothing and allocates nothing
    exec_tail_t none = { .cap = 0 };
    exec_tail_add(&none, (const uint8_t *) "abc", 3);
    CHECK(none.len == 0 && none.data == NULL);
}

static const char *
s_get(char **env, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;
    int count = 0;
    for (char **e = env; *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=') {
            found = *e + n + 1;
            count++;
        }
    return count > 1 ? "(twice)" : found;
}

static void
test_environment(void)
{
    setenv("PLAIN", "worker", 1);
    setenv("BOTH", "worker", 1);
    setenv("SHOAL_BROKER", "tcp://secret:5556", 1);
    char *job_env[] = { "BOTH=job", "JOBONLY=j", "SHARED=job" };
    char *task_env[] = { "SHARED=task", "TASKONLY=t" };
    Shoal__ExecSpec d = SHOAL__EXEC_SPEC__INIT, t = SHOAL__EXEC_SPEC__INIT;
    d.n_env = 3;
    d.env = job_env;
    t.n_env = 2;
    t.env = task_env;
    char **env = exec_environment(&t, &d);
    CHECK(env != NULL);
    CHECK_STR(s_get(env, "PLAIN"), "worker");
    CHECK_STR(s_get(env, "BOTH"), "job");           //  the job's over the worker's
    CHECK_STR(s_get(env, "JOBONLY"), "j");
    CHECK_STR(s_get(env, "SHARED"), "task");        //  the task's over the job's
    CHECK_STR(s_get(env, "TASKONLY"), "t");
    CHECK(s_get(env, "SHOAL_BROKER") == NULL);      //  the worker's own settings stay home
    free(env);
    //  no job or task entries: the worker's environment minus SHOAL_*
    env = exec_environment(NULL, NULL);
    CHECK_STR(s_get(env, "BOTH"), "worker");
    CHECK(s_get(env, "SHOAL_BROKER") == NULL);
    free(env);
}

int
main(void)
{
    test_tail();
    test_environment();
    return check_result("test_worker_exec_parts");
}
