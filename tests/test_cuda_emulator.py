"""The CUDA emulator: CUDA kernels compiled for the CPU and checked against NumPy.

The kernels here are written once and serve twice: the emulator runs them (checked against
NumPy), and nvcc compiles the very same text for a GPU (skipped without nvcc), so that what
passes here is valid CUDA.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from exprc.link.c.toolchain import CompileError
from exprc.link.cuda.device import CudaError, DeviceArray, KernelSpec, param
from exprc.link.cuda.emulator import EmulatedDevice
from exprc.link.sources import source_dir

NVCC = "/usr/local/cuda/bin/nvcc"

# --------------------------------------------------------------------------- the kernels
KERNELS = r"""
#include "exprc_cuda_common.cuh"

/* y = a x + b over a rows x cols matrix (x with row stride ldx), grid-stride in 2D */
extern "C" __global__ void t_affine2d(const float *__restrict__ x, float *__restrict__ y,
                                      int64_t rows, int64_t cols, int64_t ldx, float a, float b)
{
    const int64_t row_step = (int64_t)blockDim.y * gridDim.y;
    const int64_t col_step = (int64_t)blockDim.x * gridDim.x;
    for (int64_t r = (int64_t)blockIdx.y * blockDim.y + threadIdx.y; r < rows; r += row_step)
        for (int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += col_step)
            y[r * cols + c] = a * x[r * ldx + c] + b;
}

/* sums[r] and maxima[r] of each row, one block per row (grid-stride over rows) */
extern "C" __global__ void t_rowsum(const double *__restrict__ x, double *__restrict__ sums,
                                    double *__restrict__ maxima, int64_t rows, int64_t n)
{
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        double s = 0.0, m = (double)-INFINITY;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            s += x[r * n + i];
            m = fmax(m, x[r * n + i]);
        }
        s = exprc_block_reduce(s, exprc_add_op(), 0.0);
        m = exprc_block_reduce(m, exprc_max_op(), (double)-INFINITY);
        if (threadIdx.x == 0) {
            sums[r] = s;
            maxima[r] = m;
        }
    }
}

/* y = x - max(row), and the row sum written by the block's last thread: every thread must
 * hold both results */
extern "C" __global__ void t_center(const float *__restrict__ x, float *__restrict__ y,
                                    float *__restrict__ sums, int64_t n)
{
    const float *row = x + blockIdx.x * n;
    float s = 0.0f, m = -INFINITY;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        s += row[i];
        m = fmaxf(m, row[i]);
    }
    s = exprc_block_allreduce(s, exprc_add_op(), 0.0f);
    m = exprc_block_allreduce(m, exprc_max_op(), -INFINITY);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
        y[blockIdx.x * n + i] = row[i] - m;
    if (threadIdx.x == blockDim.x - 1)
        sums[blockIdx.x] = s;
}

/* warp operations, one output element per thread */
extern "C" __global__ void t_warp(const int *__restrict__ x, int *__restrict__ sums,
                                  int *__restrict__ seg8, int *__restrict__ bcast,
                                  int *__restrict__ down, unsigned *__restrict__ ballots, int n)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const int v = i < n ? x[i] : 0;
    int s = v;
    for (int m = 16; m > 0; m >>= 1)
        s += __shfl_xor_sync(EXPRC_FULL_MASK, s, m);
    int g = v;
    for (int m = 4; m > 0; m >>= 1)
        g += __shfl_xor_sync(EXPRC_FULL_MASK, g, m, 8);
    const int b = __shfl_sync(EXPRC_FULL_MASK, v, 3);
    const int d = __shfl_down_sync(EXPRC_FULL_MASK, v, 1, 16);
    const unsigned vote = __ballot_sync(EXPRC_FULL_MASK, v > 0);
    if (i < n) {
        sums[i] = s;
        seg8[i] = g;
        bcast[i] = b;
        down[i] = d;
    }
    if ((threadIdx.x & 31) == 0)
        ballots[i / 32] = vote;
}

/* a block whose last warp is partial: the lanes that exist take part */
extern "C" __global__ void t_partial_warp(unsigned *__restrict__ ballots,
                                          unsigned *__restrict__ lane_sums)
{
    const unsigned vote = __ballot_sync(EXPRC_FULL_MASK, 1);
    const unsigned total = __reduce_add_sync(EXPRC_FULL_MASK, (unsigned)threadIdx.x);
    if ((threadIdx.x & 31) == 0) {
        ballots[threadIdx.x / 32] = vote;
        lane_sums[threadIdx.x / 32] = total;
    }
}

/* each block reverses its segment of x through static shared memory */
extern "C" __global__ void t_reverse_static(const float *__restrict__ x, float *__restrict__ y,
                                            int64_t n)
{
    __shared__ float tile[256];
    const int64_t base = (int64_t)blockIdx.x * blockDim.x;
    const int64_t len = min((int64_t)blockDim.x, n - base);
    const int t = threadIdx.x;
    if (t < len)
        tile[t] = x[base + t];
    __syncthreads();
    if (t < len)
        y[base + t] = tile[len - 1 - t];
}

/* the same through dynamic shared memory; threads past the end return before the barrier */
extern "C" __global__ void t_reverse_dynamic(const double *__restrict__ x,
                                             double *__restrict__ y, int64_t n)
{
    EXPRC_DYNAMIC_SHARED(double, tile);
    const int64_t base = (int64_t)blockIdx.x * blockDim.x;
    const int64_t len = min((int64_t)blockDim.x, n - base);
    const int t = threadIdx.x;
    if (t >= len)
        return;
    tile[t] = x[base + t];
    __syncthreads();
    y[base + t] = tile[len - 1 - t];
}

/* reads dynamic shared memory nobody wrote */
extern "C" __global__ void t_peek(float *__restrict__ y)
{
    EXPRC_DYNAMIC_SHARED(float, unwritten); /* one type per name in a CUDA module */
    y[blockIdx.x * blockDim.x + threadIdx.x] = unwritten[threadIdx.x];
}

/* counts[block] = how many of the block's elements are positive */
extern "C" __global__ void t_count(const float *__restrict__ x, int *__restrict__ counts)
{
    const int c = __syncthreads_count(x[blockIdx.x * blockDim.x + threadIdx.x] > 0.0f);
    if (threadIdx.x == 0)
        counts[blockIdx.x] = c;
}

/* histogram of bin indices, and the weights summed per bin */
extern "C" __global__ void t_histogram(const int *__restrict__ bins, const float *__restrict__ w,
                                       int *__restrict__ counts, float *__restrict__ totals,
                                       unsigned long long *__restrict__ grand, int64_t n)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (int64_t)blockDim.x * gridDim.x) {
        atomicAdd(&counts[bins[i]], 1);
        atomicAdd(&totals[bins[i]], w[i]);
        atomicAdd(grand, 1ull);
    }
}

/* the other atomics: maximum, minimum, a counter through compare-and-swap, exchange */
extern "C" __global__ void t_atomics(const int *__restrict__ x, int *__restrict__ largest,
                                     int *__restrict__ smallest, unsigned *__restrict__ counter,
                                     unsigned *__restrict__ swapped, int64_t n)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (int64_t)blockDim.x * gridDim.x) {
        atomicMax(largest, x[i]);
        atomicMin(smallest, x[i]);
        unsigned seen = *counter, expected;
        do {
            expected = seen;
            seen = atomicCAS(counter, expected, expected + 1);
        } while (seen != expected);
        atomicExch(swapped, 5u);
    }
}

/* device math and integer intrinsics, eight results of each kind per element */
extern "C" __global__ void t_math(const float *__restrict__ x, const unsigned *__restrict__ u,
                                  float *__restrict__ f, unsigned *__restrict__ r, int n)
{
    const int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n)
        return;
    const float v = x[k]; /* in (0, 1) */
    const unsigned w = u[k];
    float *o = f + 8 * k;
    o[0] = __expf(v);
    o[1] = __logf(v);
    o[2] = __fdividef(v, 3.0f);
    o[3] = rsqrtf(v);
    o[4] = erfinvf(2.0f * v - 1.0f);
    o[5] = sinpif(v);
    o[6] = normcdff(v);
    o[7] = __int_as_float(__float_as_int(v) + 1);
    unsigned *p = r + 8 * k;
    p[0] = __popc(w);
    p[1] = __clz((int)w);
    p[2] = __ffs((int)w);
    p[3] = __umulhi(w, 0x9E3779B9u);
    p[4] = (unsigned)(__umul64hi((unsigned long long)w << 32 | w, 0x9E3779B97F4A7C15ull) >> 32);
    p[5] = max(w, 1000u);
    p[6] = (unsigned)min((int)w, -3);
    p[7] = __brev(w);
}

/* a struct by value among mixed parameters: y (strided) = scale * x (strided) + offset */
struct t_loop3 {
    int64_t shape[8];
    int64_t strides[3][8]; /* in elements: x, y, unused */
};

extern "C" __global__ void t_strided(t_loop3 loop, int ndim, const float *__restrict__ x,
                                     float scale, double *__restrict__ y, int offset,
                                     int64_t total)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (int64_t)blockDim.x * gridDim.x) {
        int64_t rest = i, xo = 0, yo = 0;
        for (int d = ndim - 1; d >= 0; --d) {
            const int64_t k = rest % loop.shape[d];
            rest /= loop.shape[d];
            xo += k * loop.strides[0][d];
            yo += k * loop.strides[1][d];
        }
        y[yo] = (double)(scale * x[xo]) + offset;
    }
}
"""

PTR, I32, I64, F32, F64 = param("ptr"), param("i32"), param("i64"), param("f32"), param("f64")
LOOP3 = param("struct", "t_loop3", 8 * 8 + 3 * 8 * 8)

SPECS = [
    KernelSpec("t_affine2d", (PTR, PTR, I64, I64, I64, F32, F32)),
    KernelSpec("t_rowsum", (PTR, PTR, PTR, I64, I64)),
    KernelSpec("t_center", (PTR, PTR, PTR, I64)),
    KernelSpec("t_warp", (PTR, PTR, PTR, PTR, PTR, PTR, I32)),
    KernelSpec("t_partial_warp", (PTR, PTR)),
    KernelSpec("t_reverse_static", (PTR, PTR, I64)),
    KernelSpec("t_reverse_dynamic", (PTR, PTR, I64)),
    KernelSpec("t_peek", (PTR,)),
    KernelSpec("t_count", (PTR, PTR)),
    KernelSpec("t_histogram", (PTR, PTR, PTR, PTR, PTR, I64)),
    KernelSpec("t_strided", (LOOP3, I32, PTR, F32, PTR, I32, I64)),
    KernelSpec("t_atomics", (PTR, PTR, PTR, PTR, PTR, I64)),
    KernelSpec("t_math", (PTR, PTR, PTR, PTR, I32)),
]

FAILING = r"""
#include <assert.h>
#include "exprc_cuda_common.cuh"

/* some threads wait at one barrier, the others at another */
extern "C" __global__ void t_divergent(float *y)
{
    if (threadIdx.x < 16)
        __syncthreads();
    __syncthreads();
    y[threadIdx.x] = 1.0f;
}

/* lanes 0-15 wait at the block barrier for lanes 16-31, which wait for them at __syncwarp */
extern "C" __global__ void t_deadlock(float *y)
{
    if (threadIdx.x < 16)
        __syncthreads();
    else
        __syncwarp();
    y[threadIdx.x] = 1.0f;
}

extern "C" __global__ void t_trap(float *y, int bad)
{
    if (blockIdx.x == 1 && threadIdx.x == bad)
        __trap();
    y[blockIdx.x * blockDim.x + threadIdx.x] = 2.0f;
}

extern "C" __global__ void t_assert(const float *x)
{
    assert(x[threadIdx.x] >= 0.0f);
}

/* thread 7 writes `far` elements past y */
extern "C" __global__ void t_wild(float *y, int64_t far)
{
    y[threadIdx.x == 7 ? far : threadIdx.x] = 1.0f;
}

extern "C" __global__ void t_divide(int *y, int d)
{
    y[threadIdx.x] = 100 / (d - (int)threadIdx.x);
}

/* thread 1 keeps more on its stack than the emulator gives a thread (thread 0, whose stack
 * lies below, has finished by then) */
extern "C" __global__ void t_deep_stack(unsigned char *y, int at)
{
    if (threadIdx.x == 0)
        return;
    volatile unsigned char big[160000]; /* volatile: the stores stay */
    for (int i = 0; i < (int)sizeof big; ++i)
        big[i] = (unsigned char)(i + threadIdx.x);
    y[threadIdx.x] = big[at];
}
"""

FAILING_SPECS = [
    KernelSpec("t_divergent", (PTR,)),
    KernelSpec("t_deadlock", (PTR,)),
    KernelSpec("t_trap", (PTR, I32)),
    KernelSpec("t_assert", (PTR,)),
    KernelSpec("t_wild", (PTR, I64)),
    KernelSpec("t_divide", (PTR, I32)),
    KernelSpec("t_deep_stack", (PTR, I32)),
]


@pytest.fixture(scope="module")
def device():
    return EmulatedDevice()


@pytest.fixture(scope="module")
def kernels(device):
    return device.load_module(KERNELS, SPECS)


@pytest.fixture(scope="module")
def failing(device):
    return device.load_module(FAILING, FAILING_SPECS)


def upload(device, array):
    return DeviceArray.from_host(device, np.asarray(array))


def blocks(n, size):
    return (-(-n // size), 1, 1)


# --------------------------------------------------------------------------- elementwise
@pytest.mark.parametrize("grid, block", [((2, 3, 1), (16, 4, 1)),   # fewer threads than data
                                         ((9, 7, 1), (32, 8, 1))])  # more threads than data
def test_grid_stride_2d(device, kernels, grid, block):
    rng = np.random.default_rng(0)
    storage = rng.standard_normal((37, 61)).astype(np.float32)
    x = storage[:, :50]  # rows of 50 elements, 61 apart
    xd = upload(device, storage)
    y = DeviceArray.empty(device, x.shape, np.float32)
    kernels["t_affine2d"].launch(grid, block, [xd.address, y.address, 37, 50, 61, 1.5, -2.0])
    np.testing.assert_array_equal(y.to_host(), np.float32(1.5) * x + np.float32(-2.0))


# --------------------------------------------------------------------------- block reductions
@pytest.mark.parametrize("threads", [32, 64, 96, 256, 1024])
@pytest.mark.parametrize("n", [1, 31, 1001])
def test_block_reduce_row_sums(device, kernels, threads, n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((7, n))
    xd = upload(device, x)
    sums = DeviceArray.empty(device, (7,), np.float64)
    maxima = DeviceArray.empty(device, (7,), np.float64)
    # 3 blocks for 7 rows: each block reduces several rows, the shared partials reused
    kernels["t_rowsum"].launch((3, 1, 1), (threads, 1, 1),
                               [xd.address, sums.address, maxima.address, 7, n])
    np.testing.assert_allclose(sums.to_host(), x.sum(axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(maxima.to_host(), x.max(axis=1))


@pytest.mark.parametrize("threads", [32, 96, 1024])
def test_block_allreduce_reaches_every_thread(device, kernels, threads):
    rng = np.random.default_rng(threads)
    x = rng.standard_normal((5, 333)).astype(np.float32)
    xd = upload(device, x)
    y = DeviceArray.empty(device, x.shape, np.float32)
    sums = DeviceArray.empty(device, (5,), np.float32)
    kernels["t_center"].launch((5, 1, 1), (threads, 1, 1),
                               [xd.address, y.address, sums.address, 333])
    np.testing.assert_array_equal(y.to_host(), x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(sums.to_host(), x.astype(np.float64).sum(axis=1), rtol=1e-5)


# --------------------------------------------------------------------------- warps
def test_warp_shuffles_and_ballot(device, kernels):
    n = 150  # the last warp of the second block is only partly covered by x
    rng = np.random.default_rng(1)
    x = rng.integers(-50, 50, n).astype(np.int32)
    xd = upload(device, x)
    outs = [DeviceArray.empty(device, (n,), np.int32) for _ in range(4)]
    ballots = DeviceArray.empty(device, (6,), np.uint32)
    kernels["t_warp"].launch((2, 1, 1), (96, 1, 1),
                             [xd.address, *(o.address for o in outs), ballots.address, n])
    sums, seg8, bcast, down = (o.to_host() for o in outs)

    lanes = np.zeros(192, np.int32)  # threads past n hold 0
    lanes[:n] = x
    warps = lanes.reshape(6, 32)
    np.testing.assert_array_equal(sums, np.repeat(warps.sum(axis=1), 32)[:n])
    np.testing.assert_array_equal(seg8, np.repeat(lanes.reshape(-1, 8).sum(axis=1), 8)[:n])
    np.testing.assert_array_equal(bcast, np.repeat(warps[:, 3], 32)[:n])
    # shfl_down by 1 within segments of 16: the last lane of a segment keeps its own value
    segments = lanes.reshape(-1, 16)
    expected_down = np.concatenate([segments[:, 1:], segments[:, -1:]], axis=1).ravel()
    np.testing.assert_array_equal(down, expected_down[:n])
    bits = (warps > 0).astype(np.uint64) << np.arange(32, dtype=np.uint64)
    np.testing.assert_array_equal(ballots.to_host(), bits.sum(axis=1).astype(np.uint32))


def test_partial_last_warp_takes_part(device, kernels):
    ballots = DeviceArray.empty(device, (2,), np.uint32)
    lane_sums = DeviceArray.empty(device, (2,), np.uint32)
    kernels["t_partial_warp"].launch((1, 1, 1), (48, 1, 1), [ballots.address, lane_sums.address])
    np.testing.assert_array_equal(ballots.to_host(), [0xFFFFFFFF, 0xFFFF])
    np.testing.assert_array_equal(lane_sums.to_host(), [sum(range(32)), sum(range(32, 48))])


# --------------------------------------------------------------------------- shared memory
def test_syncthreads_with_static_shared_memory(device, kernels):
    x = np.arange(1000, dtype=np.float32)
    xd = upload(device, x)
    y = DeviceArray.empty(device, (1000,), np.float32)
    kernels["t_reverse_static"].launch(blocks(1000, 256), (256, 1, 1),
                                       [xd.address, y.address, 1000])
    expected = np.concatenate([s[::-1] for s in np.split(x, [256, 512, 768])])
    np.testing.assert_array_equal(y.to_host(), expected)


def test_syncthreads_with_dynamic_shared_memory_and_exited_threads(device, kernels):
    x = np.random.default_rng(2).standard_normal(730)
    xd = upload(device, x)
    y = DeviceArray.empty(device, (730,), np.float64)
    kernels["t_reverse_dynamic"].launch(blocks(730, 100), (100, 1, 1),
                                        [xd.address, y.address, 730], shared_bytes=100 * 8)
    expected = np.concatenate([s[::-1] for s in np.split(x, range(100, 730, 100))])
    np.testing.assert_array_equal(y.to_host(), expected)


def test_dynamic_shared_memory_starts_poisoned(device, kernels):
    y = DeviceArray.empty(device, (64,), np.float32)
    kernels["t_peek"].launch((2, 1, 1), (32, 1, 1), [y.address], shared_bytes=32 * 4)
    assert np.isnan(y.to_host()).all()


def test_syncthreads_count(device, kernels):
    x = np.random.default_rng(3).standard_normal(4 * 96).astype(np.float32)
    xd = upload(device, x)
    counts = DeviceArray.empty(device, (4,), np.int32)
    kernels["t_count"].launch((4, 1, 1), (96, 1, 1), [xd.address, counts.address])
    np.testing.assert_array_equal(counts.to_host(), (x.reshape(4, 96) > 0).sum(axis=1))


# --------------------------------------------------------------------------- atomics
def test_atomic_add_histogram(device, kernels):
    rng = np.random.default_rng(4)
    n, nbins = 5000, 17
    bins = rng.integers(0, nbins, n).astype(np.int32)
    weights = (rng.integers(0, 8, n) * 0.25).astype(np.float32)  # sums are exact in float32
    bins_d, weights_d = upload(device, bins), upload(device, weights)
    counts = upload(device, np.zeros(nbins, np.int32))
    totals = upload(device, np.zeros(nbins, np.float32))
    grand = upload(device, np.zeros(1, np.uint64))
    kernels["t_histogram"].launch((4, 1, 1), (128, 1, 1),
                                  [bins_d.address, weights_d.address, counts.address,
                                   totals.address, grand.address, n])
    np.testing.assert_array_equal(counts.to_host(), np.bincount(bins, minlength=nbins))
    np.testing.assert_array_equal(totals.to_host(),
                                  np.bincount(bins, weights, minlength=nbins).astype(np.float32))
    assert grand.to_host()[0] == n


def test_other_atomics(device, kernels):
    x = np.random.default_rng(11).integers(-10**6, 10**6, 3000).astype(np.int32)
    xd = upload(device, x)
    largest = upload(device, np.array([-2**31], np.int32))
    smallest = upload(device, np.array([2**31 - 1], np.int32))
    counter = upload(device, np.zeros(1, np.uint32))
    swapped = upload(device, np.zeros(1, np.uint32))
    kernels["t_atomics"].launch((3, 1, 1), (256, 1, 1), [xd.address, largest.address,
                                                         smallest.address, counter.address,
                                                         swapped.address, x.size])
    assert (largest.to_host()[0], smallest.to_host()[0]) == (x.max(), x.min())
    assert (counter.to_host()[0], swapped.to_host()[0]) == (x.size, 5)


def test_device_math_and_integer_intrinsics(device, kernels):
    rng = np.random.default_rng(12)
    n = 200
    x = rng.uniform(0.01, 0.99, n).astype(np.float32)
    u = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    u[:3] = [0, 1, 0x80000000]
    xd, ud = upload(device, x), upload(device, u)
    f = DeviceArray.empty(device, (n, 8), np.float32)
    r = DeviceArray.empty(device, (n, 8), np.uint32)
    kernels["t_math"].launch(blocks(n, 64), (64, 1, 1), [xd.address, ud.address, f.address,
                                                        r.address, n])
    f, r = f.to_host(), r.to_host()
    v = x.astype(np.float64)
    close = dict(rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(f[:, 0], np.exp(v), **close)
    np.testing.assert_allclose(f[:, 1], np.log(v), **close)
    np.testing.assert_allclose(f[:, 2], v / 3, **close)
    np.testing.assert_allclose(f[:, 3], 1 / np.sqrt(v), **close)
    y = 2 * v - 1  # erf(erfinv(y)) == y, with math.erf as the independent check
    np.testing.assert_allclose([math.erf(t) for t in f[:, 4].astype(np.float64)], y, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(f[:, 5], np.sin(np.pi * v), **close)
    np.testing.assert_allclose(f[:, 6], [0.5 * math.erfc(-t / math.sqrt(2)) for t in v], **close)
    np.testing.assert_array_equal(f[:, 7], np.nextafter(x, np.float32(np.inf)))

    def brev(w):
        return int(f"{w:032b}"[::-1], 2)

    expected = [[bin(w).count("1"), 32 - w.bit_length(), (w & -w).bit_length(),
                 (w * 0x9E3779B9) >> 32, ((w << 32 | w) * 0x9E3779B97F4A7C15 >> 64) >> 32,
                 max(w, 1000), min(w if w < 2**31 else w - 2**32, -3) % 2**32, brev(w)]
                for w in map(int, u)]
    np.testing.assert_array_equal(r, np.array(expected, np.uint64).astype(np.uint32))


# --------------------------------------------------------------------------- parameters
def loop3(shape, x_strides, y_strides) -> bytes:
    fields = np.zeros(8 + 3 * 8, np.int64)
    fields[:len(shape)] = shape
    fields[8:8 + len(shape)] = x_strides
    fields[16:16 + len(shape)] = y_strides
    return fields.tobytes()


def test_struct_and_mixed_parameters(device, kernels):
    # a (4, 5, 6) view of a bigger array, axes permuted: strides in elements of its base
    base = np.random.default_rng(5).standard_normal((6, 9, 4)).astype(np.float32)
    view = base[:, 2:7, :].transpose(2, 1, 0)
    x_strides = [s // 4 for s in view.strides]
    x_offset = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // 4
    xd = upload(device, base)
    # y: a (4, 5, 6) array inside a (4, 5, 7) float64 buffer
    y = upload(device, np.full((4, 5, 7), -1.0))
    args = [loop3(view.shape, x_strides, [35, 7, 1]), 3, xd.address + 4 * x_offset, 0.5,
            y.address, 3, view.size]
    kernels["t_strided"].launch((3, 1, 1), (64, 1, 1), args)
    result = y.to_host()
    np.testing.assert_array_equal(result[..., :6], (np.float32(0.5) * view).astype(np.float64) + 3)
    np.testing.assert_array_equal(result[..., 6], -1.0)  # never written


def test_argument_buffer_follows_the_cuda_abi():
    # the launcher reads each parameter at the offset KernelSpec.pack put it
    [spec] = [spec for spec in SPECS if spec.name == "t_strided"]
    packed = spec.pack([b"\1" * LOOP3.size, 7, 0x1122334455667788, 2.5, 0x99, -3, 11])
    assert len(packed) == 304
    assert packed[256:260] == (7).to_bytes(4, "little")
    assert packed[260:264] == b"\0" * 4                    # padding before the pointer
    assert packed[264:272] == (0x1122334455667788).to_bytes(8, "little")
    assert packed[276:280] == b"\0" * 4                    # padding after the float


def test_a_spec_that_does_not_match_the_kernel_does_not_build(device):
    source = 'extern "C" __global__ void t_mismatch(float *y, long long n) { y[0] = n; }'
    with pytest.raises(CompileError, match=r"t_mismatch: parameter 1 is not the i32"):
        device.load_module(source, [KernelSpec("t_mismatch", (PTR, I32))])
    with pytest.raises(CompileError, match=r"t_mismatch: its KernelSpec has 1 parameters"):
        device.load_module(source, [KernelSpec("t_mismatch", (PTR,))])


def test_launch_checks(device, kernels):
    kernel = kernels["t_peek"]
    y = DeviceArray.empty(device, (64,), np.float32)
    with pytest.raises(CudaError, match=r"block \(1025, 1, 1\) must be .* 1 to \(1024, 1024"):
        kernel.launch((1, 1, 1), (1025, 1, 1), [y.address])
    with pytest.raises(CudaError, match="2048 threads"):
        kernel.launch((1, 1, 1), (32, 32, 2), [y.address])
    with pytest.raises(CudaError, match="grid"):
        kernel.launch((0, 1, 1), (32, 1, 1), [y.address])
    with pytest.raises(CudaError, match="block"):
        kernel.launch((1, 1, 1), (32, 1), [y.address])
    with pytest.raises(CudaError, match="shared memory"):
        kernel.launch((1, 1, 1), (32, 1, 1), [y.address], shared_bytes=48 * 1024 + 1)
    with pytest.raises(CudaError, match="takes 1 arguments, got 2"):
        kernel.launch((1, 1, 1), (32, 1, 1), [y.address, 1])
    with pytest.raises(CudaError, match="argument 0 .* points into no allocation"):
        kernel.launch((1, 1, 1), (32, 1, 1), [y.address + (1 << 40)])
    with pytest.raises(CudaError, match="argument 0 must be a device address"):
        kernel.launch((1, 1, 1), (32, 1, 1), [1.5])
    x = DeviceArray.empty(device, (4,), np.float32)
    with pytest.raises(CudaError, match=r"argument 5 \('a'\) does not fit its f32 parameter"):
        kernels["t_affine2d"].launch((1, 1, 1), (32, 1, 1),
                                     [x.address, x.address, 1, 1, 1, "a", 1.0])
    with pytest.raises(CudaError, match=r"argument 6 \(1099511627776\) does not fit its i32"):
        kernels["t_warp"].launch((1, 1, 1), (32, 1, 1), [x.address] * 6 + [2**40])
    with pytest.raises(CudaError, match="struct t_loop3 needs 256 bytes"):
        kernels["t_strided"].launch((1, 1, 1), (32, 1, 1), [b"\0" * 8, 1, 0, 1.0, 0, 0, 0])


# --------------------------------------------------------------------------- failures
def test_divergent_syncthreads_is_an_error_not_a_hang(device, failing, kernels):
    y = DeviceArray.empty(device, (32,), np.float32)
    with pytest.raises(CudaError, match=r"kernel t_divergent: __syncthreads at .*:\d+ reached "
                                        r"while 16 threads wait .*divergent"):
        failing["t_divergent"].launch((1, 1, 1), (32, 1, 1), [y.address])
    with pytest.raises(CudaError, match=r"kernel t_deadlock: deadlock in block \(0, 0, 0\).*"
                                        r"16 threads wait at __syncthreads.*__syncwarp"):
        failing["t_deadlock"].launch((1, 1, 1), (32, 1, 1), [y.address])
    # the module and others still work afterwards
    test_syncthreads_count(device, kernels)


def test_trap_and_assert_fail_the_launch(device, failing):
    y = DeviceArray.empty(device, (96,), np.float32)
    with pytest.raises(CudaError, match=r"kernel t_trap: __trap\(\) in block \(1, 0, 0\), "
                                        r"thread \(5, 0, 0\)"):
        failing["t_trap"].launch((3, 1, 1), (32, 1, 1), [y.address, 5])
    failing["t_trap"].launch((3, 1, 1), (32, 1, 1), [y.address, 99])
    np.testing.assert_array_equal(y.to_host(), 2.0)
    x = upload(device, np.array([1, 2, -3, 4], np.float32))
    with pytest.raises(CudaError, match=r"t_assert: assertion 'x\[threadIdx.x\] >= 0.0f' failed"
                                        r".*thread \(2, 0, 0\)"):
        failing["t_assert"].launch((1, 1, 1), (4, 1, 1), [x.address])


def test_faults_fail_the_launch_not_the_process(device, failing):
    y = DeviceArray.empty(device, (32,), np.int32)
    far = (64 - y.address) // 4  # the first page: never mapped
    with pytest.raises(CudaError, match=r"kernel t_wild: invalid memory access at 0x40 in "
                                        r"block \(0, 0, 0\), thread \(7, 0, 0\)"):
        failing["t_wild"].launch((1, 1, 1), (32, 1, 1), [y.address, far])
    with pytest.raises(CudaError, match=r"kernel t_divide: arithmetic fault .* thread \(3, 0, 0\)"):
        failing["t_divide"].launch((1, 1, 1), (32, 1, 1), [y.address, 3])
    failing["t_divide"].launch((1, 1, 1), (32, 1, 1), [y.address, 50])
    np.testing.assert_array_equal(y.to_host(), 100 // (50 - np.arange(32)))


def test_stack_overflow_is_reported(device, failing):
    y = DeviceArray.empty(device, (2,), np.uint8)
    with pytest.raises(CudaError, match=r"kernel t_deep_stack: thread \(1, 0, 0\) of block "
                                        r"\(0, 0, 0\) overflowed its 131072-byte stack"):
        failing["t_deep_stack"].launch((1, 1, 1), (2, 1, 1), [y.address, 12345])
    test_faults_fail_the_launch_not_the_process(device, failing)  # all is well afterwards


def test_compile_error_names_the_source(device):
    with pytest.raises(CompileError) as info:
        device.load_module('extern "C" __global__ void t_broken(float *y) { y[0] = nope; }',
                           [KernelSpec("t_broken", (PTR,))])
    error = info.value
    assert error.source_path is not None and error.source_path.exists()
    assert str(error.source_path) in str(error)
    assert "nope" in str(error)
    assert "t_broken" in error.source_path.read_text()


def test_kernel_names_must_be_identifiers(device):
    with pytest.raises(CudaError, match="not a C identifier"):
        device.load_module("", [KernelSpec("x); system(\"ls\"", (PTR,))])


# --------------------------------------------------------------------------- threads
def test_ucontext_fibers(kernels):
    other = EmulatedDevice(fibers="ucontext")
    assert other.cache_identity() != EmulatedDevice().cache_identity()
    loaded = other.load_module(KERNELS, SPECS[1:2])
    x = np.random.default_rng(6).standard_normal((3, 500))
    sums = DeviceArray.empty(other, (3,), np.float64)
    maxima = DeviceArray.empty(other, (3,), np.float64)
    xd = upload(other, x)
    loaded["t_rowsum"].launch((3, 1, 1), (256, 1, 1), [xd.address, sums.address,
                                                       maxima.address, 3, 500])
    np.testing.assert_allclose(sums.to_host(), x.sum(axis=1), rtol=1e-12)


def test_launches_from_several_python_threads(device, kernels):
    x = np.random.default_rng(7).standard_normal((4, 300))
    xd = upload(device, x)
    failures = []

    def work():
        sums = DeviceArray.empty(device, (4,), np.float64)
        maxima = DeviceArray.empty(device, (4,), np.float64)
        for _ in range(10):
            kernels["t_rowsum"].launch((4, 1, 1), (128, 1, 1),
                                       [xd.address, sums.address, maxima.address, 4, 300])
            if not np.allclose(sums.to_host(), x.sum(axis=1), rtol=1e-12):
                failures.append(sums.to_host())

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


# --------------------------------------------------------------------------- cuBLAS
def column_major(matrix, ld, fill=np.nan):
    """The column-major storage of ``matrix`` with leading dimension ``ld`` (padding rows hold
    ``fill``), as a flat array."""
    rows, cols = matrix.shape
    storage = np.full((cols, ld), fill, matrix.dtype)
    storage[:, :rows] = matrix.T
    return storage.ravel()


def from_column_major(flat, rows, cols, ld):
    return flat.reshape(cols, ld)[:, :rows].T


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-6), (np.float64, 1e-14)])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_gemm(device, dtype, rtol, trans_a, trans_b):
    rng = np.random.default_rng(8)
    m, n, k = 5, 4, 3
    op_a = rng.standard_normal((m, k)).astype(dtype)
    op_b = rng.standard_normal((k, n)).astype(dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    stored_a = op_a.T if trans_a else op_a
    stored_b = op_b.T if trans_b else op_b
    lda, ldb, ldc = stored_a.shape[0] + 2, stored_b.shape[0] + 1, m + 3
    a = upload(device, column_major(stored_a, lda))  # NaN padding: must never be read
    b = upload(device, column_major(stored_b, ldb))
    c = upload(device, column_major(c0, ldc, fill=7.0))
    device.gemm(np.dtype(dtype).name, trans_a, trans_b, m, n, k, 1.5, a.address, lda,
                b.address, ldb, -0.5, c.address, ldc)
    result = c.to_host()
    expected = 1.5 * (op_a.astype(np.float64) @ op_b) - 0.5 * c0
    np.testing.assert_allclose(from_column_major(result, m, n, ldc), expected, rtol=rtol,
                               atol=rtol)
    assert (result.reshape(n, ldc)[:, m:] == 7.0).all()  # C's padding untouched


def test_gemm_beta_zero_ignores_nan_in_c(device):
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))
    c = upload(device, np.full(12, np.nan))
    ad, bd = upload(device, column_major(a, 3)), upload(device, column_major(b, 2))
    device.gemm("float64", False, False, 3, 4, 2, 1.0, ad.address, 3, bd.address, 2, 0.0,
                c.address, 3)
    np.testing.assert_allclose(from_column_major(c.to_host(), 3, 4, 3), a @ b, rtol=1e-14)


def test_gemm_strided_batched(device):
    rng = np.random.default_rng(10)
    batch, m, n, k = 3, 4, 5, 6
    a = rng.standard_normal((batch, k, m)).astype(np.float32)  # stored k x m: op(A) = A^T
    b = rng.standard_normal((k, n)).astype(np.float32)          # one B for every product
    c0 = rng.standard_normal((batch, m, n)).astype(np.float32)
    lda, ldc = k + 1, m + 2
    stride_a, stride_c = lda * m + 5, ldc * n + 3
    a_flat = np.full(batch * stride_a, np.nan, np.float32)
    c_flat = np.full(batch * stride_c, 9.0, np.float32)
    for i in range(batch):
        a_flat[i * stride_a:i * stride_a + lda * m] = column_major(a[i], lda)
        c_flat[i * stride_c:i * stride_c + ldc * n] = column_major(c0[i], ldc, fill=9.0)
    ad, cd = upload(device, a_flat), upload(device, c_flat)
    bd = upload(device, column_major(b, k))
    device.gemm_strided_batched("float32", True, False, m, n, k, 2.0, ad.address, lda, stride_a,
                                bd.address, k, 0, 1.0, cd.address, ldc, stride_c, batch)
    result = cd.to_host()
    for i in range(batch):
        part = result[i * stride_c:(i + 1) * stride_c]
        expected = 2.0 * (a[i].T.astype(np.float64) @ b) + c0[i]
        np.testing.assert_allclose(from_column_major(part[:ldc * n], m, n, ldc), expected,
                                   rtol=1e-5, atol=1e-5)
        assert (part.reshape(-1)[ldc * n:] == 9.0).all()             # the gap between the Cs
        assert (part[:ldc * n].reshape(n, ldc)[:, m:] == 9.0).all()  # C's padding rows


def test_gemm_checks(device):
    a = DeviceArray.empty(device, (16,), np.float32)
    with pytest.raises(CudaError, match="lda=2 is less than the 3 rows"):
        device.gemm("float32", False, False, 3, 3, 3, 1.0, a.address, 2, a.address, 3, 0.0,
                    a.address, 3)
    with pytest.raises(CudaError, match="not inside one allocation"):  # 3 x 8 > 128 elements
        device.gemm("float32", False, False, 3, 8, 3, 1.0, a.address, 3, a.address, 3, 0.0,
                    a.address, 64)
    with pytest.raises(CudaError, match="neither float32 nor float64"):
        device.gemm("int32", False, False, 1, 1, 1, 1.0, a.address, 1, a.address, 1, 0.0,
                    a.address, 1)


# --------------------------------------------------------------------------- memory
def test_allocator_reuses_blocks_and_arrays_round_trip():
    device = EmulatedDevice()
    first = device.allocator.allocate(1000)
    address = first.address
    assert address % EmulatedDevice.ALIGNMENT == 0
    del first
    again = device.allocator.allocate(900)  # the same rounded size: the cached block
    assert again.address == address
    assert device.allocated == again.nbytes  # nothing new asked of the device

    host = np.arange(24, dtype=np.float64).reshape(4, 6)
    array = DeviceArray.from_host(device, host)
    np.testing.assert_array_equal(array.to_host(), host)
    transposed = array.view((6, 4), (8, 48))
    np.testing.assert_array_equal(transposed.to_host(), host.T)
    reversed_rows = array.view((2, 3), (-96, 16), offset=3 * 48 + 8)  # rows 3, 1; cols 1, 3, 5
    np.testing.assert_array_equal(reversed_rows.to_host(), host[3::-2, 1::2])


def test_fresh_memory_is_poisoned_and_fill_zero_clears_it():
    device = EmulatedDevice()
    array = DeviceArray.empty(device, (10,), np.float32)
    assert np.isnan(array.to_host()).all()
    device.fill_zero(array.address, 40)
    np.testing.assert_array_equal(array.to_host(), 0.0)
    other = DeviceArray.from_host(device, np.arange(10, dtype=np.float32))
    device.copy(array.address + 8, other.address, 12)
    np.testing.assert_array_equal(array.to_host(), [0, 0, 0, 1, 2, 0, 0, 0, 0, 0])


def test_copies_outside_an_allocation_are_errors():
    device = EmulatedDevice()
    buffer = device.allocator.allocate(512)
    with pytest.raises(CudaError, match="upload: the 16 bytes at .* not inside one allocation"):
        device.upload(buffer.address + 500, np.zeros(4, np.float32))
    with pytest.raises(CudaError, match="download"):
        device.download(np.zeros(4), buffer.address - 8)
    with pytest.raises(CudaError, match="copy to"):
        device.copy(buffer.address + (1 << 30), buffer.address, 8)
    with pytest.raises(CudaError, match="fill_zero"):
        device.fill_zero(buffer.address, 513)


def test_memory_limit_makes_the_allocator_give_back_its_cache():
    device = EmulatedDevice(memory_limit=4096)
    cached = device.allocator.allocate(3000)
    del cached  # cached, not given back
    assert device.allocated == 3072
    block = device.allocator.allocate(2000)  # fits only once the cache is emptied
    assert device.allocated == block.nbytes == 2048
    with pytest.raises(MemoryError, match="out of device memory"):
        device.allocator.allocate(8192)


def test_properties_and_cache_identity(device):
    assert (device.kind, device.name, device.arch) == ("emulated", "CUDA emulator on the CPU",
                                                       "emulated")
    assert (device.multiprocessors, device.max_threads_per_block,
            device.max_shared_per_block) == (2, 1024, 48 * 1024)
    header = source_dir("cuda_kernels") / "exprc_cuda_emu.h"
    identity = device.cache_identity()
    assert hashlib.sha256(header.read_bytes()).hexdigest()[:16] in identity
    version = subprocess.run([shutil.which(os.environ.get("CXX") or "g++"), "--version"],
                             capture_output=True, text=True).stdout.splitlines()[0]
    assert version in identity
    device.synchronize()


# --------------------------------------------------------------------------- valid CUDA
@pytest.mark.skipif(not Path(NVCC).exists(), reason="nvcc is not installed")
def test_the_kernels_are_valid_cuda(tmp_path):
    root = source_dir("cuda_kernels").parent
    jobs = []
    for name, text in (("kernels", KERNELS), ("failing", FAILING)):
        source = tmp_path / f"{name}.cu"
        source.write_text(text)
        command = [NVCC, "-arch=sm_80", "-cubin", "-I", str(source_dir("cuda_kernels")), "-I",
                   str(source_dir("csrc")), "-o", str(tmp_path / f"{name}.cubin"), str(source)]
        jobs.append(subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True))
    for job in jobs:
        output, _ = job.communicate(timeout=120)
        assert job.returncode == 0, output
    for name in ("kernels", "failing"):
        assert (tmp_path / f"{name}.cubin").read_bytes()[:4] == b"\x7fELF"
    cubin = (tmp_path / "kernels.cubin").read_bytes()
    assert all(spec.name.encode() in cubin for spec in SPECS)
