/* Run-time support of generated whole-graph functions: arrays, allocation, errors, iteration.
 *
 * Every value is an exprc_array.  Buffers come from exprc_alloc: 64-byte aligned, with a small
 * header in front holding the usable size and a reference count, so that views (which share
 * their input's buffer) and in-place ops can tell whether anyone else still reads a buffer.  A
 * buffer whose count drops to zero goes to the call's free list (exprc_pool) and a later
 * allocation of at most its size takes it; at the end of a call the free list is kept in the
 * program's exprc_state for the next call (or freed, when the state says so).  Buffers handed
 * to Python are freed by exprc_free.
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
static int exprc_set_error(exprc_error *error, int kind, int64_t node, const char *fmt, ...)
{
    va_list args;
    error->kind = kind;
    error->node = node;
    va_start(args, fmt);
    vsnprintf(error->message, sizeof error->message, fmt, args);
    va_end(args);
    return -1;
}

/* Integers as "(2, 3)" ("(2,)" for one) or, with square brackets, "[2, 3]", for messages;
 * four rotating buffers so that one message may show several. */
static const char *exprc_ints_str(int64_t n, const int64_t *values, int square)
{
    static _Thread_local char buffers[4][200];
    static _Thread_local int next = 0;
    char *out = buffers[next];
    next = (next + 1) % 4;
    int used = snprintf(out, 200, square ? "[" : "(");
    for (int64_t d = 0; d < n && used < 170; ++d)
        used += snprintf(out + used, 200 - used, d ? ", %lld" : "%lld", (long long)values[d]);
    if (used >= 170 && n > 0) used += snprintf(out + used, 200 - used, ", ...");
    snprintf(out + used, 200 - used, square ? "]" : n == 1 ? ",)" : ")");
    return out;
}

/* A shape as "(2, 3)" for messages. */
static const char *exprc_shape_str(const exprc_array *a)
{
    return exprc_ints_str(a->ndim, a->shape, 0);
}

/* Several shapes as "(2, 3) and (4,)" for messages. */
static const char *exprc_shapes_str(int n, const exprc_array *const *arrays)
{
    static _Thread_local char out[640];
    int used = 0;
    out[0] = 0;
    for (int k = 0; k < n && used < 440; ++k)
        used += snprintf(out + used, sizeof out - used, k ? " and %s" : "%s",
                         exprc_shape_str(arrays[k]));
    return out;
}

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
static void *exprc_alloc(size_t nbytes)
{
    size_t size = (nbytes + EXPRC_ALIGN - 1) / EXPRC_ALIGN * EXPRC_ALIGN;
    char *block;
#ifdef MADV_HUGEPAGE
    if (size >= EXPRC_HUGE_ALLOC) {
        /* A fresh large buffer costs one page fault per 4 KiB page on first touch, which
         * dominates a memory-bound loop; huge pages cut that 512-fold.  The block starts one
         * huge page early so that the header sits just before an aligned data pointer. */
        size_t total = (size + 2 * EXPRC_HUGE_PAGE - 1) / EXPRC_HUGE_PAGE * EXPRC_HUGE_PAGE;
        block = aligned_alloc(EXPRC_HUGE_PAGE, total);
        if (block == NULL) return NULL;
        madvise(block, total, MADV_HUGEPAGE);
        block += EXPRC_HUGE_PAGE - EXPRC_ALIGN;
        ((exprc_header *)block)->offset = EXPRC_HUGE_PAGE - EXPRC_ALIGN;
    } else
#endif
    {
        block = aligned_alloc(EXPRC_ALIGN, size + EXPRC_ALIGN);
        if (block == NULL) return NULL;
        ((exprc_header *)block)->offset = 0;
    }
    exprc_header *header = (exprc_header *)block;
    header->size = size;
    header->refs = 1;
    return block + EXPRC_ALIGN;
}

/* A program built in two parts (see exprc/link/c/program.py) defines its exported functions
 * once, in the part holding exprc_run. */
#if !defined(EXPRC_PART) || EXPRC_PART == 2
#define EXPRC_DEFINE_EXPORTS 1
#endif

#ifdef EXPRC_DEFINE_EXPORTS
EXPRC_EXPORT void exprc_free(void *ptr)
{
    if (ptr == NULL) return;
    exprc_header *header = exprc_header_of(ptr);
    free((char *)header - header->offset);
}
#else
void exprc_free(void *ptr);
#endif


/* The smallest pooled buffer holding nbytes, or a fresh one. */
static void *exprc_pool_alloc(exprc_pool *pool, size_t nbytes)
{
    int best = -1;
    for (int k = 0; k < pool->count; ++k) {
        size_t size = exprc_header_of(pool->buffers[k])->size;
        if (size >= nbytes && (best < 0
                               || size < exprc_header_of(pool->buffers[best])->size))
            best = k;
    }
    if (best < 0) return exprc_alloc(nbytes);
    void *ptr = pool->buffers[best];
    pool->buffers[best] = pool->buffers[--pool->count];
    exprc_header_of(ptr)->refs = 1;
    return ptr;
}

static inline void exprc_retain(void *owner)
{
    if (owner != NULL) exprc_header_of(owner)->refs += 1;
}

/* Drop one reference; the last one returns the buffer to the pool (or frees it when full). */
static void exprc_release(exprc_pool *pool, void *owner)
{
    if (owner == NULL || --exprc_header_of(owner)->refs > 0) return;
    if (pool->count < EXPRC_POOL_SIZE) pool->buffers[pool->count++] = owner;
    else exprc_free(owner);
}

static void exprc_pool_clear(exprc_pool *pool)
{
    for (int k = 0; k < pool->count; ++k) exprc_free(pool->buffers[k]);
    pool->count = 0;
}

/* Put a buffer nobody holds into the free list (or free it when the list is full). */
static void exprc_release_into(exprc_pool *pool, void *buffer)
{
    exprc_header_of(buffer)->refs = 1;
    exprc_release(pool, buffer);
}

/* Start a call: take the state's free list if no other call holds it. */
static int exprc_pool_begin(exprc_state *state, exprc_pool *pool)
{
    pool->count = 0;
    if (state == NULL || __atomic_exchange_n(&state->busy, 1, __ATOMIC_ACQUIRE) != 0) return 0;
    *pool = state->pool;
    state->pool.count = 0;
    state->calls += 1;
    void *spare = __atomic_exchange_n(&state->spare, NULL, __ATOMIC_ACQUIRE);
    if (spare != NULL) exprc_release_into(pool, spare);
    return 1;
}

/* End a call: give the free list back to the state (it owns the buffers from now on). */
static void exprc_pool_end(exprc_state *state, exprc_pool *pool, int owned)
{
    if (!owned) {
        exprc_pool_clear(pool);
        return;
    }
    if (state->keep) state->pool = *pool;
    else exprc_pool_clear(pool);
    __atomic_store_n(&state->busy, 0, __ATOMIC_RELEASE);
}

/* Free what a state keeps; the program calls this when it is discarded. */
#ifdef EXPRC_DEFINE_EXPORTS
EXPRC_EXPORT void exprc_state_clear(exprc_state *state)
{
    exprc_pool_clear(&state->pool);
    exprc_free(__atomic_exchange_n(&state->spare, NULL, __ATOMIC_ACQUIRE));
}

/* An output buffer Python no longer uses: kept as the state's spare for the next call (which
 * takes it with the free list), or freed when the state keeps no buffers.  Safe from any
 * thread: the displaced spare, if any, is freed. */
EXPRC_EXPORT void exprc_give_back(exprc_state *state, void *buffer)
{
    if (buffer == NULL) return;
    if (!state->keep) {
        exprc_free(buffer);
        return;
    }
    exprc_free(__atomic_exchange_n(&state->spare, buffer, __ATOMIC_ACQ_REL));
}
#endif

static inline int64_t exprc_refs(const void *owner)
{
    return owner == NULL ? 0 : exprc_header_of((void *)owner)->refs;
}

/* ------------------------------------------------------------------ shapes */
/* Number of elements of shape[0:ndim], or -1 when it (or its byte size) overflows. */
static int64_t exprc_size(int64_t ndim, const int64_t *shape, int64_t itemsize)
{
    int64_t n = 1;
    for (int64_t d = 0; d < ndim; ++d) {
        if (shape[d] < 0) return -1;
        if (shape[d] != 0 && n > INT64_MAX / itemsize / shape[d]) return -1;
        n *= shape[d];
    }
    return n;
}

static void exprc_contiguous_strides(exprc_array *a, int64_t itemsize)
{
    int64_t stride = itemsize;
    for (int64_t d = a->ndim - 1; d >= 0; --d) {
        a->strides[d] = stride;
        stride *= a->shape[d] > 0 ? a->shape[d] : 1;
    }
}

/* Whether a is laid out in C order without gaps (sizes 0 and 1 ignore their stride). */
static int exprc_is_contiguous(const exprc_array *a, int64_t itemsize)
{
    int64_t stride = itemsize;
    for (int64_t d = a->ndim - 1; d >= 0; --d) {
        if (a->shape[d] == 0) return 1;
        if (a->shape[d] != 1 && a->strides[d] != stride) return 0;
        stride *= a->shape[d];
    }
    return 1;
}

/* Give a (whose ndim and shape are set) a fresh contiguous buffer; 0, or -1 on overflow or
 * when memory runs out (the error is filled). */
static int exprc_alloc_array(exprc_pool *pool, exprc_array *a, int64_t itemsize,
                             exprc_error *error, int64_t node)
{
    int64_t n = exprc_size(a->ndim, a->shape, itemsize);
    if (n < 0)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "array of shape %s is too large",
                               exprc_shape_str(a));
    a->owner = exprc_pool_alloc(pool, (size_t)(n * itemsize));
    if (a->owner == NULL)
        return exprc_set_error(error, EXPRC_MEMORY_ERROR, node,
                               "cannot allocate %lld bytes for an array of shape %s",
                               (long long)(n * itemsize), exprc_shape_str(a));
    a->data = a->owner;
    exprc_contiguous_strides(a, itemsize);
    return 0;
}

/* Whether a has exactly the loop shape sh (no broadcast axis), so a loop may write into it. */
static int exprc_same_full_shape(const exprc_array *a, const int64_t *sh, int64_t ndim)
{
    if (a->ndim != ndim) return 0;
    for (int64_t d = 0; d < ndim; ++d)
        if (a->shape[d] != sh[d] || (sh[d] > 1 && a->strides[d] == 0)) return 0;
    return 1;
}

/* NumPy's broadcast of the trailing-aligned shapes of ins into shape[0:ndim]; the failing axis
 * (>= 0) when two sizes differ, else -1. */
static int64_t exprc_broadcast_shape(int nin, const exprc_array *const *ins, int64_t ndim,
                                     int64_t *shape)
{
    for (int64_t d = 0; d < ndim; ++d) {
        shape[d] = 1;
        for (int k = 0; k < nin; ++k) {
            int64_t off = ndim - ins[k]->ndim;
            int64_t size = d >= off ? ins[k]->shape[d - off] : 1;
            if (size == 1) continue;
            if (shape[d] == 1) shape[d] = size;
            else if (shape[d] != size) return d;
        }
    }
    return -1;
}

/* a's byte strides over a loop of shape[0:ndim]: 0 on new and broadcast axes. */
static void exprc_loop_strides(const exprc_array *a, int64_t ndim, const int64_t *shape,
                               int64_t *strides)
{
    int64_t off = ndim - a->ndim;
    for (int64_t d = 0; d < ndim; ++d)
        strides[d] = d < off || (a->shape[d - off] == 1 && shape[d] != 1) ? 0
                     : a->strides[d - off];
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
static int exprc_elemwise_node(exprc_pool *pool, int nin, const exprc_array *const *ins,
                               int nout, exprc_array *const *outs, const int64_t *out_sizes,
                               int64_t ndim, int destroyed, exprc_kernel_fn kernel,
                               exprc_error *error, int64_t node)
{
    int64_t sh[EXPRC_MAXDIM + 1] = {1};
    int64_t bad = exprc_broadcast_shape(nin, ins, ndim, sh);
    if (bad >= 0)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "shapes %s do not broadcast together (axis %lld differs)",
                               exprc_shapes_str(nin, ins), (long long)bad);
    for (int j = 0; j < nout; ++j) {
        exprc_array *out = outs[j];
        if (j == 0 && destroyed >= 0 && exprc_refs(ins[destroyed]->owner) == 1
            && exprc_same_full_shape(ins[destroyed], sh, ndim)) {
            *out = *ins[destroyed];
            exprc_retain(out->owner);
            continue;
        }
        out->ndim = ndim;
        for (int64_t d = 0; d < ndim; ++d) out->shape[d] = sh[d];
        if (exprc_alloc_array(pool, out, out_sizes[j], error, node)) return -1;
    }
    char *data[EXPRC_MAX_OPERANDS];
    int64_t st[EXPRC_MAX_OPERANDS * EXPRC_MAXDIM];
    for (int k = 0; k < nin + nout; ++k) {
        const exprc_array *a = k < nin ? ins[k] : outs[k - nin];
        data[k] = a->data;
        exprc_loop_strides(a, ndim, sh, st + k * ndim);
    }
    if (kernel(ndim, sh, data, st) != 0)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "the elementwise loop takes at most %d operands, got %d",
                               EXPRC_MAX_OPERANDS, nin + nout);
    return 0;
}

/* A DimShuffle view: out axis d is x's axis order[d], or a new axis of size 1 where order[d]
 * is -1; the axes of x not named must have size 1 (checked by the caller's message). */
static void exprc_dimshuffle(exprc_array *out, const exprc_array *x, int64_t ndim,
                             const int8_t *order)
{
    exprc_array view = *x;
    view.ndim = ndim;
    for (int64_t d = 0; d < ndim; ++d) {
        view.shape[d] = order[d] < 0 ? 1 : x->shape[order[d]];
        view.strides[d] = order[d] < 0 ? 0 : x->strides[order[d]];
    }
    *out = view;
    exprc_retain(out->owner);
}

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

static void exprc_iter_init(exprc_iter *it, int64_t ndim, const int64_t *shape, int64_t nops,
                            char *const *data, const int64_t *strides)
{
    it->ndim = ndim;
    it->nops = nops;
    it->done = 0;
    for (int64_t d = 0; d < ndim; ++d) {
        it->shape[d] = shape[d];
        it->index[d] = 0;
        if (shape[d] == 0) it->done = 1;
    }
    for (int64_t k = 0; k < nops; ++k) {
        it->ptr[k] = data[k];
        for (int64_t d = 0; d < ndim; ++d) it->strides[k][d] = strides[k * ndim + d];
        it->step[k] = ndim > 0 ? it->strides[k][ndim - 1] : 0;
    }
    it->inner = ndim > 0 ? shape[ndim - 1] : 1;
}

/* Move to the next row; 0 when the walk is over. */
static int exprc_iter_next(exprc_iter *it)
{
    for (int64_t d = it->ndim - 2; d >= 0; --d) {
        if (++it->index[d] < it->shape[d]) {
            for (int64_t k = 0; k < it->nops; ++k) it->ptr[k] += it->strides[k][d];
            return 1;
        }
        it->index[d] = 0;
        for (int64_t k = 0; k < it->nops; ++k)
            it->ptr[k] -= (it->shape[d] - 1) * it->strides[k][d];
    }
    return 0;
}

/* dst[...] = src with src broadcast to dst's shape (same dtype). */
static void exprc_assign(const exprc_array *dst, const exprc_array *src, int64_t itemsize)
{
    /* The common case, a whole contiguous array copied into a fresh one: one memcpy. */
    if (src->ndim == dst->ndim && exprc_is_contiguous(src, itemsize)
        && exprc_is_contiguous(dst, itemsize)) {
        int same = 1;
        for (int64_t d = 0; d < dst->ndim; ++d) same &= src->shape[d] == dst->shape[d];
        if (same) {
            int64_t n = exprc_size(dst->ndim, dst->shape, itemsize);
            if (n > 0) memcpy(dst->data, src->data, (size_t)(n * itemsize));
            return;
        }
    }
    int64_t strides[2 * EXPRC_MAXDIM];
    char *data[2] = {dst->data, src->data};
    for (int64_t d = 0; d < dst->ndim; ++d) strides[d] = dst->strides[d];
    exprc_loop_strides(src, dst->ndim, dst->shape, strides + dst->ndim);
    exprc_iter it;
    exprc_iter_init(&it, dst->ndim, dst->shape, 2, data, strides);
    if (it.done) return;
    do {
        char *out = it.ptr[0];
        const char *in = it.ptr[1];
        const int64_t n = it.inner, so = it.step[0], si = it.step[1];
        if (so == itemsize && si == itemsize) {            /* contiguous rows */
            memcpy(out, in, (size_t)(n * itemsize));
        } else if (so == itemsize && si == 0 && itemsize == 4) {   /* a repeated value */
            uint32_t v;
            memcpy(&v, in, 4);
            for (int64_t i = 0; i < n; ++i) ((uint32_t *)out)[i] = v;
        } else if (so == itemsize && si == 0 && itemsize == 8) {
            uint64_t v;
            memcpy(&v, in, 8);
            for (int64_t i = 0; i < n; ++i) ((uint64_t *)out)[i] = v;
        } else {
            for (int64_t i = 0; i < n; ++i, out += so, in += si)
                memcpy(out, in, (size_t)itemsize);
        }
    } while (exprc_iter_next(&it));
}

/* A Join of n arrays of one dtype along axis into a fresh out; `label` names the node. */
static int exprc_join(exprc_pool *pool, exprc_array *out, int n, const exprc_array *const *ins,
                      int64_t axis, int64_t itemsize, const char *label, exprc_error *error,
                      int64_t node)
{
    const exprc_array *first = ins[0];
    int64_t total = 0;
    for (int k = 0; k < n; ++k) {
        for (int64_t d = 0; d < first->ndim; ++d)
            if (d != axis && ins[k]->shape[d] != first->shape[d])
                return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                                       "%s: cannot join arrays of shapes %s, %s: sizes differ "
                                       "on an axis other than %lld", label,
                                       exprc_shape_str(first), exprc_shape_str(ins[k]),
                                       (long long)axis);
        total += ins[k]->shape[axis];
    }
    out->ndim = first->ndim;
    for (int64_t d = 0; d < first->ndim; ++d) out->shape[d] = d == axis ? total : first->shape[d];
    if (exprc_alloc_array(pool, out, itemsize, error, node)) return -1;
    int64_t offset = 0;
    for (int k = 0; k < n; ++k) {
        exprc_array part = *out;
        part.shape[axis] = ins[k]->shape[axis];
        part.data = out->data + offset * out->strides[axis];
        exprc_assign(&part, ins[k], itemsize);
        offset += ins[k]->shape[axis];
    }
    return 0;
}

/* A contiguous copy of src in a fresh buffer, its shape unchanged. */
static int exprc_copy_contiguous(exprc_pool *pool, exprc_array *dst, const exprc_array *src,
                                 int64_t itemsize, exprc_error *error, int64_t node)
{
    dst->ndim = src->ndim;
    for (int64_t d = 0; d < src->ndim; ++d) dst->shape[d] = src->shape[d];
    if (exprc_alloc_array(pool, dst, itemsize, error, node)) return -1;
    exprc_assign(dst, src, itemsize);
    return 0;
}

/* Python's slice.indices for one axis: the first index and the count of a slice. */
static void exprc_slice(int64_t length, int64_t has_start, int64_t start, int64_t has_stop,
                        int64_t stop, int64_t step, int64_t *first, int64_t *count)
{
    int64_t lower = step < 0 ? -1 : 0, upper = step < 0 ? length - 1 : length;
    if (!has_start) start = step < 0 ? upper : lower;
    else if (start < 0) start = start + length < lower ? lower : start + length;
    else if (start > upper) start = upper;
    if (!has_stop) stop = step < 0 ? lower : upper;
    else if (stop < 0) stop = stop + length < lower ? lower : stop + length;
    else if (stop > upper) stop = upper;
    *first = start;
    /* start and stop now lie in [-1, length], so their difference fits; the step may be near
     * +-2**63, so it is never added to it, and its magnitude is taken unsigned (-INT64_MIN
     * does not fit an int64_t). */
    if (step > 0) *count = stop > start ? (stop - start - 1) / step + 1 : 0;
    else *count = start > stop
        ? (int64_t)((uint64_t)(start - stop - 1) / ((uint64_t)0 - (uint64_t)step)) + 1 : 0;
}

#endif /* EXPRC_RUNTIME_H */
