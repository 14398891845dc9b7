/* The uniform and normal samplers of one float type, included by exprc_random.c once per
 * type.
 *
 * Protocol (csrc/README.md, "Typed kernels"): the includer defines
 *     EXPRC_T              the element type: float or double
 *     EXPRC_TYPED(stem)    stem##_<dtype>: the name of the type's version of `stem`
 * and the type's variates rnd_unit_<dtype> and rnd_normal_units_<dtype>, which read
 * sizeof(EXPRC_T) / 4 stream words per uniform variate; this file defines the entry points
 * exprc_random_uniform_<dtype> and exprc_random_normal_<dtype> declared in exprc_random.h,
 * then undefines both macros.  No include guard. */

/* o[0:n] = uniform variates in [0, 1), in stream order, 16 / sizeof(EXPRC_T) per block;
 * returns the blocks used. */
static int64_t EXPRC_TYPED(rnd_uniform_draw)(EXPRC_T *o, int64_t n, const rnd_stream *g)
{
    const int64_t per_block = 16 / (int64_t)sizeof(EXPRC_T), words = 4 / per_block;
    const int64_t blocks = (n + per_block - 1) / per_block;
#pragma omp parallel for if (blocks > RND_PARALLEL_WORK) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
        uint32_t w[4];
        rnd_block_at(g, (uint64_t)b, w);
        for (int64_t j = 0; j < per_block && per_block * b + j < n; ++j)
            o[per_block * b + j] = EXPRC_TYPED(rnd_unit)(w + j * words);
    }
    return blocks;
}

/* o[0:n] = standard normal variates by Box-Muller, in pairs, 8 / sizeof(EXPRC_T) pairs per
 * block; returns the blocks used. */
static int64_t EXPRC_TYPED(rnd_normal_draw)(EXPRC_T *o, int64_t n, const rnd_stream *g)
{
    const int64_t pairs = 8 / (int64_t)sizeof(EXPRC_T), words = 4 / pairs;
    const int64_t blocks = ((n + 1) / 2 + pairs - 1) / pairs;
#pragma omp parallel for if (blocks > RND_PARALLEL_WORK / 4) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
        uint32_t w[4];
        rnd_block_at(g, (uint64_t)b, w);
        for (int64_t h = 0; h < pairs; ++h) {
            const int64_t i = 2 * (pairs * b + h);
            if (i >= n) break;
            double u1, u2, z0, z1;
            EXPRC_TYPED(rnd_normal_units)(w + h * words, &u1, &u2);
            rnd_box_muller(u1, u2, &z0, &z1);
            o[i] = (EXPRC_T)z0;
            if (i + 1 < n) o[i + 1] = (EXPRC_T)z1;
        }
    }
    return blocks;
}

/* Whether the parameters a, b of an element lie in the distribution's domain: high - low
 * finite and >= 0 (uniform), std >= 0 or NaN (normal, as NumPy). */
static inline int EXPRC_TYPED(rnd_params_ok)(EXPRC_T a, EXPRC_T b, int uniform)
{
    if (!uniform) return !(b < 0);
    const EXPRC_T span = (EXPRC_T)(b - a);
    return span >= 0 && isfinite(span);
}

/* The error naming the first of the n elements whose parameters are outside the domain
 * (0 when there is none). */
static int EXPRC_TYPED(rnd_param_error)(const exprc_array *pa, const exprc_array *pb,
                                        int64_t ndim, const int64_t *shape, int64_t n,
                                        int uniform, const char *label, exprc_error *error,
                                        int64_t node)
{
    for (int64_t i = 0; i < n; ++i) {
        const EXPRC_T a = *(const EXPRC_T *)rnd_param_at(pa, ndim, shape, i);
        const EXPRC_T b = *(const EXPRC_T *)rnd_param_at(pb, ndim, shape, i);
        if (EXPRC_TYPED(rnd_params_ok)(a, b, uniform)) continue;
        if (uniform)
            return exprc_set_error(error, EXPRC_VALUE_ERROR, node,
                                   "%s: high - low must be finite and >= 0, got low = %g, "
                                   "high = %g", label, (double)a, (double)b);
        return exprc_set_error(error, EXPRC_VALUE_ERROR, node, "%s: std must be >= 0, got %g",
                               label, (double)b);
    }
    return 0;
}

/* A sample of the parameters a and b (named na and nb): uniform (low + (high - low) * u) or
 * normal (avg + std * z), in the sample's precision, with the parameters broadcast; an
 * element whose parameters are outside the domain is an error. */
static int EXPRC_TYPED(rnd_float_sample)(exprc_pool *pool, exprc_array *new_state,
                                         exprc_array *out, const exprc_array *state,
                                         int64_t ndim, const int64_t *shape,
                                         const exprc_array *pa, const char *na,
                                         const exprc_array *pb, const char *nb, int uniform,
                                         const char *label, exprc_error *error, int64_t node)
{
    rnd_stream g;
    int64_t n;
    if (rnd_begin_with(pool, new_state, out, state, ndim, shape, pa, na, pb, nb,
                       (int64_t)sizeof(EXPRC_T), &g, &n, label, error, node))
        return -1;
    EXPRC_T *o = (EXPRC_T *)out->data;
    const int64_t blocks = uniform ? EXPRC_TYPED(rnd_uniform_draw)(o, n, &g)
                                   : EXPRC_TYPED(rnd_normal_draw)(o, n, &g);
    if (rnd_is_single(pa) && rnd_is_single(pb)) {
        const EXPRC_T a = *(const EXPRC_T *)pa->data, b = *(const EXPRC_T *)pb->data;
        if (n > 0 && !EXPRC_TYPED(rnd_params_ok)(a, b, uniform))
            return EXPRC_TYPED(rnd_param_error)(pa, pb, ndim, shape, 1, uniform, label, error,
                                                node);
        const EXPRC_T scale = uniform ? (EXPRC_T)(b - a) : b;
#pragma omp parallel for if (n > 16 * RND_PARALLEL_WORK) schedule(static)
        for (int64_t i = 0; i < n; ++i) o[i] = a + scale * o[i];
    } else {
        int bad = 0;
#pragma omp parallel for if (n > 4 * RND_PARALLEL_WORK) schedule(static) reduction(|: bad)
        for (int64_t i = 0; i < n; ++i) {
            const EXPRC_T a = *(const EXPRC_T *)rnd_param_at(pa, ndim, shape, i);
            const EXPRC_T b = *(const EXPRC_T *)rnd_param_at(pb, ndim, shape, i);
            const EXPRC_T scale = uniform ? (EXPRC_T)(b - a) : b;
            bad |= !EXPRC_TYPED(rnd_params_ok)(a, b, uniform);
            o[i] = a + scale * o[i];
        }
        if (bad)
            return EXPRC_TYPED(rnd_param_error)(pa, pb, ndim, shape, n, uniform, label, error,
                                                node);
    }
    rnd_finish(new_state, &g, (uint64_t)blocks);
    return 0;
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_random_uniform)(exprc_pool *pool, exprc_array *new_state,
                                                   exprc_array *out, const exprc_array *state,
                                                   int64_t ndim, const int64_t *shape,
                                                   const exprc_array *low,
                                                   const exprc_array *high, const char *label,
                                                   exprc_error *error, int64_t node)
{
    return EXPRC_TYPED(rnd_float_sample)(pool, new_state, out, state, ndim, shape, low, "low",
                                         high, "high", 1, label, error, node);
}

EXPRC_EXPORT int EXPRC_TYPED(exprc_random_normal)(exprc_pool *pool, exprc_array *new_state,
                                                  exprc_array *out, const exprc_array *state,
                                                  int64_t ndim, const int64_t *shape,
                                                  const exprc_array *avg,
                                                  const exprc_array *std, const char *label,
                                                  exprc_error *error, int64_t node)
{
    return EXPRC_TYPED(rnd_float_sample)(pool, new_state, out, state, ndim, shape, avg, "avg",
                                         std, "std", 0, label, error, node);
}

#undef EXPRC_TYPED
#undef EXPRC_T
