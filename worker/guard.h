/*  guard — kills the worker's handler process groups if the worker dies.

    A handler process gets SIGKILL when the worker dies (PR_SET_PDEATHSIG),
    but what it started itself does not. The guard is a small process forked
    from the worker that learns each handler process group as it is created
    and forgotten; when the worker goes away (kill -9 included) its pipe
    reads end-of-file and the guard SIGKILLs every group it still knows,
    so nothing the worker started outlives it. */
#ifndef SHOAL_WORKER_GUARD_H
#define SHOAL_WORKER_GUARD_H

#include <sys/types.h>

typedef struct _guard_t guard_t;

//  Fork the guard process. Returns NULL (with errno) when it cannot.
guard_t *guard_new(void);
//  Tell the guard to stop (it kills nothing) and reap it; NULLs the pointer.
void guard_destroy(guard_t **self_p);
//  The guard's pid (for tests).
pid_t guard_pid(const guard_t *self);
//  A process group to kill if the worker dies.
void guard_add(guard_t *self, pid_t pgid);
//  A process group that is gone (its leader was reaped).
void guard_remove(guard_t *self, pid_t pgid);

#endif
