/* The binary interface between a generated program and its callers.
 *
 * A generated shared object exports
 *
 *     int exprc_run(exprc_state *state, const exprc_array *inputs, exprc_array *outputs,
 *                   exprc_error *error);
 *     void exprc_free(void *buffer);
 *     void exprc_state_clear(exprc_state *state);
 *
 * and two callers use it: the cffi path of exprc/link/c/linker.py (whose declarations mirror
 * these structs) and the native call path of exprc_callpath.c.  Any change here must be made
 * in both places.
 */
#ifndef EXPRC_ABI_H
#define EXPRC_ABI_H

#include <stdint.h>

#define EXPRC_MAXDIM 16
#define EXPRC_POOL_SIZE 64

typedef struct {
    char *data;                      /* first element */
    int64_t ndim;
    int64_t shape[EXPRC_MAXDIM];
    int64_t strides[EXPRC_MAXDIM];   /* in bytes; 0 on a broadcast axis */
    void *owner;                     /* allocation to release, or NULL for a borrowed view */
} exprc_array;

/* Error kinds; Python maps them to exception classes. */
#define EXPRC_INDEX_ERROR 1
#define EXPRC_VALUE_ERROR 2
#define EXPRC_MEMORY_ERROR 3
#define EXPRC_INTERRUPTED 4          /* a Python SIGINT handler raised between two nodes */

typedef struct {
    int kind;
    int64_t node;                    /* index of the failing node in topological order */
    char message[512];
} exprc_error;

/* Free buffers (see exprc_runtime.h). */
typedef struct {
    int count;
    void *buffers[EXPRC_POOL_SIZE];
} exprc_pool;

/* What a program keeps from one call to the next: the intermediate buffers of the last call,
 * so that a call with the same shapes allocates nothing, and the last output buffer that
 * Python released (`spare`), so that a function called in a loop reuses its output's memory
 * instead of asking the system for fresh pages every time.  `busy` is taken
 * atomically by a call; a call running at the same time as another (two threads, the GIL
 * released) finds it taken and uses a private free list instead. */
typedef struct {
    int64_t calls;
    int32_t busy;
    int32_t keep;                    /* 0: free the buffers at the end of each call */
    exprc_pool pool;
    void *spare;                     /* an output buffer Python let go of, taken atomically */
    int64_t *node_ns;                /* when profiling: nanoseconds spent in each node */
} exprc_state;

/* Ctrl-C during a call (see "interrupts" in exprc_runtime.h).  A caller holding the GIL calls
 * the runtime library's exprc_interrupt_arm before each exprc_run, giving it a callback that
 * the program calls, in the caller's thread and without the GIL, when a SIGINT has arrived:
 * the callback runs Python's signal handlers and returns non-zero when one raised (the call
 * then stops with EXPRC_INTERRUPTED, the exception left set for the caller to raise) or 0 (the
 * call goes on). */
typedef int (*exprc_interrupt_fn)(void *context);
typedef void (*exprc_interrupt_arm_fn)(exprc_interrupt_fn callback, void *context);

#endif /* EXPRC_ABI_H */
