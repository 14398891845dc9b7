/* Run-time support of generated whole-graph functions: arrays, allocation, errors, iteration.
 *
 * Every value is an exprc_array.  Buffers come from exprc_alloc: 64-byte aligned, with a small
 * header in front holding the usable size and a reference count, so that views (which share
 * their input's buffer) and in-place ops can tell whether anyone else still reads a buffer.  A
 * buffer whose count drops to zero goes to the call's free list (exprc_pool) and a later
 * allocation of at most its size takes it; at the end of a call the free list is kept in the
 * program's exprc_state for the next call (or freed, when the state says so).  Buffers handed
 * to Python are freed by exprc_free.
 *
 * Declared here, defined in exprc_runtime.c: part of the runtime library every program links
 * against (see exprc/link/c/runtime.py).
 */
#ifndef EXPRC_RUNTIME_H
#define EXPRC_RUNTIME_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if !defined(_WIN32)
#include <sys/mman.h>
#endif

#include "exprc_abi.h"
#include "exprc_common.h"

#define EXPRC_ALIGN 64


/* A monotonic clock in nanoseconds, for profiles. */
static inline int64_t exprc_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* ------------------------------------------------------------------ errors */
EXPRC_EXPORT int exprc_set_error(exprc_error *error, int kind, int64_t node, const char *fmt, ...);

/* Integers as "(2, 3)" ("(2,)" for one) or, with square brackets, "[2, 3]", for messages;
 * four rotating buffers so that one message may show several. */
EXPRC_EXPORT const char *exprc_ints_str(int64_t n, const int64_t *values, int square);

/* A shape as "(2, 3)" for messages. */
EXPRC_EXPORT const char *exprc_shape_str(const exprc_array *a);

/* Several shapes as "(2, 3) and (4,)" for messages. */
EXPRC_EXPORT const char *exprc_shapes_str(int n, const exprc_array *const *arrays);

/* ------------------------------------------------------------------ interrupts
 * Ctrl-C during a call.  exprc_interrupt_setup (called when a program is loaded) puts a SIGINT
 * handler in front of the one it finds, normally Python's, and leaves SIG_IGN and SIG_DFL
 * alone; the handler calls the one it displaced first, so Python still records the signal, and
 * then marks it pending.  A program looks at the mark between nodes (exprc_interrupted: one
 * load).  In the thread that Python runs signal handlers in (its main thread) a pending mark is
 * taken and handed to the callback the call was armed with (exprc_interrupt_arm, see
 * exprc_abi.h), which runs Python's handlers at once; the call stops when one raised, and goes
 * on otherwise.  Calls in other threads never stop (Python runs no handler there).  The mark,
 * the handler it displaced and the main thread live in one hub per process: each runtime
 * library loaded after the first joins the first one's (exprc_interrupt_join), so only one
 * exprc handler is ever installed. */
EXPRC_EXPORT extern int *exprc_sigint_pending;

/* Take a pending SIGINT in the main thread and run the armed callback: 1 (the error filled)
 * when the call must stop, else 0. */
EXPRC_EXPORT int exprc_interrupt_take(exprc_error *error, int64_t node);

/* Whether the call must stop before node `node` (the error is then filled). */
static inline int exprc_interrupted(exprc_error *error, int64_t node)
{
    return __builtin_expect(__atomic_load_n(exprc_sigint_pending, __ATOMIC_RELAXED), 0)
           && exprc_interrupt_take(error, node);
}

/* This library's hub, for exprc_interrupt_join. */
EXPRC_EXPORT void *exprc_interrupt_hub(void);

/* Use another library's hub from now on: 0, or -1 when its layout differs (this library's
 * programs then never stop early). */
EXPRC_EXPORT int exprc_interrupt_join(void *hub);

/* Record the thread Python runs signal handlers in (threading.main_thread().ident) and, when
 * called from it, install the handler now: 1 when installed, 0 when SIGINT is ignored or has
 * its default action (nothing to do), -1 when sigaction failed. */
EXPRC_EXPORT int exprc_interrupt_setup(unsigned long main_thread);

/* Prepare a call (any thread; with the GIL): in the main thread, forget a SIGINT that came
 * before it, remember the callback and, at most once per tick of the coarse clock (a few
 * milliseconds), put the handler back in front when Python code installed another one since
 * (signal.signal). */
EXPRC_EXPORT void exprc_interrupt_arm(exprc_interrupt_fn callback, void *context);

/* ------------------------------------------------------------------ allocation */
typedef struct {
    size_t size;                     /* usable bytes */
    int64_t refs;
    size_t offset;                   /* from the start of the malloc'd block to the header */
} exprc_header;

#define EXPRC_HUGE_PAGE ((size_t)2 << 20)
#define EXPRC_HUGE_ALLOC ((size_t)8 << 20)

static inline exprc_header *exprc_header_of(void *ptr)
{
    return (exprc_header *)((char *)ptr - EXPRC_ALIGN);
}

/* A buffer of at least nbytes (64-byte aligned, never NULL for 0 bytes) with one reference. */
EXPRC_EXPORT void *exprc_alloc(size_t nbytes);

/* Free a buffer from exprc_alloc (NULL is ignored). */
EXPRC_EXPORT void exprc_free(void *ptr);

/* The smallest pooled buffer holding nbytes, or a fresh one. */
EXPRC_EXPORT void *exprc_pool_alloc(exprc_pool *pool, size_t nbytes);

static inline void exprc_retain(void *owner)
{
    if (owner != NULL) exprc_header_of(owner)->refs += 1;
}

/* Drop one reference; the last one returns the buffer to the pool (or frees it when full). */
EXPRC_EXPORT void exprc_release(exprc_pool *pool, void *owner);

EXPRC_EXPORT void exprc_pool_clear(exprc_pool *pool);

/* Put a buffer nobody holds into the free list (or free it when the list is full). */
EXPRC_EXPORT void exprc_release_into(exprc_pool *pool, void *buffer);

/* Start a call: take the state's free list if no other call holds it. */
EXPRC_EXPORT int exprc_pool_begin(exprc_state *state, exprc_pool *pool);

/* End a call: give the free list back to the state (it owns the buffers from now on). */
EXPRC_EXPORT void exprc_pool_end(exprc_state *state, exprc_pool *pool, int owned);

/* Free what a state keeps; the program calls this when it is discarded. */
EXPRC_EXPORT void exprc_state_clear(exprc_state *state);

/* An output buffer Python no longer uses: kept as the state's spare for the next call (which
 * takes it with the free list), or freed when the state keeps no buffers.  Safe from any
 * thread: the displaced spare, if any, is freed. */
EXPRC_EXPORT void exprc_give_back(exprc_state *state, void *buffer);

static inline int64_t exprc_refs(const void *owner)
{
    return owner == NULL ? 0 : exprc_header_of((void *)owner)->refs;
}

/* ------------------------------------------------------------------ shapes */
/* Number of elements of shape[0:ndim], or -1 when it (or its byte size) overflows. */
EXPRC_EXPORT int64_t exprc_size(int64_t ndim, const int64_t *shape, int64_t itemsize);

EXPRC_EXPORT void exprc_contiguous_strides(exprc_array *a, int64_t itemsize);

/* Whether a is laid out in C order without gaps (sizes 0 and 1 ignore their stride). */
EXPRC_EXPORT int exprc_is_contiguous(const exprc_array *a, int64_t itemsize);

/* Give a (whose ndim and shape are set) a fresh contiguous buffer; 0, or -1 on overflow or
 * when memory runs out (the error is filled). */
EXPRC_EXPORT int exprc_alloc_array(exprc_pool *pool, exprc_array *a, int64_t itemsize,
                                   exprc_error *error, int64_t node);

/* Whether a has exactly the loop shape sh (no broadcast axis), so a loop may write into it. */
EXPRC_EXPORT int exprc_same_full_shape(const exprc_array *a, const int64_t *sh, int64_t ndim);

/* NumPy's broadcast of the trailing-aligned shapes of ins into shape[0:ndim]; the failing axis
 * (>= 0) when two sizes differ, else -1. */
EXPRC_EXPORT int64_t exprc_broadcast_shape(int nin, const exprc_array *const *ins, int64_t ndim,
                                           int64_t *shape);

/* a's byte strides over a loop of shape[0:ndim]: 0 on new and broadcast axes. */
EXPRC_EXPORT void exprc_loop_strides(const exprc_array *a, int64_t ndim, const int64_t *shape,
                                     int64_t *strides);

/* One integer of an index array as int64; unsigned values past INT64_MAX saturate, which the
 * bounds check then rejects. */
static inline int64_t exprc_index_value(const char *p, int code)
{
    switch (code) {
    case 1: return *(const int8_t *)p;
    case 2: return *(const int16_t *)p;
    case 4: return *(const int32_t *)p;
    case 8: return *(const int64_t *)p;
    case -1: return *(const uint8_t *)p;
    case -2: return *(const uint16_t *)p;
    case -4: return *(const uint32_t *)p;
    default: {
        uint64_t u = *(const uint64_t *)p;
        return u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
    }
    }
}

/* ------------------------------------------------------------------ node glue
 * What many nodes do, as one call each, so that a program's glue stays a few lines per node:
 * the generated code only names its values and constants. */
typedef int (*exprc_kernel_fn)(int64_t ndim, const int64_t *shape, char **data,
                               const int64_t *strides);

#define EXPRC_MAX_OPERANDS 64

/* An elementwise node: broadcast the inputs, give each output the broadcast shape (output 0
 * takes over input `destroyed`'s buffer when nothing else holds it and the shapes agree; -1:
 * none), and run the kernel over every operand's strides. */
EXPRC_EXPORT int exprc_elemwise_node(exprc_pool *pool, int nin, const exprc_array *const *ins,
                                     int nout, exprc_array *const *outs, const int64_t *out_sizes,
                                     int64_t ndim, int destroyed, exprc_kernel_fn kernel,
                                     exprc_error *error, int64_t node);

/* A DimShuffle view: out axis d is x's axis order[d], or a new axis of size 1 where order[d]
 * is -1; the axes of x not named must have size 1 (checked by the caller's message). */
EXPRC_EXPORT void exprc_dimshuffle(exprc_array *out, const exprc_array *x, int64_t ndim,
                                   const int8_t *order);

/* Read the integer vector vec (elements as exprc_index_value's code says) into out[0:n];
 * an error naming `label` when vec does not have n entries. */
EXPRC_EXPORT int exprc_read_ints(const exprc_array *vec, int code, int64_t n, int64_t *out,
                                 const char *label, exprc_error *error, int64_t node);

/* Pick position i (negative: from the end) of axis `axis` of x in the view being built from
 * it: view->data moves there; an IndexError naming `label` when i is out of bounds. */
EXPRC_EXPORT int exprc_index_axis(exprc_array *view, const exprc_array *x, int64_t axis,
                                  int64_t i, const char *label, exprc_error *error,
                                  int64_t node);

/* Hand the value v over to the caller as *out: its own buffer when v holds the only
 * reference to a contiguous buffer it starts (v then lets go of it), else a contiguous copy.
 * `borrowed`: v is an input or a constant, always copied. */
EXPRC_EXPORT int exprc_hand_over(exprc_pool *pool, exprc_array *out, exprc_array *v,
                                 int64_t itemsize, int borrowed, exprc_error *error);

/* ------------------------------------------------------------------ iteration */
/* Walks a loop shape one row (the last axis) at a time over up to four operands. */
#define EXPRC_ITER_MAXOPS 4

typedef struct {
    int64_t ndim, nops, done;
    int64_t shape[EXPRC_MAXDIM];
    int64_t index[EXPRC_MAXDIM];
    int64_t strides[EXPRC_ITER_MAXOPS][EXPRC_MAXDIM];
    char *ptr[EXPRC_ITER_MAXOPS];
    int64_t inner;                   /* row length */
    int64_t step[EXPRC_ITER_MAXOPS]; /* byte stride along the row */
} exprc_iter;

EXPRC_EXPORT void exprc_iter_init(exprc_iter *it, int64_t ndim, const int64_t *shape, int64_t nops,
                                  char *const *data, const int64_t *strides);

/* Move to the next row; 0 when the walk is over. */
EXPRC_EXPORT int exprc_iter_next(exprc_iter *it);

/* dst[...] = src with src broadcast to dst's shape (same dtype). */
EXPRC_EXPORT void exprc_assign(const exprc_array *dst, const exprc_array *src, int64_t itemsize);

/* A Join of n arrays of one dtype along axis into a fresh out; `label` names the node. */
EXPRC_EXPORT int exprc_join(exprc_pool *pool, exprc_array *out, int n,
                            const exprc_array *const *ins,
                            int64_t axis, int64_t itemsize, const char *label, exprc_error *error,
                            int64_t node);

/* A contiguous copy of src in a fresh buffer, its shape unchanged. */
EXPRC_EXPORT int exprc_copy_contiguous(exprc_pool *pool, exprc_array *dst, const exprc_array *src,
                                       int64_t itemsize, exprc_error *error, int64_t node);

/* Python's slice.indices for one axis: the first index and the count of a slice. */
EXPRC_EXPORT void exprc_slice(int64_t length, int64_t has_start, int64_t start, int64_t has_stop,
                              int64_t stop, int64_t step, int64_t *first, int64_t *count);

#endif /* EXPRC_RUNTIME_H */
