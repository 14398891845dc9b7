/* The convolution kernels of one element type, included by exprc_conv.c once per type.
 *
 * Protocol (csrc/README.md, "Typed kernels"): the includer defines
 *     EXPRC_T              the element type: float or double
 *     EXPRC_TYPED(stem)    stem##_<dtype>: the name of the type's version of `stem`
 *     EXPRC_CONV_GEMM      the bound CBLAS gemm of EXPRC_T (exprc_blas.sgemm or .dgemm)
 * and this file defines the type's row copies, unfolding, products and the three kernels
 * (static), then the entry points exprc_conv2d_<dtype>, exprc_conv2d_grad_inputs_<dtype> and
 * exprc_conv2d_grad_weights_<dtype> declared in exprc_conv.h; it undefines the three macros
 * at its end.  No include guard. */

/* Elements per 32-byte block of the row copies below. */
#define EXPRC_CONV_BLOCK ((int64_t)(32 / sizeof(EXPRC_T)))

/* dst[j] = src[j] for j < n.  The rows of the unfolded matrix are short (one output row of
 * an image, often under 32 elements): a per-element loop spends most of its time on loop
 * control, and a call into libc (memcpy) costs more than the copy, so a row goes in 32-byte
 * blocks of constant size (one vector move each) and a short tail. */
static inline void EXPRC_TYPED(exprc_conv_copy_row)(EXPRC_T *restrict dst,
                                                    const EXPRC_T *restrict src, int64_t n)
{
    int64_t j = 0;
    for (; j + EXPRC_CONV_BLOCK <= n; j += EXPRC_CONV_BLOCK) __builtin_memcpy(dst + j, src + j, 32);
    for (; j < n; ++j) dst[j] = src[j];
}

/* One row of the unfolded matrix: dst[j] for j < n is src[j * stride] where j is in
 * [lo, hi), zero elsewhere (padding). */
static inline void EXPRC_TYPED(exprc_conv_row_in)(EXPRC_T *restrict dst,
                                                  const EXPRC_T *restrict src, int64_t n,
                                                  int64_t lo, int64_t hi, int64_t stride)
{
    for (int64_t j = 0; j < lo; ++j) dst[j] = 0;
    if (stride == 1) {
        if (hi > lo) EXPRC_TYPED(exprc_conv_copy_row)(dst + lo, src + lo, hi - lo);
    } else {
        for (int64_t j = lo; j < hi; ++j) dst[j] = src[j * stride];
    }
    for (int64_t j = hi; j < n; ++j) dst[j] = 0;
}

/* dst[j] += src[j] for j < n, in 32-byte blocks and a short tail (as exprc_conv_copy_row). */
static inline void EXPRC_TYPED(exprc_conv_add_row)(EXPRC_T *restrict dst,
                                                   const EXPRC_T *restrict src, int64_t n)
{
    int64_t j = 0;
    for (; j + EXPRC_CONV_BLOCK <= n; j += EXPRC_CONV_BLOCK)
        for (int64_t e = 0; e < EXPRC_CONV_BLOCK; ++e) dst[j + e] += src[j + e];
    for (; j < n; ++j) dst[j] += src[j];
}

/* The adjoint: dst[j * stride] += src[j] for j in [lo, hi). */
static inline void EXPRC_TYPED(exprc_conv_row_out)(EXPRC_T *restrict dst,
                                                   const EXPRC_T *restrict src, int64_t lo,
                                                   int64_t hi, int64_t stride)
{
    if (stride == 1) {
        if (hi > lo) EXPRC_TYPED(exprc_conv_add_row)(dst + lo, src + lo, hi - lo);
    } else {
        for (int64_t j = lo; j < hi; ++j) dst[j * stride] += src[j];
    }
}

/* Unfold images [n0, n0 + nb) of the contiguous x into cols: row (ch, a, b) holds, at column
 * bi * p + i * ow + j, the padded input at (i * sh + ta * dh, j * sw + tb * dw), where
 * (ta, tb) is (a, b) or its flip.
 *
 * The loops run over the rows of cols outermost, so that the matrix is written in order
 * (writing one image's k rows at a time touches k places nb * p apart, which the cache
 * handles badly); the chunk's images are small enough to stay in cache meanwhile.  Per tap,
 * the output rows whose input row lies in the padding (all zeros) are found once. */
static inline __attribute__((always_inline)) void
EXPRC_TYPED(exprc_conv_unfold)(const exprc_conv_geom *g, const char *x, char *cols, int64_t n0,
                               int64_t nb)
{
    const int64_t row_len = nb * g->p, taps = g->kh * g->kw, image_len = g->h * g->w;
    const int64_t ow = g->ow, w = g->w, sw = g->sw, step = g->sh * g->w;
    for (int64_t ch = 0; ch < g->c; ++ch)
        for (int64_t t = 0; t < taps; ++t) {
            const exprc_conv_tap tap = exprc_conv_tap_at(g, t);
            const int64_t y0 = tap.ta * g->dh - g->ph;  /* input row of output row 0 */
            int64_t ilo, ihi;  /* output rows reading inside the input */
            exprc_conv_valid_range(y0, g->sh, g->h, g->oh, &ilo, &ihi);
            EXPRC_T *row = (EXPRC_T *)(void *)cols + (ch * taps + t) * row_len;
            for (int64_t bi = 0; bi < nb; ++bi) {
                const EXPRC_T *image = (const EXPRC_T *)(const void *)x
                                       + ((n0 + bi) * g->c + ch) * image_len;
                EXPRC_T *dst = row + bi * g->p;
                for (int64_t j = 0; j < ilo * ow; ++j) dst[j] = 0;
                const EXPRC_T *src = image + (y0 + ilo * g->sh) * w + tap.off;
                if (sw == 1 && tap.lo == 0 && tap.hi == ow) {
                    /* Whole rows inside the input (the usual case): plain block copies. */
                    EXPRC_T *out = dst + ilo * ow;
                    for (int64_t i = ilo; i < ihi; ++i, src += step, out += ow)
                        EXPRC_TYPED(exprc_conv_copy_row)(out, src, ow);
                } else {
                    for (int64_t i = ilo; i < ihi; ++i, src += step)
                        EXPRC_TYPED(exprc_conv_row_in)(dst + i * ow, src, ow, tap.lo, tap.hi,
                                                       sw);
                }
                for (int64_t j = ihi * ow; j < g->p; ++j) dst[j] = 0;
            }
        }
}

/* Fold cols (laid out as exprc_conv_unfold writes it) back into images [n0, n0 + nb) of the
 * contiguous dx, adding every column into the input entry it was read from (in the order
 * of exprc_conv_unfold, reading cols in order). */
static inline __attribute__((always_inline)) void
EXPRC_TYPED(exprc_conv_fold)(const exprc_conv_geom *g, const char *cols, char *dx, int64_t n0,
                             int64_t nb)
{
    const int64_t row_len = nb * g->p, taps = g->kh * g->kw, image_len = g->h * g->w;
    const int64_t ow = g->ow, w = g->w, sw = g->sw, step = g->sh * g->w;
    for (int64_t ch = 0; ch < g->c; ++ch)
        for (int64_t t = 0; t < taps; ++t) {
            const exprc_conv_tap tap = exprc_conv_tap_at(g, t);
            const int64_t y0 = tap.ta * g->dh - g->ph;
            int64_t ilo, ihi;
            exprc_conv_valid_range(y0, g->sh, g->h, g->oh, &ilo, &ihi);
            const EXPRC_T *row = (const EXPRC_T *)(const void *)cols + (ch * taps + t) * row_len;
            for (int64_t bi = 0; bi < nb; ++bi) {
                EXPRC_T *image = (EXPRC_T *)(void *)dx + ((n0 + bi) * g->c + ch) * image_len;
                const EXPRC_T *src = row + bi * g->p;
                EXPRC_T *dst = image + (y0 + ilo * g->sh) * w + tap.off;
                if (sw == 1 && tap.lo == 0 && tap.hi == ow) {
                    /* Whole rows inside the input (the usual case): plain block sums. */
                    const EXPRC_T *in = src + ilo * ow;
                    for (int64_t i = ilo; i < ihi; ++i, dst += step, in += ow)
                        EXPRC_TYPED(exprc_conv_add_row)(dst, in, ow);
                } else {
                    for (int64_t i = ilo; i < ihi; ++i, dst += step)
                        EXPRC_TYPED(exprc_conv_row_out)(dst, src + i * ow, tap.lo, tap.hi, sw);
                }
            }
        }
}

/* c (m x n, rows ldc apart) = a (m x k or its transpose) @ b (k x n or its transpose) +
 * beta * c, for contiguous operands; sizes were checked against BLAS's limits. */
static inline void EXPRC_TYPED(exprc_conv_blas)(int trans_a, int trans_b, int64_t m, int64_t n,
                                                int64_t k, const char *a, const char *b,
                                                int beta, char *c, int64_t ldc)
{
    const int ta = trans_a ? EXPRC_CBLAS_TRANS : EXPRC_CBLAS_NO_TRANS;
    const int tb = trans_b ? EXPRC_CBLAS_TRANS : EXPRC_CBLAS_NO_TRANS;
    const exprc_blasint lda = (exprc_blasint)(trans_a ? m : k);
    const exprc_blasint ldb = (exprc_blasint)(trans_b ? k : n);
    EXPRC_CONV_GEMM(EXPRC_CBLAS_ROW_MAJOR, ta, tb, (exprc_blasint)m, (exprc_blasint)n,
                    (exprc_blasint)k, (EXPRC_T)1, (const EXPRC_T *)a, lda, (const EXPRC_T *)b,
                    ldb, (EXPRC_T)beta, (EXPRC_T *)c, (exprc_blasint)ldc);
}

/* ---------------------------------------------------------------- the three kernels */
static int EXPRC_TYPED(exprc_conv_forward)(const exprc_conv_geom *g, exprc_pool *pool, char *out,
                                           const char *x, const char *w, exprc_error *error,
                                           int64_t node)
{
    const int64_t isz = (int64_t)sizeof(EXPRC_T);
    const int64_t og = g->o / g->groups, kg = g->k / g->groups;
    const int pointwise = exprc_conv_is_pointwise(g);
    const int64_t chunk = pointwise ? 1 : g->chunk, chunks = (g->n + chunk - 1) / chunk;
    const int64_t cols_len = pointwise ? 0 : g->k * chunk * g->p;
    const int64_t prod_len = chunk > 1 ? g->o * chunk * g->p : 0;
    const int threads = exprc_conv_threads_begin(chunks);
    exprc_array cols = {0}, prod = {0};
    int rc = 0;
    if ((cols_len && exprc_conv_scratch_n(pool, &cols, threads, cols_len, isz, error, node))
        || (prod_len && exprc_conv_scratch_n(pool, &prod, threads, prod_len, isz, error, node)))
        rc = -1;
    if (rc == 0) {
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
        for (int64_t ci = 0; ci < chunks; ++ci) {
            const int t = omp_get_thread_num();
            const int64_t n0 = ci * chunk;
            const int64_t nb = g->n - n0 < chunk ? g->n - n0 : chunk, len = nb * g->p;
            const char *unfolded = x + n0 * g->k * g->p * isz;
            if (!pointwise) {
                char *mine = exprc_conv_slot(&cols, t, cols_len, isz);
                EXPRC_TYPED(exprc_conv_unfold)(g, x, mine, n0, nb);
                unfolded = mine;
            }
            /* One image writes its (o, p) block in place; a chunk goes through (o, nb, p). */
            char *tmp = prod_len ? exprc_conv_slot(&prod, t, prod_len, isz) : NULL;
            char *dest = nb == 1 ? out + n0 * g->o * g->p * isz : tmp;
            for (int64_t gi = 0; gi < g->groups; ++gi)
                EXPRC_TYPED(exprc_conv_blas)(0, 0, og, len, kg, w + gi * og * kg * isz,
                                             unfolded + gi * kg * len * isz, 0,
                                             dest + gi * og * len * isz, len);
            if (nb > 1) exprc_conv_transpose(g, out, tmp, n0, nb, 0, isz);
        }
    }
    exprc_conv_threads_end(threads);
    exprc_release(pool, cols.owner);
    exprc_release(pool, prod.owner);
    return rc;
}

static int EXPRC_TYPED(exprc_conv_backward_weights)(const exprc_conv_geom *g, exprc_pool *pool,
                                                    char *gw, const char *x, const char *gy,
                                                    exprc_error *error, int64_t node)
{
    const int64_t isz = (int64_t)sizeof(EXPRC_T);
    const int64_t og = g->o / g->groups, kg = g->k / g->groups, size = g->o * kg;
    const int pointwise = exprc_conv_is_pointwise(g);
    const int64_t chunk = pointwise ? 1 : g->chunk, chunks = (g->n + chunk - 1) / chunk;
    const int64_t cols_len = pointwise ? 0 : g->k * chunk * g->p;
    const int64_t grads_len = chunk > 1 ? g->o * chunk * g->p : 0;
    const int threads = exprc_conv_threads_begin(chunks);
    exprc_array cols = {0}, grads = {0}, partial = {0};
    int rc = 0;
    memset(gw, 0, (size_t)(size * isz));  /* the result of an empty batch */
    /* Thread 0 accumulates into gw itself, the others into partial sums added at the end. */
    if ((cols_len && exprc_conv_scratch_n(pool, &cols, threads, cols_len, isz, error, node))
        || (grads_len
            && exprc_conv_scratch_n(pool, &grads, threads, grads_len, isz, error, node))
        || (threads > 1
            && exprc_conv_scratch_n(pool, &partial, threads, size, isz, error, node)))
        rc = -1;
    if (rc == 0) {
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
            const int t = omp_get_thread_num();
            char *acc = t == 0 ? gw : exprc_conv_slot(&partial, t, size, isz);
            int started = 0;
            if (t > 0) memset(acc, 0, (size_t)(size * isz));
#pragma omp for schedule(static)
            for (int64_t ci = 0; ci < chunks; ++ci) {
                const int64_t n0 = ci * chunk;
                const int64_t nb = g->n - n0 < chunk ? g->n - n0 : chunk, len = nb * g->p;
                const char *unfolded = x + n0 * g->k * g->p * isz;
                if (!pointwise) {
                    char *mine = exprc_conv_slot(&cols, t, cols_len, isz);
                    EXPRC_TYPED(exprc_conv_unfold)(g, x, mine, n0, nb);
                    unfolded = mine;
                }
                const char *dy = gy + n0 * g->o * g->p * isz;
                if (nb > 1) {
                    char *mine = exprc_conv_slot(&grads, t, grads_len, isz);
                    exprc_conv_transpose(g, (char *)gy, mine, n0, nb, 1, isz);
                    dy = mine;
                }
                for (int64_t gi = 0; gi < g->groups; ++gi)
                    EXPRC_TYPED(exprc_conv_blas)(0, 1, og, kg, len, dy + gi * og * len * isz,
                                                 unfolded + gi * kg * len * isz, started,
                                                 acc + gi * og * kg * isz, kg);
                started = 1;
            }
        }
        /* The partial sums, added in a fixed order so that results do not depend on timing. */
        for (int t = 1; t < threads; ++t) {
            const char *part = exprc_conv_slot(&partial, t, size, isz);
            for (int64_t i = 0; i < size; ++i)
                ((EXPRC_T *)gw)[i] += ((const EXPRC_T *)part)[i];
        }
    }
    exprc_conv_threads_end(threads);
    exprc_release(pool, cols.owner);
    exprc_release(pool, grads.owner);
    exprc_release(pool, partial.owner);
    return rc;
}

static int EXPRC_TYPED(exprc_conv_backward_inputs)(const exprc_conv_geom *g, exprc_pool *pool,
                                                   char *dx, const char *w, const char *gy,
                                                   exprc_error *error, int64_t node)
{
    const int64_t isz = (int64_t)sizeof(EXPRC_T);
    const int64_t og = g->o / g->groups, kg = g->k / g->groups;
    const int pointwise = exprc_conv_is_pointwise(g);
    const int64_t chunk = pointwise ? 1 : g->chunk, chunks = (g->n + chunk - 1) / chunk;
    const int64_t cols_len = pointwise ? 0 : g->k * chunk * g->p;
    const int64_t grads_len = chunk > 1 ? g->o * chunk * g->p : 0;
    const int64_t image = g->c * g->h * g->w;
    const int threads = exprc_conv_threads_begin(chunks);
    exprc_array cols = {0}, grads = {0};
    int rc = 0;
    if ((cols_len && exprc_conv_scratch_n(pool, &cols, threads, cols_len, isz, error, node))
        || (grads_len
            && exprc_conv_scratch_n(pool, &grads, threads, grads_len, isz, error, node)))
        rc = -1;
    if (rc == 0) {
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
        for (int64_t ci = 0; ci < chunks; ++ci) {
            const int t = omp_get_thread_num();
            const int64_t n0 = ci * chunk;
            const int64_t nb = g->n - n0 < chunk ? g->n - n0 : chunk, len = nb * g->p;
            const char *dy = gy + n0 * g->o * g->p * isz;
            if (nb > 1) {
                char *mine = exprc_conv_slot(&grads, t, grads_len, isz);
                exprc_conv_transpose(g, (char *)gy, mine, n0, nb, 1, isz);
                dy = mine;
            }
            /* Pointwise: the unfolded gradient is the input gradient itself. */
            char *unfolded = pointwise ? dx + n0 * g->k * g->p * isz
                                       : exprc_conv_slot(&cols, t, cols_len, isz);
            for (int64_t gi = 0; gi < g->groups; ++gi)
                EXPRC_TYPED(exprc_conv_blas)(1, 0, kg, len, og, w + gi * og * kg * isz,
                                             dy + gi * og * len * isz, 0,
                                             unfolded + gi * kg * len * isz, len);
            if (!pointwise) {
                /* This chunk's images only: threads fold into disjoint parts of dx. */
                memset(dx + n0 * image * isz, 0, (size_t)(nb * image * isz));
                EXPRC_TYPED(exprc_conv_fold)(g, unfolded, dx, n0, nb);
            }
        }
    }
    exprc_conv_threads_end(threads);
    exprc_release(pool, cols.owner);
    exprc_release(pool, grads.owner);
    return rc;
}

/* ---------------------------------------------------------------- entry points */
EXPRC_EXPORT int EXPRC_TYPED(exprc_conv2d)(exprc_pool *pool, exprc_array *out,
                                           const exprc_array *x, const exprc_array *w,
                                           const exprc_conv_params *params, const char *label,
                                           exprc_error *error, int64_t node)
{
    return exprc_conv2d_any(pool, out, x, w, params, label, error, node,
                            (int64_t)sizeof(EXPRC_T), EXPRC_CONV_GEMM != NULL,
                            EXPRC_TYPED(exprc_conv_forward));
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_conv2d_grad_inputs)(exprc_pool *pool, exprc_array *out,
                                                       const exprc_array *w,
                                                       const exprc_array *gy,
                                                       const exprc_array *size, int code,
                                                       const exprc_conv_params *params,
                                                       const char *label, exprc_error *error,
                                                       int64_t node)
{
    return exprc_conv2d_grad_inputs_any(pool, out, w, gy, size, code, params, label, error,
                                        node, (int64_t)sizeof(EXPRC_T),
                                        EXPRC_CONV_GEMM != NULL,
                                        EXPRC_TYPED(exprc_conv_backward_inputs));
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_conv2d_grad_weights)(exprc_pool *pool, exprc_array *out,
                                                        const exprc_array *x,
                                                        const exprc_array *gy,
                                                        const exprc_array *size, int code,
                                                        const exprc_conv_params *params,
                                                        const char *label, exprc_error *error,
                                                        int64_t node)
{
    return exprc_conv2d_grad_weights_any(pool, out, x, gy, size, code, params, label, error,
                                         node, (int64_t)sizeof(EXPRC_T),
                                         EXPRC_CONV_GEMM != NULL,
                                         EXPRC_TYPED(exprc_conv_backward_weights));
}

#undef EXPRC_CONV_BLOCK
#undef EXPRC_CONV_GEMM
#undef EXPRC_TYPED
#undef EXPRC_T
