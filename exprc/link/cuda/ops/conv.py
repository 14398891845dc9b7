"""CUDA rules of convolution (conv2d and its gradients): unfolding kernels and cuBLAS products.

The images of a call go in chunks whose unfolded columns stay within :data:`COLS_BYTES`
(kernels in ``cuda_kernels/exprc_cuda_conv.cuh``, which describes the two layouts), with per
chunk:

- ``Conv2d``: im2col (image-major), then one product per image and group,
  ``out[n, group] (o/g x p) = w_group (o/g x k/g) @ cols[n, group] (k/g x p)``, written straight
  into the output by batched products (over the images, or over the groups when there are
  more groups than images);
- ``Conv2dGradInputs``: ``dcols[n, group] = w_group^T @ gy[n, group]`` by the same batched
  products, then col2im, one thread per input element summing the columns that read it
  (deterministic: no atomics);
- ``Conv2dGradWeights``: im2col (chunk-major) and the output gradient gathered into
  ``(o, images * p)`` (one elementwise copy), then one product per group over the whole chunk,
  accumulated across chunks by cuBLAS's beta.

1x1 filters with stride 1 and no padding unfold to the images themselves: the forward pass
and the input gradient then skip the unfolding. Shapes are checked on the host, with the
reference's exceptions and messages.
"""

from __future__ import annotations

import numpy as np

from exprc.errors import ExprcShapeError, ExprcValueError
from exprc.link.codegen.render import C_TYPES
from exprc.link.cuda.device import DeviceArray, KernelSpec, param
from exprc.link.cuda.ops.elemwise import contiguous, copier
from exprc.link.cuda.program import CUDA_CODE, Build, CudaUnsupportedError, Run
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights

__all__ = ["COLS_BYTES", "INDEX32_LIMIT", "conv2d", "conv2d_grad_inputs",
           "conv2d_grad_weights"]

_FLOATS = ("float32", "float64")
_STRUCT = "struct exprc_cuda_conv_geom"
_GEOM_FIELDS = 20
_INT32_MAX = 2**31 - 1
_INDEX_TYPES = {"32": "int32_t", "64": "int64_t"}

#: Products per cuBLAS call (see _strided_batched).
_MAX_BATCH = 63 * 1024

#: Kernels index in 32 bits when every index and offset of a call is below this.
INDEX32_LIMIT = 2**31 - 1

#: Bytes the unfolded columns of one chunk of images may take (one image always goes,
#: whatever its size): bounded so that a large batch does not need a matrix of its own size,
#: and large enough that the products are big enough to keep the GPU busy.
COLS_BYTES = 256 << 20


# --------------------------------------------------------------------------- kernels
def _kernels(build: Build, dtype: str, which: str) -> str:
    """The base name of the ``which`` kernels (``im2col`` or ``col2im``) of ``dtype``, with
    suffix ``32`` or ``64`` for the index arithmetic."""
    build.preamble("conv", '#include "exprc_cuda_conv.cuh"')
    t = C_TYPES[dtype]
    src, dst = ("x", "cols") if which == "im2col" else ("cols", "dx")

    def make(base: str):
        texts, specs = [], []
        params = (param("struct", _STRUCT, 8 * _GEOM_FIELDS), param("ptr", f"const {t} *"),
                  param("ptr", f"{t} *"))
        for suffix, index in _INDEX_TYPES.items():
            texts.append(
                f'extern "C" __global__ void {base}{suffix}({_STRUCT} g, '
                f"const {t} *__restrict__ {src}, {t} *__restrict__ {dst})\n"
                f"{{\n    exprc_conv_{which}<{t}, {index}>(g, {src}, {dst});\n}}")
            specs.append(KernelSpec(f"{base}{suffix}", params))
        return "\n".join(texts), specs

    return build.kernel(("conv", which, dtype), make)


def _dtype(node) -> str:
    dtype = node.outputs[0].dtype
    if dtype not in _FLOATS or any(v.dtype != dtype for v in node.inputs[:2]):
        raise CudaUnsupportedError(f"{node.op} of {dtype} (cuBLAS multiplies float32 or "
                                   "float64)")
    return dtype


# --------------------------------------------------------------------------- checks
def _by(pair) -> str:
    return f"{pair[0]} x {pair[1]}"


def _check_channels(op, channels: int, filters_shape) -> None:
    g = op.num_groups
    if channels % g or filters_shape[0] % g or channels != filters_shape[1] * g:
        raise ExprcShapeError(f"{op}: an input of {channels} channels does not match filters "
                              f"of shape {tuple(filters_shape)} in {g} group(s)")


def _check_taps(op, filters_shape) -> None:
    if min(filters_shape[2:]) < 1:
        raise ExprcShapeError(f"{op}: empty filters of shape {tuple(filters_shape)}: a filter "
                              f"needs at least one row and one column")


def _sizes(op, size: np.ndarray, what: str) -> tuple[int, int]:
    sizes = tuple(int(s) for s in np.asarray(size).reshape(-1))
    if len(sizes) != 2:
        raise ExprcShapeError(f"{op}: the {what} size must have 2 entries, got {sizes}")
    if min(sizes) < 0:
        raise ExprcShapeError(f"{op}: negative {what} size {sizes}")
    return sizes


class _Geometry:
    """The sizes of one call: input (n, c, h, w), filters (o, cg, kh, kw), output (oh, ow),
    paddings; checked as the reference checks them."""

    def __init__(self, op, image, filters, output_hw=None):
        self.n, self.c, self.h, self.w = image
        self.o, self.cg, self.kh, self.kw = filters
        _check_channels(op, self.c, filters)
        _check_taps(op, filters)
        kernel = (self.kh, self.kw)
        self.ph, self.pw = op.pads(kernel)
        self.oh, self.ow = op.output_sizes((self.h, self.w), kernel)
        if min(self.oh, self.ow) < 1:
            raise ExprcShapeError(f"{op}: the filter of {_by(kernel)} (dilation "
                                  f"{_by(op.filter_dilation)}) is larger than the input of "
                                  f"{_by((self.h, self.w))} padded by "
                                  f"{_by((self.ph, self.pw))}")
        if output_hw is not None and tuple(output_hw) != (self.oh, self.ow):
            raise ExprcShapeError(f"{op}: the output gradient of {tuple(output_hw)} rows and "
                                  f"cols does not match the convolution of an input of "
                                  f"{(self.h, self.w)} with a filter of {kernel}, which gives "
                                  f"{(self.oh, self.ow)}")
        self.op = op
        self.groups = op.num_groups
        self.p = self.oh * self.ow                 # columns per image
        self.k = self.c * self.kh * self.kw        # rows of the unfolded matrix
        self.og, self.kg = self.o // self.groups, self.k // self.groups
        self.pointwise = (self.kh == self.kw == 1 and op.subsample == (1, 1)
                          and (self.ph, self.pw) == (0, 0))

    def check_blas(self) -> None:
        """cuBLAS takes its sizes as 32-bit ints."""
        if max(self.p, self.kg, self.og) > _INT32_MAX:
            raise ExprcValueError(f"{self.op}: a product of {self.og} x {self.kg} by "
                                  f"{self.kg} x {self.p} has sizes beyond 2**31 - 1, which "
                                  f"cuBLAS does not support")

    def chunk(self, itemsize: int) -> int:
        """Images per chunk: columns within COLS_BYTES, and a chunk-major row (images * p
        columns) within cuBLAS's 32-bit sizes."""
        per_image = max(1, self.k * self.p * itemsize)
        return max(1, min(self.n, COLS_BYTES // per_image, _INT32_MAX // max(1, self.p)))

    def struct(self, images: int, chunk_major: bool, x_strides=(0, 0, 0, 0)) -> bytes:
        (sh, sw), (dh, dw) = self.op.subsample, self.op.filter_dilation
        fields = [images, self.c, self.h, self.w, self.kh, self.kw, self.oh, self.ow, sh, sw,
                  dh, dw, self.ph, self.pw, int(self.op.filter_flip), int(chunk_major),
                  *x_strides]
        return np.array(fields, np.int64).tobytes()

    def index_suffix(self, images: int, x_strides=(0, 0, 0, 0)) -> str:
        """``"32"`` when every index and offset of a chunk of ``images`` fits 32 bits."""
        extents = [images * self.k * self.p, images * self.c * self.h * self.w,
                   self.h + 2 * self.ph + self.op.subsample[0],
                   self.w + 2 * self.pw + self.op.subsample[1],
                   sum(abs(s) * (n - 1) for s, n in zip(x_strides,
                                                         (images, self.c, self.h, self.w)))]
        return "32" if max(extents) < INDEX32_LIMIT else "64"


def _element_strides(array: DeviceArray) -> tuple[int, ...]:
    return tuple(s // array.dtype.itemsize for s in array.strides)


def _strided_batched(run: Run, dtype: str, trans_a: bool, trans_b: bool,
                     sizes: tuple[int, int, int], a: tuple[int, int, int],
                     b: tuple[int, int, int], beta: float, c: tuple[int, int, int],
                     batch: int) -> None:
    """``gemm_strided_batched`` with operands given as (address, leading dimension, batch
    stride), in calls of at most :data:`_MAX_BATCH` products: some cuBLAS versions fail
    beyond 65535 (a grid dimension's limit)."""
    isz = np.dtype(dtype).itemsize
    m, n, k = sizes
    for start in range(0, batch, _MAX_BATCH):
        run.device.gemm_strided_batched(
            dtype, trans_a, trans_b, m, n, k, 1.0, a[0] + start * a[2] * isz, a[1], a[2],
            b[0] + start * b[2] * isz, b[1], b[2], beta, c[0] + start * c[2] * isz, c[1], c[2],
            min(_MAX_BATCH, batch - start))


def _batched_products(run: Run, geo: _Geometry, dtype: str, images: int, trans_b: bool,
                      sizes: tuple[int, int, int], a: tuple[int, int, int, int],
                      b: tuple[int, int, int], c: tuple[int, int, int]) -> None:
    """``c = a @ op(b)`` (column-major, cuBLAS's terms) once per image of the chunk and group,
    as strided batched products over the images or over the groups, whichever makes fewer
    calls. ``sizes`` is (m, n, k); ``a`` is (address, leading dimension, image stride, group
    stride), ``b`` (address, leading dimension, group stride): the filters, shared by the
    images; ``c`` (address, image stride, group stride), its leading dimension m. Addresses
    are those of the chunk's first image, strides in elements."""
    isz = np.dtype(dtype).itemsize
    m = sizes[0]
    (a0, lda, a_image, a_group), (b0, ldb, b_group), (c0, c_image, c_group) = a, b, c
    if geo.groups <= images:
        for gi in range(geo.groups):
            _strided_batched(run, dtype, False, trans_b, sizes,
                             (a0 + gi * a_group * isz, lda, a_image),
                             (b0 + gi * b_group * isz, ldb, 0), 0.0,
                             (c0 + gi * c_group * isz, m, c_image), images)
    else:
        for bi in range(images):
            _strided_batched(run, dtype, False, trans_b, sizes,
                             (a0 + bi * a_image * isz, lda, a_group), (b0, ldb, b_group), 0.0,
                             (c0 + bi * c_image * isz, m, c_group), geo.groups)


# --------------------------------------------------------------------------- rules
@CUDA_CODE.register(Conv2d)
def conv2d(node, build: Build):
    op = node.op
    dtype = _dtype(node)
    im2col = _kernels(build, dtype, "im2col")
    copy = copier(build, dtype)
    isz = np.dtype(dtype).itemsize

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        x, w = args
        geo = _Geometry(op, x.shape, w.shape)
        out = run.empty((geo.n, geo.o, geo.oh, geo.ow), dtype)
        if out.size == 0:
            return [out]
        if geo.kg == 0:  # no input channels: empty sums
            run.device.fill_zero(out.address, out.nbytes)
            return [out]
        geo.check_blas()
        w = contiguous(run, copy, w)
        pointwise = geo.pointwise and x.is_contiguous
        xs = _element_strides(x)
        nb = geo.chunk(isz)
        cols = None if pointwise else run.empty((nb * geo.k * geo.p,), dtype)
        for n0 in range(0, geo.n, nb):
            images = min(nb, geo.n - n0)
            if pointwise:
                source = x.address + n0 * geo.k * geo.p * isz
            else:
                suffix = geo.index_suffix(images, xs)
                run.launch_elements(f"{im2col}{suffix}", images * geo.k * geo.p,
                                    [geo.struct(images, False, xs),
                                     x.address + n0 * x.strides[0], cols.address])
                source = cols.address
            # Row-major out (o/g x p) = w (o/g x k/g) @ cols (k/g x p) is column-major
            # out^T (p x o/g) = cols^T (p x k/g) @ w^T (k/g x o/g).
            _batched_products(run, geo, dtype, images, False, (geo.p, geo.og, geo.kg),
                              (source, geo.p, geo.k * geo.p, geo.kg * geo.p),
                              (w.address, geo.kg, geo.og * geo.kg),
                              (out.address + n0 * geo.o * geo.p * isz, geo.o * geo.p,
                               geo.og * geo.p))
        return [out]

    return step


@CUDA_CODE.register(Conv2dGradInputs)
def conv2d_grad_inputs(node, build: Build):
    op = node.op
    dtype = _dtype(node)
    build.host_input(2)  # the input's (rows, cols)
    col2im = _kernels(build, dtype, "col2im")
    copy = copier(build, dtype)
    isz = np.dtype(dtype).itemsize

    def step(run: Run, args: list) -> list[DeviceArray]:
        w, gy, size = args
        image_hw = _sizes(op, size, "input")
        if gy.shape[1] != w.shape[0]:
            raise ExprcShapeError(f"{op}: the output gradient of shape {gy.shape} does not "
                                  f"match filters of shape {w.shape}")
        g = op.num_groups
        geo = _Geometry(op, (gy.shape[0], w.shape[1] * g, *image_hw), w.shape, gy.shape[2:])
        dx = run.empty((geo.n, geo.c, geo.h, geo.w), dtype)
        if dx.size == 0:
            return [dx]
        if geo.og == 0:  # no filters: nothing flows back
            run.device.fill_zero(dx.address, dx.nbytes)
            return [dx]
        geo.check_blas()
        w, gy = contiguous(run, copy, w), contiguous(run, copy, gy)
        image = geo.c * geo.h * geo.w
        nb = geo.chunk(isz)
        cols = None if geo.pointwise else run.empty((nb * geo.k * geo.p,), dtype)
        for n0 in range(0, geo.n, nb):
            images = min(nb, geo.n - n0)
            target = dx.address + n0 * image * isz if geo.pointwise else cols.address
            # Row-major dcols (k/g x p) = w^T (k/g x o/g) @ gy (o/g x p) is column-major
            # dcols^T (p x k/g) = gy^T (p x o/g) @ w (o/g x k/g).
            _batched_products(run, geo, dtype, images, True, (geo.p, geo.kg, geo.og),
                              (gy.address + n0 * geo.o * geo.p * isz, geo.p, geo.o * geo.p,
                               geo.og * geo.p),
                              (w.address, geo.kg, geo.og * geo.kg),
                              (target, geo.k * geo.p, geo.kg * geo.p))
            if not geo.pointwise:
                run.launch_elements(f"{col2im}{geo.index_suffix(images)}", images * image,
                                    [geo.struct(images, False), cols.address,
                                     dx.address + n0 * image * isz])
        return [dx]

    return step


@CUDA_CODE.register(Conv2dGradWeights)
def conv2d_grad_weights(node, build: Build):
    op = node.op
    dtype = _dtype(node)
    build.host_input(2)  # the filters' (rows, cols)
    im2col = _kernels(build, dtype, "im2col")
    copy = copier(build, dtype)
    isz = np.dtype(dtype).itemsize

    def step(run: Run, args: list) -> list[DeviceArray]:
        x, gy, size = args
        kernel_hw = _sizes(op, size, "filter")
        if gy.shape[0] != x.shape[0]:
            raise ExprcShapeError(f"{op}: the input of shape {x.shape} and the output gradient "
                                  f"of shape {gy.shape} differ in batch size")
        g = op.num_groups
        geo = _Geometry(op, x.shape, (gy.shape[1], x.shape[1] // g, *kernel_hw),
                        gy.shape[2:])
        gw = run.empty((geo.o, geo.cg, geo.kh, geo.kw), dtype)
        if gw.size == 0:
            return [gw]
        if geo.n == 0:  # an empty batch: an empty sum
            run.device.fill_zero(gw.address, gw.nbytes)
            return [gw]
        geo.check_blas()
        xs = _element_strides(x)
        nb = geo.chunk(isz)
        cols = run.empty((nb * geo.k * geo.p,), dtype)
        beta = 0.0
        for n0 in range(0, geo.n, nb):
            images = min(nb, geo.n - n0)
            run.launch_elements(f"{im2col}{geo.index_suffix(images, xs)}",
                                images * geo.k * geo.p,
                                [geo.struct(images, True, xs), x.address + n0 * x.strides[0],
                                 cols.address])
            # The chunk's output gradient as (o, images, oh, ow): rows of images * p columns.
            chunk = gy.view((geo.o, images, geo.oh, geo.ow),
                            (gy.strides[1], gy.strides[0], *gy.strides[2:]),
                            n0 * gy.strides[0])
            if not chunk.is_contiguous:
                chunk = copy(run, chunk)
            cols_len = images * geo.p
            # Row-major gw (o/g x k/g) = gy (o/g x L) @ cols^T (L x k/g) is column-major
            # gw^T (k/g x o/g) = cols (k/g x L, stored as L x k/g) @ gy^T (L x o/g).
            _strided_batched(run, dtype, True, False, (geo.kg, geo.og, cols_len),
                             (cols.address, cols_len, geo.kg * cols_len),
                             (chunk.address, cols_len, geo.og * cols_len), beta,
                             (gw.address, geo.kg, geo.og * geo.kg), geo.groups)
            beta = 1.0
        return [gw]

    return step
