/* The body of one reduction, for one element type: included inside a generated function.
 *
 * Protocol: the including block declares
 *     exprc_reduce_plan *rp;       a plan made by exprc_reduce_plan_init (exprc_reduce.h)
 *     const char *rx_data;         the input's first element
 *     char *rout_data;             the output's first element
 * and defines the macros
 *     EXPRC_REDUCE_IN              C type of an input element
 *     EXPRC_REDUCE_ACC             C type of the result (and of the accumulators)
 *     EXPRC_REDUCE_CONV(v)         an input element as EXPRC_REDUCE_ACC
 *     EXPRC_REDUCE_COMB(a, b)      the operation; a is always the earlier part
 *     EXPRC_REDUCE_IDENTITY        its identity
 * This file has no include guard, and undefines those macros at its end so that the next
 * reduction can define them again.
 */
{
    typedef EXPRC_REDUCE_IN exprc_rin;
    typedef EXPRC_REDUCE_ACC exprc_racc;
#define EXPRC_R_COMB EXPRC_REDUCE_COMB
#define EXPRC_R_READ(q, i, stride) \
    EXPRC_REDUCE_CONV(*(const exprc_rin *)((q) + (i) * (stride)))
    /* A pairwise stack pushes a new result into slot `sp`: it merges with the entries below
     * while they hold as many blocks (levels are log2 of the block count). */
#define EXPRC_R_PUSH_SCALAR(st, lv, sp)                                           \
    do {                                                                           \
        int64_t top_ = (sp), level_ = 0;                                           \
        while (top_ > 0 && lv[top_ - 1] == level_) {                               \
            st[top_ - 1] = EXPRC_R_COMB(st[top_ - 1], st[top_]);                   \
            --top_;                                                                \
            ++level_;                                                              \
        }                                                                          \
        lv[top_] = level_;                                                         \
        (sp) = top_ + 1;                                                           \
    } while (0)

    exprc_racc *scratch = NULL;
    if (rp->parts > 1) {
        scratch = (exprc_racc *)malloc((size_t)(rp->units * rp->parts * rp->tile)
                                       * sizeof(exprc_racc));
        if (!scratch) {  /* one part per unit: slower, same result */
            rp->parts = 1;
            rp->span = rp->blocks > 0 ? rp->blocks : 1;
        }
    }
    const int64_t items = rp->units * rp->parts;
    const int64_t levels = exprc_reduce_levels(rp->span);
#pragma omp parallel if (rp->parallel)
    {
        int64_t first, last;
        exprc_reduce_range(items, &first, &last);
        int64_t kidx[EXPRC_MAXDIM], ridx[EXPRC_MAXDIM], x_off = 0, out_off = 0, unused = 0;
        int64_t lv[EXPRC_REDUCE_DEPTH];
        for (int64_t item = first; item < last; ++item) {
            const int64_t u = item / rp->parts, part = item % rp->parts;
            if (item == first || part == 0) {
                if (rp->outer)
                    exprc_reduce_unit_offsets(rp, u, &x_off, &out_off);
                else if (item == first || rp->parts > 1)
                    exprc_reduce_locate(rp->nk, rp->ks, rp->kx, rp->ko, u, kidx, &x_off,
                                        &out_off);
                else  /* the next output of an inner-mode walk */
                    exprc_reduce_next(rp->nk, rp->ks, rp->kx, rp->ko, kidx, &x_off, &out_off);
            }
            const int64_t b0 = part * rp->span;
            const int64_t b1 = b0 + rp->span < rp->blocks ? b0 + rp->span : rp->blocks;
            const char *const base = rx_data + x_off;
            int64_t sp = 0;
            if (rp->outer) {
                /* ---- outer mode: a tile of lanes folded together ---- */
                const int64_t lanes = exprc_reduce_unit_lanes(rp, u), ls = rp->ls;
                const int contiguous = ls == (int64_t)sizeof(exprc_rin);
                exprc_racc st[levels][lanes];
                int64_t r_off = 0;
                exprc_reduce_locate(rp->nr, rp->rs, rp->rx, rp->rx, b0 * EXPRC_REDUCE_STEPS,
                                    ridx, &r_off, &unused);
                for (int64_t b = b0; b < b1; ++b) {
                    exprc_racc *acc = st[sp];
                    for (int64_t j = 0; j < lanes; ++j) acc[j] = EXPRC_REDUCE_IDENTITY;
                    const int64_t left = rp->count - b * EXPRC_REDUCE_STEPS;
                    const int64_t steps = left < EXPRC_REDUCE_STEPS ? left : EXPRC_REDUCE_STEPS;
                    int64_t s = 0;
                    if (contiguous)  /* two rows a pass: half the accumulator traffic */
                        for (; s + 1 < steps; s += 2) {
                            const exprc_rin *v = (const exprc_rin *)(base + r_off);
                            exprc_reduce_next(rp->nr, rp->rs, rp->rx, rp->rx, ridx, &r_off,
                                              &unused);
                            const exprc_rin *w = (const exprc_rin *)(base + r_off);
                            exprc_reduce_next(rp->nr, rp->rs, rp->rx, rp->rx, ridx, &r_off,
                                              &unused);
                            for (int64_t j = 0; j < lanes; ++j)
                                acc[j] = EXPRC_R_COMB(EXPRC_R_COMB(acc[j],
                                                                   EXPRC_REDUCE_CONV(v[j])),
                                                      EXPRC_REDUCE_CONV(w[j]));
                        }
                    for (; s < steps; ++s) {
                        const char *q = base + r_off;
                        for (int64_t j = 0; j < lanes; ++j)
                            acc[j] = EXPRC_R_COMB(acc[j], EXPRC_R_READ(q, j, ls));
                        exprc_reduce_next(rp->nr, rp->rs, rp->rx, rp->rx, ridx, &r_off, &unused);
                    }
                    int64_t top = sp, level = 0;
                    while (top > 0 && lv[top - 1] == level) {
                        for (int64_t j = 0; j < lanes; ++j)
                            st[top - 1][j] = EXPRC_R_COMB(st[top - 1][j], st[top][j]);
                        --top;
                        ++level;
                    }
                    lv[top] = level;
                    sp = top + 1;
                }
                if (sp == 0)
                    for (int64_t j = 0; j < lanes; ++j) st[0][j] = EXPRC_REDUCE_IDENTITY;
                for (int64_t k = sp - 2; k >= 0; --k)
                    for (int64_t j = 0; j < lanes; ++j)
                        st[sp - 1][j] = EXPRC_R_COMB(st[k][j], st[sp - 1][j]);
                const exprc_racc *result = st[sp > 0 ? sp - 1 : 0];
                if (rp->parts > 1) {
                    for (int64_t j = 0; j < lanes; ++j)
                        scratch[item * rp->tile + j] = result[j];
                } else {
                    for (int64_t j = 0; j < lanes; ++j)
                        *(exprc_racc *)(rout_data + out_off + j * rp->lo) = result[j];
                }
            } else {
                /* ---- inner mode: one output; blocks are row pieces or groups of rows ---- */
                exprc_racc st[EXPRC_REDUCE_DEPTH];
                const int64_t n0 = rp->n0, s0 = rp->s0, nd = rp->nr - 1;
                const int contiguous = s0 == (int64_t)sizeof(exprc_rin);
                int64_t row = rp->group > 1 ? b0 * rp->group : b0 / rp->pieces;
                int64_t piece = rp->group > 1 ? 0 : b0 % rp->pieces, r_off = 0;
                if (b0 < b1)
                    exprc_reduce_locate(nd, rp->rs, rp->rx, rp->rx, row, ridx, &r_off, &unused);
                for (int64_t b = b0; b < b1; ++b) {
                    exprc_racc acc[EXPRC_REDUCE_ACCS];
                    for (int j = 0; j < EXPRC_REDUCE_ACCS; ++j) acc[j] = EXPRC_REDUCE_IDENTITY;
                    int64_t nrows = rp->rows - row < rp->group ? rp->rows - row : rp->group;
                    for (int64_t r = 0; r < nrows; ++r) {
                        const int64_t e0 = piece * EXPRC_REDUCE_BLOCK;
                        const int64_t en = n0 - e0 < EXPRC_REDUCE_BLOCK ? n0 - e0
                                                                        : EXPRC_REDUCE_BLOCK;
                        const char *q = base + r_off + e0 * s0;
                        int64_t i = 0;
                        if (contiguous) {
                            const exprc_rin *v = (const exprc_rin *)q;
                            for (; i + EXPRC_REDUCE_ACCS <= en; i += EXPRC_REDUCE_ACCS)
                                for (int j = 0; j < EXPRC_REDUCE_ACCS; ++j)
                                    acc[j] = EXPRC_R_COMB(acc[j], EXPRC_REDUCE_CONV(v[i + j]));
                        }
                        for (; i < en; ++i) {
                            const int j = (int)(i % EXPRC_REDUCE_ACCS);
                            acc[j] = EXPRC_R_COMB(acc[j], EXPRC_R_READ(q, i, s0));
                        }
                        if (++piece == rp->pieces) {
                            piece = 0;
                            ++row;
                            exprc_reduce_next(nd, rp->rs, rp->rx, rp->rx, ridx, &r_off, &unused);
                        }
                    }
                    for (int w = EXPRC_REDUCE_ACCS / 2; w > 0; w /= 2)
                        for (int j = 0; j < w; ++j) acc[j] = EXPRC_R_COMB(acc[j], acc[j + w]);
                    st[sp] = acc[0];
                    EXPRC_R_PUSH_SCALAR(st, lv, sp);
                }
                exprc_racc result = EXPRC_REDUCE_IDENTITY;
                if (sp > 0) {
                    result = st[--sp];
                    while (sp > 0) { --sp; result = EXPRC_R_COMB(st[sp], result); }
                }
                if (rp->parts > 1) scratch[item] = result;
                else *(exprc_racc *)(rout_data + out_off) = result;
            }
        }
    }
    if (scratch) {
        /* The parts of each unit, in order, through the pairwise stack; the last part (maybe
         * shorter) is folded in last, as the one-part walk does. */
        for (int64_t u = 0; u < rp->units; ++u) {
            const int64_t lanes = exprc_reduce_unit_lanes(rp, u);
            const int64_t step = rp->outer ? rp->lo : 0;
            int64_t x_off, out_off;
            exprc_reduce_unit_offsets(rp, u, &x_off, &out_off);
            for (int64_t j = 0; j < lanes; ++j) {
                exprc_racc st[EXPRC_REDUCE_DEPTH];
                int64_t lv[EXPRC_REDUCE_DEPTH], sp = 0;
                const exprc_racc *parts = scratch + u * rp->parts * rp->tile + j;
                for (int64_t k = 0; k + 1 < rp->parts; ++k) {
                    st[sp] = parts[k * rp->tile];
                    EXPRC_R_PUSH_SCALAR(st, lv, sp);
                }
                exprc_racc result = parts[(rp->parts - 1) * rp->tile];
                while (sp > 0) { --sp; result = EXPRC_R_COMB(st[sp], result); }
                *(exprc_racc *)(rout_data + out_off + j * step) = result;
            }
        }
        free(scratch);
    }
#undef EXPRC_R_PUSH_SCALAR
#undef EXPRC_R_READ
#undef EXPRC_R_COMB
}
#undef EXPRC_REDUCE_IN
#undef EXPRC_REDUCE_ACC
#undef EXPRC_REDUCE_CONV
#undef EXPRC_REDUCE_COMB
#undef EXPRC_REDUCE_IDENTITY
