/* Definitions of the run-time support declared in exprc_runtime.h.
 *
 * Compiled once into exprc's runtime library (see exprc/link/c/runtime.py), which every
 * generated program links against, so a program's own source holds only its loops and glue.
 */
#include <math.h>
#include <stdbool.h>

#include "exprc_runtime.h"

EXPRC_EXPORT int exprc_set_error(exprc_error *error, int kind, int64_t node, const char *fmt, ...)
{
    va_list args;
    error->kind = kind;
    error->node = node;
    va_start(args, fmt);
    vsnprintf(error->message, sizeof error->message, fmt, args);
    va_end(args);
    return -1;
}

EXPRC_EXPORT const char *exprc_ints_str(int64_t n, const int64_t *values, int square)
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

EXPRC_EXPORT const char *exprc_shape_str(const exprc_array *a)
{
    return exprc_ints_str(a->ndim, a->shape, 0);
}

EXPRC_EXPORT const char *exprc_shapes_str(int n, const exprc_array *const *arrays)
{
    static _Thread_local char out[640];
    int used = 0;
    out[0] = 0;
    for (int k = 0; k < n && used < 440; ++k)
        used += snprintf(out + used, sizeof out - used, k ? " and %s" : "%s",
                         exprc_shape_str(arrays[k]));
    return out;
}

EXPRC_EXPORT void *exprc_alloc(size_t nbytes)
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

EXPRC_EXPORT void exprc_free(void *ptr)
{
    if (ptr == NULL) return;
    exprc_header *header = exprc_header_of(ptr);
    free((char *)header - header->offset);
}

EXPRC_EXPORT void *exprc_pool_alloc(exprc_pool *pool, size_t nbytes)
{
    /* The smallest free buffer that fits, unless it is much larger than asked for: a small
     * value holding a large buffer would send the next large value to the system allocator
     * (whose fresh pages cost a fault each), while small buffers are cheap to allocate. */
    const size_t largest = 4 * nbytes + 65536;
    int best = -1;
    for (int k = 0; k < pool->count; ++k) {
        size_t size = exprc_header_of(pool->buffers[k])->size;
        if (size >= nbytes && size <= largest && (best < 0
                               || size < exprc_header_of(pool->buffers[best])->size))
            best = k;
    }
    if (best < 0) return exprc_alloc(nbytes);
    void *ptr = pool->buffers[best];
    pool->buffers[best] = pool->buffers[--pool->count];
    exprc_header_of(ptr)->refs = 1;
    return ptr;
}

EXPRC_EXPORT void exprc_release(exprc_pool *pool, void *owner)
{
    if (owner == NULL || --exprc_header_of(owner)->refs > 0) return;
    if (pool->count < EXPRC_POOL_SIZE) pool->buffers[pool->count++] = owner;
    else exprc_free(owner);
}

EXPRC_EXPORT void exprc_pool_clear(exprc_pool *pool)
{
    for (int k = 0; k < pool->count; ++k) exprc_free(pool->buffers[k]);
    pool->count = 0;
}

EXPRC_EXPORT void exprc_release_into(exprc_pool *pool, void *buffer)
{
    exprc_header_of(buffer)->refs = 1;
    exprc_release(pool, buffer);
}

EXPRC_EXPORT int exprc_pool_begin(exprc_state *state, exprc_pool *pool)
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

EXPRC_EXPORT void exprc_pool_end(exprc_state *state, exprc_pool *pool, int owned)
{
    if (!owned) {
        exprc_pool_clear(pool);
        return;
    }
    if (state->keep) state->pool = *pool;
    else exprc_pool_clear(pool);
    __atomic_store_n(&state->busy, 0, __ATOMIC_RELEASE);
}

EXPRC_EXPORT void exprc_state_clear(exprc_state *state)
{
    exprc_pool_clear(&state->pool);
    exprc_free(__atomic_exchange_n(&state->spare, NULL, __ATOMIC_ACQUIRE));
}

EXPRC_EXPORT void exprc_give_back(exprc_state *state, void *buffer)
{
    if (buffer == NULL) return;
    if (!state->keep) {
        exprc_free(buffer);
        return;
    }
    exprc_free(__atomic_exchange_n(&state->spare, buffer, __ATOMIC_ACQ_REL));
}

EXPRC_EXPORT int64_t exprc_size(int64_t ndim, const int64_t *shape, int64_t itemsize)
{
    int64_t n = 1;
    for (int64_t d = 0; d < ndim; ++d) {
        if (shape[d] < 0) return -1;
        if (shape[d] != 0 && n > INT64_MAX / itemsize / shape[d]) return -1;
        n *= shape[d];
    }
    return n;
}

EXPRC_EXPORT void exprc_contiguous_strides(exprc_array *a, int64_t itemsize)
{
    int64_t stride = itemsize;
    for (int64_t d = a->ndim - 1; d >= 0; --d) {
        a->strides[d] = stride;
        stride *= a->shape[d] > 0 ? a->shape[d] : 1;
    }
}

EXPRC_EXPORT int exprc_is_contiguous(const exprc_array *a, int64_t itemsize)
{
    int64_t stride = itemsize;
    for (int64_t d = a->ndim - 1; d >= 0; --d) {
        if (a->shape[d] == 0) return 1;
        if (a->shape[d] != 1 && a->strides[d] != stride) return 0;
        stride *= a->shape[d];
    }
    return 1;
}

EXPRC_EXPORT int exprc_alloc_array(exprc_pool *pool, exprc_array *a, int64_t itemsize,
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

EXPRC_EXPORT int exprc_same_full_shape(const exprc_array *a, const int64_t *sh, int64_t ndim)
{
    if (a->ndim != ndim) return 0;
    for (int64_t d = 0; d < ndim; ++d)
        if (a->shape[d] != sh[d] || (sh[d] > 1 && a->strides[d] == 0)) return 0;
    return 1;
}

EXPRC_EXPORT int64_t exprc_broadcast_shape(int nin, const exprc_array *const *ins, int64_t ndim,
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

EXPRC_EXPORT void exprc_loop_strides(const exprc_array *a, int64_t ndim, const int64_t *shape,
                                     int64_t *strides)
{
    int64_t off = ndim - a->ndim;
    for (int64_t d = 0; d < ndim; ++d)
        strides[d] = d < off || (a->shape[d - off] == 1 && shape[d] != 1) ? 0
                     : a->strides[d - off];
}

EXPRC_EXPORT int exprc_elemwise_node(exprc_pool *pool, int nin, const exprc_array *const *ins,
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

EXPRC_EXPORT void exprc_dimshuffle(exprc_array *out, const exprc_array *x, int64_t ndim,
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

EXPRC_EXPORT void exprc_iter_init(exprc_iter *it, int64_t ndim, const int64_t *shape, int64_t nops,
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

EXPRC_EXPORT int exprc_iter_next(exprc_iter *it)
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

EXPRC_EXPORT void exprc_assign(const exprc_array *dst, const exprc_array *src, int64_t itemsize)
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

EXPRC_EXPORT int exprc_join(exprc_pool *pool, exprc_array *out, int n,
                            const exprc_array *const *ins,
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

EXPRC_EXPORT int exprc_copy_contiguous(exprc_pool *pool, exprc_array *dst, const exprc_array *src,
                                       int64_t itemsize, exprc_error *error, int64_t node)
{
    dst->ndim = src->ndim;
    for (int64_t d = 0; d < src->ndim; ++d) dst->shape[d] = src->shape[d];
    if (exprc_alloc_array(pool, dst, itemsize, error, node)) return -1;
    exprc_assign(dst, src, itemsize);
    return 0;
}

EXPRC_EXPORT void exprc_slice(int64_t length, int64_t has_start, int64_t start, int64_t has_stop,
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

EXPRC_EXPORT int exprc_read_ints(const exprc_array *vec, int code, int64_t n, int64_t *out,
                                 const char *label, exprc_error *error, int64_t node)
{
    if (vec->shape[0] != n)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: the target shape has %lld entries, expected %lld", label,
                               (long long)vec->shape[0], (long long)n);
    for (int64_t k = 0; k < n; ++k)
        out[k] = exprc_index_value(vec->data + k * vec->strides[0], code);
    return 0;
}

EXPRC_EXPORT int exprc_index_axis(exprc_array *view, const exprc_array *x, int64_t axis,
                                  int64_t i, const char *label, exprc_error *error,
                                  int64_t node)
{
    const int64_t size = x->shape[axis];
    if (i < -size || i >= size)
        return exprc_set_error(error, EXPRC_INDEX_ERROR, node,
                               "%s: index %lld is out of bounds for axis %lld with size %lld",
                               label, (long long)i, (long long)axis, (long long)size);
    view->data += (i < 0 ? i + size : i) * x->strides[axis];
    return 0;
}

EXPRC_EXPORT int exprc_hand_over(exprc_pool *pool, exprc_array *out, exprc_array *v,
                                 int64_t itemsize, int borrowed, exprc_error *error)
{
    if (!borrowed && exprc_refs(v->owner) == 1 && v->data == (char *)v->owner
        && exprc_is_contiguous(v, itemsize)) {
        *out = *v;
        v->owner = NULL;
        return 0;
    }
    return exprc_copy_contiguous(pool, out, v, itemsize, error, -1);
}

/* ------------------------------------------------------------------ interrupts */
#if !defined(_WIN32)
#include <pthread.h>
#include <signal.h>

typedef struct {
    uint32_t size;                   /* sizeof(exprc_interrupt_state): hubs join only alike */
    int pending;                     /* a SIGINT came since the main thread's call began */
    unsigned long entered;           /* the thread running the handler, 0 when none */
    unsigned long main_thread;       /* where Python runs signal handlers; 0 before setup */
    exprc_interrupt_fn callback;     /* the main thread's current call's */
    void *context;
    int64_t checked_ms;              /* when the installed handler was last looked at */
    void (*handler)(int, siginfo_t *, void *);   /* the exprc handler installed, if any */
    struct sigaction previous;       /* the handler it displaced */
    uintptr_t first_displaced;       /* the one it displaced first (Python's), 0 before */
} exprc_interrupt_state;

static exprc_interrupt_state exprc_interrupt_own = {.size = sizeof(exprc_interrupt_state)};
static exprc_interrupt_state *exprc_interrupt_hub_in_use = &exprc_interrupt_own;
EXPRC_EXPORT int *exprc_sigint_pending = &exprc_interrupt_own.pending;

static unsigned long exprc_interrupt_thread(void)
{
    /* What CPython's threading.get_ident() returns for the same thread. */
    return (unsigned long)pthread_self();
}

static void exprc_interrupt_handler(int signum, siginfo_t *info, void *context)
{
    exprc_interrupt_state *hub = exprc_interrupt_hub_in_use;
    const unsigned long self = exprc_interrupt_thread();
    /* Should the chain lead back here (through a foreign handler that calls whatever it
     * displaced), stop instead of looping. */
    if (__atomic_exchange_n(&hub->entered, self, __ATOMIC_ACQUIRE) == self) return;
    const struct sigaction *previous = &hub->previous;
    if (previous->sa_flags & SA_SIGINFO) {
        if (previous->sa_sigaction != NULL) previous->sa_sigaction(signum, info, context);
    } else if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
        previous->sa_handler(signum);
    }
    __atomic_store_n(&hub->entered, 0, __ATOMIC_RELEASE);
    /* Marked after Python's handler ran, so that a program seeing the mark finds the signal
     * recorded when its callback asks Python to run its handlers. */
    __atomic_store_n(&hub->pending, 1, __ATOMIC_RELEASE);
}

/* Put the handler in front of the installed one unless it is there already, or SIGINT is
 * ignored or has its default action.  Once installed, it goes back in front only of the handler
 * it displaced first (Python's, which signal.signal puts back): a foreign handler installed
 * since may chain to this one, and going in front of it would make a loop. */
static int exprc_interrupt_install(exprc_interrupt_state *hub)
{
    struct sigaction current, mine;
    if (sigaction(SIGINT, NULL, &current) != 0) return -1;
    const int info = (current.sa_flags & SA_SIGINFO) != 0;
    if (info && hub->handler != NULL && current.sa_sigaction == hub->handler) return 1;
    if (!info && (current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN)) return 0;
    const uintptr_t found = info ? (uintptr_t)current.sa_sigaction
                                 : (uintptr_t)current.sa_handler;
    if (hub->first_displaced != 0 && found != hub->first_displaced) return 0;
    /* No exprc handler is installed, so none reads `previous` while it changes. */
    hub->first_displaced = found;
    hub->previous = current;
    hub->handler = exprc_interrupt_handler;
    mine = current;
    mine.sa_sigaction = exprc_interrupt_handler;
    mine.sa_flags = current.sa_flags | SA_SIGINFO;
    return sigaction(SIGINT, &mine, NULL) == 0 ? 1 : -1;
}

static int64_t exprc_interrupt_clock_ms(void)
{
    struct timespec now;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);   /* a few nanoseconds: no system call */
#else
    clock_gettime(CLOCK_MONOTONIC, &now);
#endif
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

EXPRC_EXPORT void *exprc_interrupt_hub(void)
{
    return exprc_interrupt_hub_in_use;
}

EXPRC_EXPORT int exprc_interrupt_join(void *hub)
{
    exprc_interrupt_state *other = hub;
    if (other == NULL || other->size != sizeof(exprc_interrupt_state)) return -1;
    exprc_interrupt_hub_in_use = other;
    exprc_sigint_pending = &other->pending;
    return 0;
}

EXPRC_EXPORT int exprc_interrupt_setup(unsigned long main_thread)
{
    exprc_interrupt_state *hub = exprc_interrupt_hub_in_use;
    hub->main_thread = main_thread;
    if (exprc_interrupt_thread() != main_thread) return 0;
    hub->checked_ms = exprc_interrupt_clock_ms();
    return exprc_interrupt_install(hub);
}

EXPRC_EXPORT void exprc_interrupt_arm(exprc_interrupt_fn callback, void *context)
{
    exprc_interrupt_state *hub = exprc_interrupt_hub_in_use;
    if (exprc_interrupt_thread() != hub->main_thread) return;
    hub->callback = callback;
    hub->context = context;
    /* Python's signal.signal replaces the C-level handler, and looking at it costs a system
     * call (hundreds of nanoseconds, a fifth of a small call): once per clock tick. */
    const int64_t now = exprc_interrupt_clock_ms();
    if (now != hub->checked_ms) {
        hub->checked_ms = now;
        exprc_interrupt_install(hub);
    }
    /* A previous handler that left with longjmp never cleared its guard. */
    __atomic_store_n(&hub->entered, 0, __ATOMIC_RELAXED);
    /* A SIGINT before this call was Python's to handle, and it has. */
    __atomic_store_n(&hub->pending, 0, __ATOMIC_RELAXED);
}

EXPRC_EXPORT int exprc_interrupt_take(exprc_error *error, int64_t node)
{
    exprc_interrupt_state *hub = exprc_interrupt_hub_in_use;
    if (exprc_interrupt_thread() != hub->main_thread) return 0;
    if (!__atomic_exchange_n(&hub->pending, 0, __ATOMIC_ACQUIRE)) return 0;
    if (hub->callback != NULL && hub->callback(hub->context) == 0) return 0;
    exprc_set_error(error, EXPRC_INTERRUPTED, node, "interrupted by SIGINT");
    return 1;
}

#else /* no POSIX signals: calls are not interrupted */
static int exprc_interrupt_never = 0;
EXPRC_EXPORT int *exprc_sigint_pending = &exprc_interrupt_never;

EXPRC_EXPORT void *exprc_interrupt_hub(void) { return NULL; }
EXPRC_EXPORT int exprc_interrupt_join(void *hub) { (void)hub; return -1; }
EXPRC_EXPORT int exprc_interrupt_setup(unsigned long main_thread)
{
    (void)main_thread;
    return 0;
}
EXPRC_EXPORT void exprc_interrupt_arm(exprc_interrupt_fn callback, void *context)
{
    (void)callback;
    (void)context;
}
EXPRC_EXPORT int exprc_interrupt_take(exprc_error *error, int64_t node)
{
    (void)error;
    (void)node;
    return 0;
}
#endif
