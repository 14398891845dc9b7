/* The matrix product of exported programs: a blocked, packed GEMM in plain C99, or CBLAS.
 *
 *     int exprc_portable_gemm_<dtype>(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,
 *                                     const T *a, ptrdiff_t a_rs, ptrdiff_t a_cs,
 *                                     const T *b, ptrdiff_t b_rs, ptrdiff_t b_cs,
 *                                     T beta, T *c, ptrdiff_t ldc, int accumulate,
 *                                     T *work, ptrdiff_t work_size);
 *
 * computes, for the m x k matrix A (element (i, p) at a[i * a_rs + p * a_cs]), the k x n
 * matrix B (likewise) and the m x n matrix C (element (i, j) at c[i * ldc + j]):
 *
 *     accumulate != 0:  C = beta * C + alpha * (A @ B)   (the reference's beta * z + alpha * P)
 *     accumulate == 0:  C = alpha * (A @ B)              (C is not read)
 *
 * without shortcuts for zero coefficients: beta = 0 keeps a NaN of C, and alpha = 0 keeps the
 * NaN of a product with a NaN or an infinity, as NumPy's expression does. (A sum longer than
 * KC is added in blocks: alpha times each block's partial sum, in turn.) Returns 0, or 1 when
 * work_size (elements of `work`) is smaller than the packing needs (the exporter sizes it
 * with the same rule, exprc.export.c.rules.blas.gemm_work; 1 means the two disagree). A
 * product with one row of A (after the transposition below) reads B in place and needs none.
 *
 * How (the layout of Goto and van de Geijn's GEMM): the product is cut into blocks of at most
 * KC steps of the sum, MC rows of A and NC columns of B; each block of A is copied ("packed")
 * into panels of MR rows stored column by column, each block of B into panels of NR columns
 * stored row by row, so the innermost kernel reads both from consecutive addresses whatever
 * the operands' strides. The kernel computes one MR x NR tile of C in registers: MR rows of
 * two vectors (16 bytes, or 32 with AVX), written as arrays whose loops gcc -O2 turns into
 * vector operations. When A has at most MC rows and the
 * rows of B are contiguous, B is read in place (only a last partial panel is packed): each of
 * its panels then serves one block of A, and copying B (a weight matrix, usually, against a
 * few rows of activations) would cost about as much as the product.
 * A product with fewer columns than NR and more rows (a matrix times a vector) is computed
 * transposed, C^T = B^T @ A^T, so that the long side fills the tiles.
 *
 * With EXPRC_USE_CBLAS defined, the product goes to cblas_sgemm / cblas_dgemm when BLAS can
 * read the operands (one stride 1, the other a leading dimension) and alpha is not 0 (BLAS
 * would skip the product); otherwise, and without the macro, the portable path runs;
 * EXPRC_CBLAS_PREFIX prefixes the names for builds that rename them (scipy-openblas's
 * scipy_cblas_sgemm: -DEXPRC_CBLAS_PREFIX=scipy_).
 *
 * Typed kernel (float32, float64): the exporter defines EXPRC_T and EXPRC_TYPED around this
 * text, once per dtype; no include guard for that part.
 */
#ifndef EXPRC_PORTABLE_GEMM_CONSTANTS
#define EXPRC_PORTABLE_GEMM_CONSTANTS
/* Blocking. exprc/export/c/rules/blas.py repeats these numbers to size the work memory. */
#define EXPRC_PGEMM_MR 4       /* rows of a tile */
/* Bytes of the vectors a tile row is made of (two per row): 16 (SSE2 and NEON, the baseline
 * of x86-64 and aarch64), or 32 where the compiler may use AVX (-mavx2, -march=native), which
 * doubles the speed there. The exporter sizes the work memory for either. */
#if defined(__AVX__)
#define EXPRC_PGEMM_VECTOR 32
#else
#define EXPRC_PGEMM_VECTOR 16
#endif
#define EXPRC_PGEMM_KC 256     /* most steps of the sum in one packed panel */
#define EXPRC_PGEMM_MC 128     /* most rows of A packed at once */
#define EXPRC_PGEMM_NC 1024    /* most columns of B packed at once */
/* Lanes of one vector of `type`, and the columns of a tile: integer constant expressions, so
 * the tile's arrays are ordinary fixed-size arrays. */
#define EXPRC_PGEMM_LANES(type) ((ptrdiff_t)(EXPRC_PGEMM_VECTOR / sizeof(type)))
#define EXPRC_PGEMM_NR(type) (2 * EXPRC_PGEMM_LANES(type))
#ifdef EXPRC_USE_CBLAS
#include <cblas.h>
#ifndef EXPRC_CBLAS_PREFIX
#define EXPRC_CBLAS_PREFIX
#endif
#define EXPRC_CBLAS_GLUE(prefix, name) prefix##name
#define EXPRC_CBLAS_NAME(prefix, name) EXPRC_CBLAS_GLUE(prefix, name)
#endif
#endif /* EXPRC_PORTABLE_GEMM_CONSTANTS */

/* Copy the mc x kc block of A into panels of MR rows, each stored column by column (MR
 * consecutive values per step of the sum); rows past mc are zeros. */
static void EXPRC_TYPED(exprc_portable_gemm_pack_a)(ptrdiff_t mc, ptrdiff_t kc,
                                                   const EXPRC_T *a, ptrdiff_t rs,
                                                   ptrdiff_t cs, EXPRC_T *packed)
{
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += EXPRC_PGEMM_MR) {
        const ptrdiff_t rows = mc - i0 < EXPRC_PGEMM_MR ? mc - i0 : EXPRC_PGEMM_MR;
        for (ptrdiff_t p = 0; p < kc; ++p) {
            EXPRC_T *to = packed + p * EXPRC_PGEMM_MR;
            ptrdiff_t i = 0;
            for (; i < rows; ++i) to[i] = a[(i0 + i) * rs + p * cs];
            for (; i < EXPRC_PGEMM_MR; ++i) to[i] = 0;
        }
        packed += EXPRC_PGEMM_MR * kc;
    }
}

/* Copy the kc x nc block of B into panels of NR columns, each stored row by row; columns
 * past nc are zeros. */
static void EXPRC_TYPED(exprc_portable_gemm_pack_b)(ptrdiff_t kc, ptrdiff_t nc,
                                                   const EXPRC_T *b, ptrdiff_t rs,
                                                   ptrdiff_t cs, EXPRC_T *packed)
{
    const ptrdiff_t nr = EXPRC_PGEMM_NR(EXPRC_T);
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += nr) {
        const ptrdiff_t cols = nc - j0 < nr ? nc - j0 : nr;
        for (ptrdiff_t p = 0; p < kc; ++p) {
            EXPRC_T *to = packed + p * nr;
            const EXPRC_T *from = b + p * rs + j0 * cs;
            ptrdiff_t j = 0;
            for (; j < cols; ++j) to[j] = from[j * cs];
            for (; j < nr; ++j) to[j] = 0;
        }
        packed += nr * kc;
    }
}

/* tile (MR x NR, row by row) = the packed MR-row panel of A @ the NR-column panel of B whose
 * rows are b_step apart (NR when packed, B's row stride when read in place).
 *
 * Each row of the tile is two arrays of one vector, and each loop below runs over one
 * vector's lanes with a constant count: gcc -O2 makes each a single vector multiply and add
 * and keeps the eight arrays in registers. (A tile written as one MR x NR array indexed in a
 * loop over rows stays in memory at -O2, which halves the speed.) */
static void EXPRC_TYPED(exprc_portable_gemm_tile)(ptrdiff_t kc, const EXPRC_T *a,
                                                 const EXPRC_T *b, ptrdiff_t b_step,
                                                 EXPRC_T *tile)
{
    enum { L = EXPRC_PGEMM_LANES(EXPRC_T) };
    EXPRC_T c0[L], d0[L], c1[L], d1[L], c2[L], d2[L], c3[L], d3[L];
    for (ptrdiff_t j = 0; j < L; ++j) {
        c0[j] = 0; d0[j] = 0; c1[j] = 0; d1[j] = 0;
        c2[j] = 0; d2[j] = 0; c3[j] = 0; d3[j] = 0;
    }
    for (ptrdiff_t p = 0; p < kc; ++p) {
        const EXPRC_T a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
        for (ptrdiff_t j = 0; j < L; ++j) {
            const EXPRC_T left = b[j], right = b[L + j];
            c0[j] += a0 * left; d0[j] += a0 * right;
            c1[j] += a1 * left; d1[j] += a1 * right;
            c2[j] += a2 * left; d2[j] += a2 * right;
            c3[j] += a3 * left; d3[j] += a3 * right;
        }
        a += EXPRC_PGEMM_MR;
        b += b_step;
    }
    for (ptrdiff_t j = 0; j < L; ++j) {
        tile[j] = c0[j]; tile[L + j] = d0[j];
        tile[2 * L + j] = c1[j]; tile[3 * L + j] = d1[j];
        tile[4 * L + j] = c2[j]; tile[5 * L + j] = d2[j];
        tile[6 * L + j] = c3[j]; tile[7 * L + j] = d3[j];
    }
}

/* Add the rows x cols corner of a tile into C (element (i, j) at c[i * c_rs + j * c_cs]): the
 * first block of the sum sets C (from beta * C when accumulating), later blocks add to it. */
static void EXPRC_TYPED(exprc_portable_gemm_store)(const EXPRC_T *tile, ptrdiff_t rows,
                                                  ptrdiff_t cols, EXPRC_T alpha, EXPRC_T beta,
                                                  EXPRC_T *c, ptrdiff_t c_rs, ptrdiff_t c_cs,
                                                  int first, int accumulate)
{
    const ptrdiff_t nr = EXPRC_PGEMM_NR(EXPRC_T);
    if (rows == EXPRC_PGEMM_MR && cols == nr && c_cs == 1) {
        /* A whole tile into rows of C: loops of constant length, which gcc vectorizes (this
         * matters when the sum is short, as in a first convolution layer). */
        for (ptrdiff_t i = 0; i < EXPRC_PGEMM_MR; ++i) {
            EXPRC_T *row = c + i * c_rs;
            const EXPRC_T *t = tile + i * EXPRC_PGEMM_NR(EXPRC_T);
            if (!first)
                for (ptrdiff_t j = 0; j < EXPRC_PGEMM_NR(EXPRC_T); ++j) row[j] += alpha * t[j];
            else if (accumulate)
                for (ptrdiff_t j = 0; j < EXPRC_PGEMM_NR(EXPRC_T); ++j)
                    row[j] = beta * row[j] + alpha * t[j];
            else
                for (ptrdiff_t j = 0; j < EXPRC_PGEMM_NR(EXPRC_T); ++j) row[j] = alpha * t[j];
        }
        return;
    }
    for (ptrdiff_t i = 0; i < rows; ++i) {
        EXPRC_T *row = c + i * c_rs;
        const EXPRC_T *t = tile + i * nr;
        if (!first)
            for (ptrdiff_t j = 0; j < cols; ++j) row[j * c_cs] += alpha * t[j];
        else if (accumulate)
            for (ptrdiff_t j = 0; j < cols; ++j)
                row[j * c_cs] = beta * row[j * c_cs] + alpha * t[j];
        else
            for (ptrdiff_t j = 0; j < cols; ++j) row[j * c_cs] = alpha * t[j];
    }
}

/* Steps of the sum in each packed panel: at most KC, split evenly (800 gives 4 x 200, not
 * 3 x 256 + 32). */
static ptrdiff_t EXPRC_TYPED(exprc_portable_gemm_depth)(ptrdiff_t k)
{
    const ptrdiff_t blocks = (k + EXPRC_PGEMM_KC - 1) / EXPRC_PGEMM_KC;
    return blocks > 0 ? (k + blocks - 1) / blocks : 0;
}

/* C (one row, elements c_cs apart) = alpha * a @ B (+ beta * C), for A of a single row (a
 * batch of one) and B of contiguous rows: B is read once, in place, four vectors of columns
 * at a time with one accumulator each. (The tiles would leave three of their four rows
 * empty here, and pack B for nothing.) */
static void EXPRC_TYPED(exprc_portable_gemm_row)(ptrdiff_t n, ptrdiff_t k, EXPRC_T alpha,
                                                const EXPRC_T *a, ptrdiff_t a_cs,
                                                const EXPRC_T *b, ptrdiff_t b_rs, EXPRC_T beta,
                                                EXPRC_T *c, ptrdiff_t c_cs, int accumulate)
{
    enum { L = EXPRC_PGEMM_LANES(EXPRC_T) };
    ptrdiff_t j0 = 0;
    for (; j0 + 4 * L <= n; j0 += 4 * L) {
        EXPRC_T s[4][L];
        for (ptrdiff_t j = 0; j < L; ++j) {
            s[0][j] = 0; s[1][j] = 0; s[2][j] = 0; s[3][j] = 0;
        }
        for (ptrdiff_t p = 0; p < k; ++p) {
            const EXPRC_T ap = a[p * a_cs];
            const EXPRC_T *bp = b + p * b_rs + j0;
            for (ptrdiff_t j = 0; j < L; ++j) s[0][j] += ap * bp[j];
            for (ptrdiff_t j = 0; j < L; ++j) s[1][j] += ap * bp[L + j];
            for (ptrdiff_t j = 0; j < L; ++j) s[2][j] += ap * bp[2 * L + j];
            for (ptrdiff_t j = 0; j < L; ++j) s[3][j] += ap * bp[3 * L + j];
        }
        for (ptrdiff_t j = 0; j < 4 * L; ++j) {
            EXPRC_T *to = c + (j0 + j) * c_cs;
            *to = accumulate ? beta * *to + alpha * s[j / L][j % L] : alpha * s[j / L][j % L];
        }
    }
    for (; j0 < n; ++j0) {  /* the last columns, one at a time */
        EXPRC_T sum = 0;
        EXPRC_T *to = c + j0 * c_cs;
        for (ptrdiff_t p = 0; p < k; ++p) sum += a[p * a_cs] * b[p * b_rs + j0];
        *to = accumulate ? beta * *to + alpha * sum : alpha * sum;
    }
}

/* The same for a contiguous row a and B of contiguous columns (a matrix of contiguous rows
 * times a vector, computed transposed): each element of C is the dot product of two
 * contiguous vectors, four at a time, each summed in vector lanes and the lanes added at
 * the end. */
static void EXPRC_TYPED(exprc_portable_gemm_dots)(ptrdiff_t n, ptrdiff_t k, EXPRC_T alpha,
                                                 const EXPRC_T *a, const EXPRC_T *b,
                                                 ptrdiff_t b_cs, EXPRC_T beta, EXPRC_T *c,
                                                 ptrdiff_t c_cs, int accumulate)
{
    enum { L = EXPRC_PGEMM_LANES(EXPRC_T) };
    const ptrdiff_t whole = k / L * L;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += 4) {
        const ptrdiff_t count = n - j0 < 4 ? n - j0 : 4;
        /* Fewer than four columns left: the missing ones repeat the last (and are dropped). */
        const EXPRC_T *b0 = b + j0 * b_cs, *b1 = b + (j0 + (count > 1)) * b_cs;
        const EXPRC_T *b2 = b + (j0 + (count > 2 ? 2 : count - 1)) * b_cs;
        const EXPRC_T *b3 = b + (j0 + count - 1) * b_cs;
        EXPRC_T s[4][L], sum[4];
        for (ptrdiff_t l = 0; l < L; ++l) {
            s[0][l] = 0; s[1][l] = 0; s[2][l] = 0; s[3][l] = 0;
        }
        for (ptrdiff_t p = 0; p < whole; p += L) {
            for (ptrdiff_t l = 0; l < L; ++l) s[0][l] += a[p + l] * b0[p + l];
            for (ptrdiff_t l = 0; l < L; ++l) s[1][l] += a[p + l] * b1[p + l];
            for (ptrdiff_t l = 0; l < L; ++l) s[2][l] += a[p + l] * b2[p + l];
            for (ptrdiff_t l = 0; l < L; ++l) s[3][l] += a[p + l] * b3[p + l];
        }
        for (ptrdiff_t q = 0; q < 4; ++q) {
            const EXPRC_T *column = q == 0 ? b0 : q == 1 ? b1 : q == 2 ? b2 : b3;
            sum[q] = 0;
            for (ptrdiff_t l = 0; l < L; ++l) sum[q] += s[q][l];
            for (ptrdiff_t p = whole; p < k; ++p) sum[q] += a[p] * column[p];
        }
        for (ptrdiff_t q = 0; q < count; ++q) {
            EXPRC_T *to = c + (j0 + q) * c_cs;
            *to = accumulate ? beta * *to + alpha * sum[q] : alpha * sum[q];
        }
    }
}

/* The product on the portable path, C with any strides (the transposed problem writes C^T).
 * Work memory: the packed block of A, then the packed block (or edge panel) of B. */
static int EXPRC_TYPED(exprc_portable_gemm_blocked)(
    ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, EXPRC_T alpha, const EXPRC_T *a, ptrdiff_t a_rs,
    ptrdiff_t a_cs, const EXPRC_T *b, ptrdiff_t b_rs, ptrdiff_t b_cs, EXPRC_T beta,
    EXPRC_T *c, ptrdiff_t c_rs, ptrdiff_t c_cs, int accumulate, EXPRC_T *work,
    ptrdiff_t work_size)
{
    const ptrdiff_t nr = EXPRC_PGEMM_NR(EXPRC_T), mr = EXPRC_PGEMM_MR;
    const ptrdiff_t kc_max = EXPRC_TYPED(exprc_portable_gemm_depth)(k);
    const ptrdiff_t mc_max = m < EXPRC_PGEMM_MC ? m : EXPRC_PGEMM_MC;
    const int in_place = b_cs == 1 && m <= EXPRC_PGEMM_MC;
    const ptrdiff_t nc_max = in_place ? nr : (n < EXPRC_PGEMM_NC ? n : EXPRC_PGEMM_NC);
    EXPRC_T *packed_a = work;
    EXPRC_T *packed_b = work + (mc_max + mr - 1) / mr * mr * kc_max;
    EXPRC_T tile[EXPRC_PGEMM_MR * EXPRC_PGEMM_NR(EXPRC_T)];
    /* One row of A: no tiles, no packing, no work memory. */
    if (m == 1 && b_cs == 1) {
        EXPRC_TYPED(exprc_portable_gemm_row)(n, k, alpha, a, a_cs, b, b_rs, beta, c, c_cs,
                                             accumulate);
        return 0;
    }
    if (m == 1 && a_cs == 1 && b_rs == 1) {
        EXPRC_TYPED(exprc_portable_gemm_dots)(n, k, alpha, a, b, b_cs, beta, c, c_cs,
                                              accumulate);
        return 0;
    }
    if (work_size < (mc_max + mr - 1) / mr * mr * kc_max + (nc_max + nr - 1) / nr * nr * kc_max)
        return 1;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += EXPRC_PGEMM_NC) {
        const ptrdiff_t nc = n - j0 < EXPRC_PGEMM_NC ? n - j0 : EXPRC_PGEMM_NC;
        for (ptrdiff_t p0 = 0; p0 < k; p0 += kc_max) {
            const ptrdiff_t kc = k - p0 < kc_max ? k - p0 : kc_max;
            const EXPRC_T *b_block = b + p0 * b_rs + j0 * b_cs;
            if (!in_place)
                EXPRC_TYPED(exprc_portable_gemm_pack_b)(kc, nc, b_block, b_rs, b_cs, packed_b);
            for (ptrdiff_t i0 = 0; i0 < m; i0 += EXPRC_PGEMM_MC) {
                const ptrdiff_t mc = m - i0 < EXPRC_PGEMM_MC ? m - i0 : EXPRC_PGEMM_MC;
                EXPRC_TYPED(exprc_portable_gemm_pack_a)(mc, kc, a + i0 * a_rs + p0 * a_cs,
                                                        a_rs, a_cs, packed_a);
                for (ptrdiff_t jr = 0; jr < nc; jr += nr) {
                    const ptrdiff_t cols = nc - jr < nr ? nc - jr : nr;
                    const EXPRC_T *panel = packed_b + jr * kc;
                    ptrdiff_t step = nr;
                    if (in_place && cols == nr) {
                        panel = b_block + jr;
                        step = b_rs;
                    } else if (in_place) {
                        EXPRC_TYPED(exprc_portable_gemm_pack_b)(kc, cols, b_block + jr, b_rs,
                                                                1, packed_b);
                        panel = packed_b;
                    }
                    for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
                        const ptrdiff_t rows = mc - ir < mr ? mc - ir : mr;
                        EXPRC_TYPED(exprc_portable_gemm_tile)(kc, packed_a + ir * kc, panel,
                                                              step, tile);
                        EXPRC_TYPED(exprc_portable_gemm_store)(
                            tile, rows, cols, alpha, beta,
                            c + (i0 + ir) * c_rs + (j0 + jr) * c_cs, c_rs, c_cs, p0 == 0,
                            accumulate);
                    }
                }
            }
        }
    }
    return 0;
}

#ifdef EXPRC_USE_CBLAS
/* How BLAS reads a rows x cols matrix of strides (rs, cs): 0 as it is (row-major, leading
 * dimension *ld), 1 transposed, -1 not at all. Sizes of 1 leave their stride free. */
static int EXPRC_TYPED(exprc_portable_gemm_blas_form)(ptrdiff_t rows, ptrdiff_t cols,
                                                     ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t *ld)
{
    const ptrdiff_t least_r = rows > 1 ? rows : 1, least_c = cols > 1 ? cols : 1;
    if ((cols <= 1 || cs == 1) && (rows <= 1 || rs >= least_c)) {
        *ld = rows > 1 ? rs : least_c;
        return 0;
    }
    if ((rows <= 1 || rs == 1) && (cols <= 1 || cs >= least_r)) {
        *ld = cols > 1 ? cs : least_r;
        return 1;
    }
    return -1;
}
#endif

static int EXPRC_TYPED(exprc_portable_gemm)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, EXPRC_T alpha,
                                           const EXPRC_T *a, ptrdiff_t a_rs, ptrdiff_t a_cs,
                                           const EXPRC_T *b, ptrdiff_t b_rs, ptrdiff_t b_cs,
                                           EXPRC_T beta, EXPRC_T *c, ptrdiff_t ldc,
                                           int accumulate, EXPRC_T *work, ptrdiff_t work_size)
{
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {
        /* The product of an empty sum is zero; alpha * 0 keeps a NaN or infinite alpha's
         * NaN, as the reference's alpha * P does. */
        for (ptrdiff_t i = 0; i < m; ++i)
            for (ptrdiff_t j = 0; j < n; ++j)
                c[i * ldc + j] = accumulate ? beta * c[i * ldc + j] + alpha * (EXPRC_T)0
                                            : alpha * (EXPRC_T)0;
        return 0;
    }
#ifdef EXPRC_USE_CBLAS
    {
        ptrdiff_t lda, ldb;
        const int ta = EXPRC_TYPED(exprc_portable_gemm_blas_form)(m, k, a_rs, a_cs, &lda);
        const int tb = EXPRC_TYPED(exprc_portable_gemm_blas_form)(k, n, b_rs, b_cs, &ldb);
        /* BLAS skips the product when alpha is 0 (the portable path keeps 0 * NaN), and does
         * not read C when beta is 0: C is scaled first (0 * NaN stays NaN), then added. */
        if (ta >= 0 && tb >= 0 && alpha != 0 && ldc >= n) {
            if (accumulate && beta == 0) {
                for (ptrdiff_t i = 0; i < m; ++i)
                    for (ptrdiff_t j = 0; j < n; ++j) c[i * ldc + j] *= beta;
                beta = 1;
            }
            if (!accumulate) beta = 0;
            /* One instance of this text per element type: the size picks the routine. */
            if (sizeof(EXPRC_T) == sizeof(float))
                EXPRC_CBLAS_NAME(EXPRC_CBLAS_PREFIX, cblas_sgemm)(
                    CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    m, n, k, (float)alpha, (const float *)a, lda, (const float *)b, ldb,
                    (float)beta, (float *)c, ldc);
            else
                EXPRC_CBLAS_NAME(EXPRC_CBLAS_PREFIX, cblas_dgemm)(
                    CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    m, n, k, (double)alpha, (const double *)a, lda, (const double *)b, ldb,
                    (double)beta, (double *)c, ldc);
            return 0;
        }
    }
#endif
    if (n < EXPRC_PGEMM_NR(EXPRC_T) && m > n)
        return EXPRC_TYPED(exprc_portable_gemm_blocked)(n, m, k, alpha, b, b_cs, b_rs, a, a_cs,
                                                        a_rs, beta, c, 1, ldc, accumulate, work,
                                                        work_size);
    return EXPRC_TYPED(exprc_portable_gemm_blocked)(m, n, k, alpha, a, a_rs, a_cs, b, b_rs,
                                                    b_cs, beta, c, ldc, 1, accumulate, work,
                                                    work_size);
}
