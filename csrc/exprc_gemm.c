/* Matrix products through CBLAS, declared in exprc_gemm.h (part of the runtime library),
 * and the thread policy of those products, declared in exprc_blas.h. */
#include <string.h>
#include <time.h>

#include "exprc_gemm.h"

#if defined(__linux__)
#include <sys/resource.h>
#include <unistd.h>
#ifndef RUSAGE_THREAD
#define RUSAGE_THREAD 1 /* Linux's value; <sys/resource.h> names it only under _GNU_SOURCE */
#endif
#define EXPRC_WATCH_CONTENTION 1
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

exprc_blas_table exprc_blas;

EXPRC_EXPORT void exprc_blas_bind(void *sgemm, void *dgemm)
{
    exprc_blas.sgemm = (exprc_sgemm_fn)sgemm;
    exprc_blas.dgemm = (exprc_dgemm_fn)dgemm;
}

/* ------------------------------------------------------------------ thread policy
 *
 * Size.  OpenBLAS splits any product above about 2**18 multiply-adds over all its threads.
 * Measured on the products of the benchmark steps (2-core Zen 5), a thin one, depth k under
 * 16, ran 2.2x slower on two threads than on one (128 x 10 @ 10 x 500: 41 us against 18).
 * Products of a few million multiply-adds gain nothing either: waking the second thread and
 * waiting for it costs about what it saves.  The tutorial MLP's step (W10: batch 20, products
 * of 7.8 million multiply-adds) took 2.2-2.4 ms with them on two threads and 1.14 ms on one;
 * from 2**23 up (W3's and W4's products), two threads gained 1.3-1.9x.
 *
 * Contention.  A split product ends when its slowest thread does: OpenBLAS's threads wait for
 * each other inside the product, and libgomp's at the end of each loop.  When the machine
 * has more runnable threads than cores, the scheduler deschedules one of them for a whole
 * time slice (milliseconds) while the others wait for it: a W10 step (the tutorial MLP,
 * products of 0.3-0.5 ms) took 7.7 ms beside two busy processes on 2 cores against 2.9 ms on
 * one thread.  The calling thread's involuntary context switches tell that cheaply: a thread
 * alone on its core is almost never preempted (4 per second measured here, quiet or with one
 * busy process on the other core), one that shares a core with another runnable thread is
 * preempted at every time slice (100 per second beside two busy processes).  So the rate is
 * read (getrusage, one system call) at most once per window, and while other processes keep
 * it at or above EXPRC_BUSY_SWITCHES per second (see exprc_machine_busy for how they are told
 * from this process's own threads) the products, and the calling thread's OpenMP loops, run on
 * one thread.  The busy state is held for a while, doubled each time that leaving it is
 * followed at once by contention again, so that the bad case is retried rarely. */
#define EXPRC_GEMM_THREAD_MIN_MACS 8388608.0 /* 2**23 */
#define EXPRC_GEMM_THREAD_MIN_K 16
#define EXPRC_BUSY_WINDOW 0.05         /* seconds between two looks at the rate */
#define EXPRC_BUSY_SWITCHES 60.0       /* involuntary switches per second */
#define EXPRC_BUSY_HOLD_MIN 0.25       /* seconds the busy state lasts at least ... */
#define EXPRC_BUSY_HOLD_MAX 4.0        /* ... and at most, after repeated relapses */

typedef void (*exprc_set_threads_fn)(int);

/* Plain statics: the policy is process-wide, as OpenBLAS's thread count is.  Two Python threads
 * calling products at once can interleave their updates; the worst outcome is one product run
 * on a thread count meant for the other. */
static struct {
    exprc_set_threads_fn set_num_threads;
    int count;   /* the count Python applied */
    int current; /* the count OpenBLAS was last given */
    int backoff; /* whether to watch for contention */
    int busy;    /* products and loops on one thread (busy, or probing) */
    int probing; /* this window tells whether the preemptions came from other processes */
    double window_start, busy_until, left_at, hold, ignore_until, own_hold;
    long switches;
    int omp_saved; /* the OpenMP thread count put back when the machine is no longer busy */
    long pid;      /* the process that bound the policy: a forked child leaves OpenMP alone */
} exprc_threads;

#ifdef EXPRC_WATCH_CONTENTION
static void exprc_set_busy(int busy);
#endif

EXPRC_EXPORT void exprc_blas_bind_threads(void *set_num_threads, int count, int backoff)
{
    exprc_threads.set_num_threads = (exprc_set_threads_fn)set_num_threads;
    exprc_threads.count = count > 0 ? count : 1;
    exprc_threads.current = exprc_threads.count; /* Python has just applied it */
    exprc_threads.backoff = backoff;
    if (exprc_threads.hold <= 0) exprc_threads.hold = EXPRC_BUSY_HOLD_MIN;
    if (exprc_threads.own_hold <= 0) exprc_threads.own_hold = EXPRC_BUSY_HOLD_MIN / 2;
#ifdef EXPRC_WATCH_CONTENTION
    exprc_threads.pid = (long)getpid();
    if (!backoff && exprc_threads.busy) {
        exprc_threads.probing = 0;
        exprc_set_busy(0);
    }
#endif
}

EXPRC_EXPORT int exprc_blas_contended(void) { return exprc_threads.busy; }

#ifdef EXPRC_WATCH_CONTENTION
static void exprc_set_busy(int busy)
{
    exprc_threads.busy = busy;
#ifdef _OPENMP
    if ((long)getpid() != exprc_threads.pid) return; /* see exprc_openmp_single_thread */
    if (busy) {
        exprc_threads.omp_saved = omp_get_max_threads();
        if (exprc_threads.omp_saved > 1) omp_set_num_threads(1);
    } else if (exprc_threads.omp_saved > 1 && omp_get_max_threads() == 1) {
        omp_set_num_threads(exprc_threads.omp_saved);
    }
#endif
}

/* Whether the machine is oversubscribed, by the calling thread's preemption rate.
 *
 * A high rate while the products and loops run on several threads can be this process's own
 * doing (its OpenBLAS and OpenMP workers outnumbering the cores for a moment: W4 on 2 cores
 * shows 60+ per second quiet, and still runs 1.5x faster on two threads than on one).  So a
 * high rate first starts a probe: one window on one thread.  Still preempted there, the
 * cause is other processes: busy, held as above.  Not preempted there, it was our own threads:
 * back to several, and the rate is not looked at again for a while, doubled at each such
 * probe (up to EXPRC_BUSY_HOLD_MAX), so that a probe costs about one window in eighty. */
static int exprc_machine_busy(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts)) return exprc_threads.busy;
    const double now = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    const double span = now - exprc_threads.window_start;
    if (span < EXPRC_BUSY_WINDOW) return exprc_threads.busy;
    struct rusage usage;
    if (getrusage(RUSAGE_THREAD, &usage)) return exprc_threads.busy;
    const long switches = usage.ru_nivcsw;
    const int first = exprc_threads.window_start == 0;
    const double rate = (double)(switches - exprc_threads.switches) / span;
    exprc_threads.window_start = now;
    exprc_threads.switches = switches;
    if (first) return exprc_threads.busy;
    const int high = rate >= EXPRC_BUSY_SWITCHES;
    if (exprc_threads.probing) {
        exprc_threads.probing = 0;
        if (high) {
            /* Contention again right after leaving the busy state: hold it longer. */
            double h = exprc_threads.hold;
            if (now - exprc_threads.left_at < 4 * EXPRC_BUSY_WINDOW + h)
                h = h * 2 < EXPRC_BUSY_HOLD_MAX ? h * 2 : EXPRC_BUSY_HOLD_MAX;
            else
                h = EXPRC_BUSY_HOLD_MIN;
            exprc_threads.hold = h;
            exprc_threads.busy_until = now + h;
            return exprc_threads.busy; /* still 1: the probe ran on one thread */
        }
        double q = exprc_threads.own_hold * 2;
        exprc_threads.own_hold = q < EXPRC_BUSY_HOLD_MAX ? q : EXPRC_BUSY_HOLD_MAX;
        exprc_threads.ignore_until = now + exprc_threads.own_hold;
        exprc_set_busy(0);
    } else if (exprc_threads.busy) {
        if (high) {
            exprc_threads.busy_until = now + exprc_threads.hold;
        } else if (now >= exprc_threads.busy_until) {
            exprc_threads.left_at = now;
            exprc_set_busy(0);
        }
    } else if (high && now >= exprc_threads.ignore_until) {
        exprc_threads.probing = 1;
        exprc_set_busy(1);
    } else if (!high && now >= exprc_threads.ignore_until + 10.0) {
        exprc_threads.own_hold = EXPRC_BUSY_HOLD_MIN / 2; /* long quiet: probe promptly again */
    }
    return exprc_threads.busy;
}
#else
static int exprc_machine_busy(void) { return 0; }
#endif

int exprc_blas_threads_for(int64_t m, int64_t n, int64_t k)
{
    if (exprc_threads.set_num_threads == NULL) return 0;
#ifdef _OPENMP
    /* A product inside a parallel loop is one of many: the loop's owner chose the threads. */
    if (omp_in_parallel()) return exprc_threads.current;
#endif
    int want = exprc_threads.count;
    if (want > 1 && exprc_threads.backoff && exprc_machine_busy()) want = 1;
    if (want > 1 && ((double)m * (double)n * (double)k < EXPRC_GEMM_THREAD_MIN_MACS
                     || k < EXPRC_GEMM_THREAD_MIN_K))
        want = 1;
    if (want != exprc_threads.current) {
        exprc_threads.set_num_threads(want);
        exprc_threads.current = want;
    }
    return want;
}

/* How BLAS can read the 2-d view a: 1 with *trans and *ld set, or 0 when it cannot. */
static int exprc_gemm_layout(const exprc_array *a, int64_t itemsize, int *trans, int64_t *ld)
{
    int64_t r = a->shape[0], c = a->shape[1];
    if (a->strides[0] % itemsize || a->strides[1] % itemsize) return 0;
    int64_t s0 = a->strides[0] / itemsize, s1 = a->strides[1] / itemsize;
    int64_t rows = r > 1 ? r : 1, cols = c > 1 ? c : 1;
    if (rows > INT32_MAX || cols > INT32_MAX) return 0;
    if ((c <= 1 || s1 == 1) && (r <= 1 || (s0 >= cols && s0 <= INT32_MAX))) {
        *trans = 0;
        *ld = r <= 1 ? cols : s0;
        return 1;
    }
    if ((r <= 1 || s0 == 1) && (c <= 1 || (s1 >= rows && s1 <= INT32_MAX))) {
        *trans = 1;
        *ld = c <= 1 ? rows : s1;
        return 1;
    }
    return 0;
}

/* a as BLAS reads it: itself, or a contiguous copy put in *copy (release it after use). */
static int exprc_gemm_operand(exprc_pool *pool, const exprc_array *a, exprc_array *copy,
                              int64_t itemsize, int *trans, int64_t *ld, const char **data,
                              exprc_error *error, int64_t node)
{
    copy->owner = NULL;
    if (exprc_gemm_layout(a, itemsize, trans, ld)) {
        *data = a->data;
        return 0;
    }
    if (exprc_copy_contiguous(pool, copy, a, itemsize, error, node)) return -1;
    exprc_gemm_layout(copy, itemsize, trans, ld);
    *data = copy->data;
    return 0;
}

EXPRC_EXPORT int exprc_product_sizes_ok(const exprc_array *a, const exprc_array *b,
                                        const char *label, exprc_error *error, int64_t node)
{
    if (a->shape[1] != b->shape[0]) {
        exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                        "%s: shapes %s and %s are not aligned: %lld (dim 1) != %lld (dim 0)",
                        label, exprc_shape_str(a), exprc_shape_str(b), (long long)a->shape[1],
                        (long long)b->shape[0]);
        return 0;
    }
    if (a->shape[0] > INT32_MAX || a->shape[1] > INT32_MAX || b->shape[1] > INT32_MAX) {
        exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                        "%s: sizes beyond 2**31 - 1 are not supported by BLAS", label);
        return 0;
    }
    return 1;
}

/* The typed entry points (see csrc/README.md, "Typed kernels"). */
#define EXPRC_T float
#define EXPRC_TYPED(stem) stem##_float32
#define EXPRC_GEMM_BLAS exprc_blas.sgemm
#include "exprc_gemm_body.h"

#define EXPRC_T double
#define EXPRC_TYPED(stem) stem##_float64
#define EXPRC_GEMM_BLAS exprc_blas.dgemm
#include "exprc_gemm_body.h"
