/* Convolution kernels (im2col and friends): the definitions declared in exprc_conv.h. */
#include <dlfcn.h>
#ifdef _OPENMP
#include <omp.h>
#else
/* Built without OpenMP (exprc_runtime's fallback): every op runs on the calling thread. */
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_in_parallel(void) { return 0; }
#endif
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "exprc_conv.h"
#include "exprc_gemm.h"

/* The unfolding's row copies are short (8 to 24 elements on LeNet) and written as plain
 * loops, but GCC's -O2 turns a copy loop back into a memmove call and a zeroing loop into
 * memset (-ftree-loop-distribute-patterns): a libc call per row (the second LeNet layer's
 * forward pass, one thread: 5.1 ms with the calls, 4.95 without, 4.65 with the rows in
 * 32-byte blocks of exprc_conv_body.h).  Everything in this file is compiled without that
 * pattern matching; the explicit memcpy calls stay calls. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

/* A chunk of images aims at this many columns of the unfolded matrix, enough for BLAS to run
 * its products near full speed, and keeps the matrix within this many bytes (one image always
 * goes, whatever its size) so that it stays in cache between unfolding and the product.
 * Measured on the LeNet shapes: chunks of 7 and 16 images beat one image (4.9 against 5.2 ms
 * for the first layer's filter gradient) and the whole batch (12.7 against 7.2 ms for the
 * second layer's forward pass).  Since the unfolding writes the matrix in order (below), the
 * choice matters less: 1 to 8 MB and 2048 to 16384 columns all came within 5% of each other
 * on those shapes. */
#define EXPRC_CONV_COLS_BYTES ((int64_t)2 << 20)
#define EXPRC_CONV_TARGET_COLS 4096

/* The sizes of one call, its paddings resolved. */
typedef struct {
    int64_t n, c, h, w;        /* input */
    int64_t o, cg, kh, kw;     /* filters: c / groups channels each */
    int64_t oh, ow;            /* output */
    int64_t ph, pw, sh, sw, dh, dw, groups, flip;
    int64_t p;                 /* oh * ow: columns per image */
    int64_t k;                 /* c * kh * kw: rows of the unfolded matrix */
    int64_t chunk;             /* images unfolded together */
} exprc_conv_geom;

static int64_t exprc_conv_pad(int64_t code, int64_t k, int64_t dilation)
{
    const int64_t span = (k - 1) * dilation + 1;
    if (code == EXPRC_CONV_PAD_HALF) return span / 2;
    if (code == EXPRC_CONV_PAD_FULL) return span - 1;
    return code;
}

/* Fill in the geometry from the input (n, c, h, w) and filter (o, cg, kh, kw) sizes, check
 * them, and choose the chunk for elements of `itemsize` bytes; -1 with the error set when
 * they do not fit together, or when `bound` is 0 (the element type's BLAS routine is not
 * bound). */
static int exprc_conv_geometry(exprc_conv_geom *g, const int64_t *in, const int64_t *filt,
                               const exprc_conv_params *p, int64_t itemsize, int bound,
                               const char *label, exprc_error *error, int64_t node)
{
    g->n = in[0]; g->c = in[1]; g->h = in[2]; g->w = in[3];
    g->o = filt[0]; g->cg = filt[1]; g->kh = filt[2]; g->kw = filt[3];
    g->sh = p->stride[0]; g->sw = p->stride[1];
    g->dh = p->dilation[0]; g->dw = p->dilation[1];
    g->groups = p->groups; g->flip = p->flip;
    if (g->c % g->groups || g->o % g->groups || g->c != g->cg * g->groups)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: an input of %lld channels does not match filters of shape "
                               "%s in %lld group(s) (%lld input channels per group)", label,
                               (long long)g->c, exprc_ints_str(4, filt, 0),
                               (long long)g->groups, (long long)g->cg);
    /* No taps: the dilated span (k - 1) * d + 1 would be < 1, which no border mode gives a
     * meaning to (exprc/link/reference/conv.py refuses it too). */
    if (g->kh < 1 || g->kw < 1)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: empty filters of shape %s: a filter needs at least one row "
                               "and one column", label, exprc_ints_str(4, filt, 0));
    /* Sizes come from the arrays (an empty filter array may claim any size), so the dilated
     * filter span is checked for overflow before anything is computed from it. */
    int64_t span_h, span_w;
    if (__builtin_mul_overflow(g->kh - 1, g->dh, &span_h)
        || __builtin_mul_overflow(g->kw - 1, g->dw, &span_w)
        || span_h >= INT32_MAX || span_w >= INT32_MAX)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: filters of shape %s with dilation %lld x %lld span more "
                               "than 2**31 - 1 elements", label, exprc_ints_str(4, filt, 0),
                               (long long)g->dh, (long long)g->dw);
    span_h += 1;
    span_w += 1;
    g->ph = exprc_conv_pad(p->pad[0], g->kh, g->dh);
    g->pw = exprc_conv_pad(p->pad[1], g->kw, g->dw);
    if (g->h + 2 * g->ph < span_h || g->w + 2 * g->pw < span_w)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: the filter of %lld x %lld (dilation %lld x %lld) is larger "
                               "than the input of %lld x %lld padded by %lld x %lld", label,
                               (long long)g->kh, (long long)g->kw, (long long)g->dh,
                               (long long)g->dw, (long long)g->h, (long long)g->w,
                               (long long)g->ph, (long long)g->pw);
    g->oh = (g->h + 2 * g->ph - span_h) / g->sh + 1;
    g->ow = (g->w + 2 * g->pw - span_w) / g->sw + 1;
    if (__builtin_mul_overflow(g->oh, g->ow, &g->p)
        || __builtin_mul_overflow(g->c, g->kh, &g->k) || __builtin_mul_overflow(g->k, g->kw, &g->k))
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: sizes beyond 2**31 - 1 are not supported by BLAS", label);
    if (!bound)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: BLAS is not bound in exprc's runtime library", label);
    if (g->p > INT32_MAX || g->k > INT32_MAX || g->o > INT32_MAX)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: sizes beyond 2**31 - 1 are not supported by BLAS", label);
    int64_t chunk = EXPRC_CONV_TARGET_COLS / (g->p > 0 ? g->p : 1);
    int64_t per_image;  /* bytes of one image's unfolded matrix; huge means one at a time */
    if (__builtin_mul_overflow(g->k * g->p, itemsize, &per_image)) per_image = INT64_MAX;
    if (per_image > 0 && (chunk > EXPRC_CONV_COLS_BYTES / per_image))
        chunk = EXPRC_CONV_COLS_BYTES / per_image;
    if (chunk * g->p > INT32_MAX) chunk = INT32_MAX / (g->p > 0 ? g->p : 1);
    if (chunk > g->n) chunk = g->n;
    g->chunk = chunk < 1 ? 1 : chunk;
    return 0;
}

/* Whether the unfolded matrix of one image is the image itself (1x1 filters, stride 1, no
 * padding), so that no unfolding is needed. */
static int exprc_conv_is_pointwise(const exprc_conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/* The outputs j in [lo, hi) of a row whose input column j * stride + off lies in [0, size). */
static inline void exprc_conv_valid_range(int64_t off, int64_t stride, int64_t size,
                                          int64_t count, int64_t *lo, int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int64_t h = off > size - 1 ? 0 : (size - 1 - off) / stride + 1;
    if (h > count) h = count;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Filter tap t (row-major over kh x kw) as the unfolding sees it: its row ta (flipped when
 * the filter is), the input column `off` that output column 0 reads, and the output columns
 * [lo, hi) that read inside the input row (the others read padding). */
typedef struct {
    int64_t ta, off, lo, hi;
} exprc_conv_tap;

static inline exprc_conv_tap exprc_conv_tap_at(const exprc_conv_geom *g, int64_t t)
{
    const int64_t a = t / g->kw, b = t % g->kw;
    const int64_t tb = g->flip ? g->kw - 1 - b : b;
    exprc_conv_tap tap = {.ta = g->flip ? g->kh - 1 - a : a, .off = tb * g->dw - g->pw};
    exprc_conv_valid_range(tap.off, g->sw, g->w, g->ow, &tap.lo, &tap.hi);
    return tap;
}

/* Copy between the batch layout (n, o, p) of images [n0, n0 + nb) and the chunk layout
 * (o, nb, p) of a product: to_chunk 1 gathers from batch into chunk, 0 scatters back. */
static void exprc_conv_transpose(const exprc_conv_geom *g, char *batch, char *chunk,
                                 int64_t n0, int64_t nb, int to_chunk, int64_t isz)
{
    const size_t bytes = (size_t)(g->p * isz);
    for (int64_t bi = 0; bi < nb; ++bi)
        for (int64_t oc = 0; oc < g->o; ++oc) {
            char *b = batch + (((n0 + bi) * g->o + oc) * g->p) * isz;
            char *c = chunk + ((oc * nb + bi) * g->p) * isz;
            if (to_chunk) memcpy(c, b, bytes); else memcpy(b, c, bytes);
        }
}

/* A fresh contiguous buffer of `count` elements as the 1-d array *a. */
static int exprc_conv_scratch(exprc_pool *pool, exprc_array *a, int64_t count, int64_t isz,
                              exprc_error *error, int64_t node)
{
    memset(a, 0, sizeof *a);
    a->ndim = 1;
    a->shape[0] = count;
    return exprc_alloc_array(pool, a, isz, error, node);
}

/* src itself when contiguous, else a contiguous copy in *copy (release copy->owner). */
static const char *exprc_conv_contiguous(exprc_pool *pool, const exprc_array *src,
                                         exprc_array *copy, int64_t isz, exprc_error *error,
                                         int64_t node)
{
    copy->owner = NULL;
    if (exprc_is_contiguous(src, isz)) return src->data;
    if (exprc_copy_contiguous(pool, copy, src, isz, error, node)) return NULL;
    return copy->data;
}

static int exprc_conv_alloc4(exprc_pool *pool, exprc_array *out, int64_t a, int64_t b,
                             int64_t c, int64_t d, int64_t isz, exprc_error *error,
                             int64_t node)
{
    out->ndim = 4;
    out->shape[0] = a; out->shape[1] = b; out->shape[2] = c; out->shape[3] = d;
    return exprc_alloc_array(pool, out, isz, error, node);
}

/* The output gradient's shape against the forward convolution's output. */
static int exprc_conv_check_grad(const exprc_conv_geom *g, const exprc_array *gy,
                                 const char *label, exprc_error *error, int64_t node)
{
    if (gy->shape[0] == g->n && gy->shape[1] == g->o && gy->shape[2] == g->oh
        && gy->shape[3] == g->ow)
        return 0;
    const int64_t expected[4] = {g->n, g->o, g->oh, g->ow};
    return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                           "%s: the output gradient of shape %s does not match the "
                           "convolution's output %s", label, exprc_shape_str(gy),
                           exprc_ints_str(4, expected, 0));
}

/* ---------------------------------------------------------------- threads
 *
 * OpenBLAS's workers busy-wait after each product, and OpenMP loops run between products
 * fight them for the cores (see exprc_conv.h).  So when OpenMP has several threads, the
 * chunks of images are shared among OpenMP threads, each unfolding its chunks and running
 * single-threaded products on them: one thread pool for the whole op, unfolding in parallel
 * too, and no OpenBLAS worker left spinning after it.  OpenBLAS is switched to one thread
 * meanwhile through its openblas_set_num_threads, found next to the bound cblas_sgemm; where
 * it cannot be found, the chunks run one after another on multi-threaded products. */
typedef void (*exprc_conv_set_threads_fn)(int);
typedef int (*exprc_conv_get_threads_fn)(void);

static struct {
    int probed;
    exprc_conv_set_threads_fn set;
    exprc_conv_get_threads_fn get;
    int users;        /* ops running with OpenBLAS on one thread */
    int saved;        /* OpenBLAS's thread count before the first of them */
} exprc_conv_blas_threads;

/* The library that holds the bound sgemm, from the mapping that contains its address
 * (/proc/self/maps: dladdr would need _GNU_SOURCE before the first system header of the
 * runtime library's single translation unit); NULL when not found. */
static void *exprc_conv_blas_library(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps == NULL) return NULL;
    const unsigned long long target = (unsigned long long)(uintptr_t)exprc_blas.sgemm;
    char line[4096];
    void *library = NULL;
    while (fgets(line, sizeof line, maps) != NULL) {
        unsigned long long lo, hi;
        int path_at = 0;
        if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &lo, &hi, &path_at) < 2) continue;
        if (target < lo || target >= hi) continue;
        char *path = line + path_at;
        path[strcspn(path, "\n")] = 0;
        if (path_at > 0 && path[0] == '/') library = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
        break;
    }
    fclose(maps);
    return library;
}

/* Find openblas_{set,get}_num_threads in the library that holds the bound sgemm, with the
 * prefix the scipy-openblas32 wheel gives its symbols or none. */
static void exprc_conv_probe_blas(void)
{
    if (__atomic_load_n(&exprc_conv_blas_threads.probed, __ATOMIC_ACQUIRE)) return;
    void *library = exprc_blas.sgemm != NULL ? exprc_conv_blas_library() : NULL;
    void *set = NULL, *get = NULL;
    static const char *const prefixes[] = {"scipy_", ""};
    for (size_t i = 0; library != NULL && set == NULL && i < 2; ++i) {
        char name[64];
        snprintf(name, sizeof name, "%sopenblas_set_num_threads", prefixes[i]);
        set = dlsym(library, name);
        snprintf(name, sizeof name, "%sopenblas_get_num_threads", prefixes[i]);
        get = dlsym(library, name);
    }
    /* The library stays loaded by whoever bound sgemm; this handle only counted a use. */
    if (library != NULL) dlclose(library);
    if (set != NULL && get != NULL) {
        exprc_conv_blas_threads.set = (exprc_conv_set_threads_fn)set;
        exprc_conv_blas_threads.get = (exprc_conv_get_threads_fn)get;
    }
    __atomic_store_n(&exprc_conv_blas_threads.probed, 1, __ATOMIC_RELEASE);
}

/* How many OpenMP threads share the `chunks` chunks of an op: 1 when OpenMP has one thread,
 * there is one chunk, or OpenBLAS's thread count cannot be set.  Above 1, OpenBLAS is on one
 * thread until the matching exprc_conv_threads_end. */
static int exprc_conv_threads_begin(int64_t chunks)
{
    int threads = omp_get_max_threads();
    if (chunks < threads) threads = (int)chunks;
    if (threads <= 1 || omp_in_parallel()) return 1;
    exprc_conv_probe_blas();
    if (exprc_conv_blas_threads.set == NULL) return 1;
    /* The first of concurrent ops (calls from several Python threads) saves the count and
     * the last one restores it. */
    if (__atomic_fetch_add(&exprc_conv_blas_threads.users, 1, __ATOMIC_ACQ_REL) == 0) {
        exprc_conv_blas_threads.saved = exprc_conv_blas_threads.get();
        exprc_conv_blas_threads.set(1);
    }
    return threads;
}

static void exprc_conv_threads_end(int threads)
{
    if (threads > 1
        && __atomic_sub_fetch(&exprc_conv_blas_threads.users, 1, __ATOMIC_ACQ_REL) == 0)
        exprc_conv_blas_threads.set(exprc_conv_blas_threads.saved);
}

/* Per-thread scratch: `threads` buffers of `count` elements each, one allocation. */
static int exprc_conv_scratch_n(exprc_pool *pool, exprc_array *a, int threads, int64_t count,
                                int64_t isz, exprc_error *error, int64_t node)
{
    /* Rounded to 64 bytes so that threads do not share cache lines. */
    const int64_t per = (count * isz + 63) / 64 * 64 / isz;
    return exprc_conv_scratch(pool, a, threads * per, isz, error, node);
}

static inline char *exprc_conv_slot(const exprc_array *a, int thread, int64_t count,
                                    int64_t isz)
{
    return a->data + thread * ((count * isz + 63) / 64 * 64);
}

/* ---------------------------------------------------------------- entry points
 *
 * The steps every element type shares: sizes, checks, allocation and contiguous operands.
 * The element type comes in as its size, whether its BLAS routine is bound, and the op's
 * kernel for it (exprc_conv_body.h). */

/* An op's kernel on contiguous operands (a, b: the op's two arrays in its order) into the
 * allocated out. */
typedef int exprc_conv_kernel(const exprc_conv_geom *g, exprc_pool *pool, char *out,
                              const char *a, const char *b, exprc_error *error, int64_t node);

/* The kernel on a and b made contiguous (copied only when they are not) into out, which is
 * already allocated; the copies are released whatever the outcome. */
static int exprc_conv_run(exprc_conv_kernel *kernel, const exprc_conv_geom *g, exprc_pool *pool,
                          exprc_array *out, const exprc_array *a, const exprc_array *b,
                          int64_t isz, exprc_error *error, int64_t node)
{
    exprc_array ac, bc;
    const char *ad = exprc_conv_contiguous(pool, a, &ac, isz, error, node);
    const char *bd = ad ? exprc_conv_contiguous(pool, b, &bc, isz, error, node) : NULL;
    int rc = -1;
    if (bd != NULL) rc = kernel(g, pool, out->data, ad, bd, error, node);
    if (ad != NULL) exprc_release(pool, ac.owner);
    if (bd != NULL) exprc_release(pool, bc.owner);
    return rc;
}

static int exprc_conv2d_any(exprc_pool *pool, exprc_array *out, const exprc_array *x,
                            const exprc_array *w, const exprc_conv_params *params,
                            const char *label, exprc_error *error, int64_t node, int64_t isz,
                            int bound, exprc_conv_kernel *kernel)
{
    exprc_conv_geom g;
    if (exprc_conv_geometry(&g, x->shape, w->shape, params, isz, bound, label, error, node))
        return -1;
    if (exprc_conv_alloc4(pool, out, g.n, g.o, g.oh, g.ow, isz, error, node)) return -1;
    return exprc_conv_run(kernel, &g, pool, out, x, w, isz, error, node);
}

static int exprc_conv2d_grad_inputs_any(exprc_pool *pool, exprc_array *out,
                                        const exprc_array *w, const exprc_array *gy,
                                        const exprc_array *size, int code,
                                        const exprc_conv_params *params, const char *label,
                                        exprc_error *error, int64_t node, int64_t isz,
                                        int bound, exprc_conv_kernel *kernel)
{
    int64_t hw[2];
    if (exprc_read_ints(size, code, 2, hw, label, error, node)) return -1;
    if (hw[0] < 0 || hw[1] < 0)
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: negative input size %s",
                               label, exprc_ints_str(2, hw, 0));
    if (gy->shape[1] != w->shape[0])
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: the output gradient of shape %s does not match filters of "
                               "shape %s", label, exprc_shape_str(gy), exprc_shape_str(w));
    const int64_t in[4] = {gy->shape[0], w->shape[1] * params->groups, hw[0], hw[1]};
    exprc_conv_geom g;
    if (exprc_conv_geometry(&g, in, w->shape, params, isz, bound, label, error, node))
        return -1;
    if (exprc_conv_check_grad(&g, gy, label, error, node)) return -1;
    if (exprc_conv_alloc4(pool, out, g.n, g.c, g.h, g.w, isz, error, node)) return -1;
    return exprc_conv_run(kernel, &g, pool, out, w, gy, isz, error, node);
}

static int exprc_conv2d_grad_weights_any(exprc_pool *pool, exprc_array *out,
                                         const exprc_array *x, const exprc_array *gy,
                                         const exprc_array *size, int code,
                                         const exprc_conv_params *params, const char *label,
                                         exprc_error *error, int64_t node, int64_t isz,
                                         int bound, exprc_conv_kernel *kernel)
{
    int64_t khw[2];
    if (exprc_read_ints(size, code, 2, khw, label, error, node)) return -1;
    if (gy->shape[0] != x->shape[0])
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                               "%s: the input of shape %s and the output gradient of shape %s "
                               "differ in batch size", label, exprc_shape_str(x),
                               exprc_shape_str(gy));
    const int64_t filt[4] = {gy->shape[1], x->shape[1] / params->groups, khw[0], khw[1]};
    exprc_conv_geom g;
    if (exprc_conv_geometry(&g, x->shape, filt, params, isz, bound, label, error, node))
        return -1;
    if (exprc_conv_check_grad(&g, gy, label, error, node)) return -1;
    if (exprc_conv_alloc4(pool, out, g.o, g.cg, g.kh, g.kw, isz, error, node)) return -1;
    return exprc_conv_run(kernel, &g, pool, out, x, gy, isz, error, node);
}

/* The typed kernels and entry points (see csrc/README.md, "Typed kernels"). */
#define EXPRC_T float
#define EXPRC_TYPED(stem) stem##_float32
#define EXPRC_CONV_GEMM exprc_blas.sgemm
#include "exprc_conv_body.h"

#define EXPRC_T double
#define EXPRC_TYPED(stem) stem##_float64
#define EXPRC_CONV_GEMM exprc_blas.dgemm
#include "exprc_conv_body.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
