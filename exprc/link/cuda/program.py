"""A rewritten graph as a CUDA program: one module of kernels and a plan of steps.

Building a :class:`CudaProgram` sorts the nodes and gives each a place:

- ``"cuda"``: the op's rule in :data:`CUDA_CODE` (``ops/<family>.py``) was asked for the node
  at build time. A rule adds the kernels it needs to the program's one CUDA module through its
  :class:`Build` and returns a *step*, ``step(run, args) -> results``, called once per call
  with the node's input values (:class:`~exprc.link.cuda.device.DeviceArray`, or NumPy arrays
  for the inputs it asked to read on the host with :meth:`Build.host_input`, such as the sizes
  of an ``Alloc``) and returning its outputs. Steps queue kernels and cuBLAS calls on the
  device's stream and do not wait for them.
- ``"host"``: shape arithmetic (``Shape`` and the small integer computations over shapes and
  constants that follow it) runs on the host with the reference rules; these values never
  cross the bus except when a device step asks for one.
- ``"cpu (transfer)"``: an op with no CUDA rule runs its reference rule on the host, with its
  inputs downloaded and its outputs uploaded; :meth:`CudaProgram.placement` lists such nodes,
  and building the program warns once, naming them.

All kernels of a program are one source, built once by nvcc through the compile cache and
loaded once. A call uploads the arguments the device needs, runs the steps in order, and
returns device arrays: the function downloads the outputs the user asked for, and the new
values of shared variables stay in device memory (``Container.store``).

A step never writes into a buffer it did not get from :meth:`Run.empty` in the same call,
except through :meth:`Run.reusable` (the in-place ops), which only hands out buffers this call
made and no one else reads: the caller's arrays, shared values and constants are never
overwritten.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from exprc.errors import ExprcError, user_stacklevel
from exprc.graph.ir import Apply, Constant, Variable
from exprc.graph.optable import OpTable
from exprc.graph.traversal import toposort
from exprc.link.codegen.render import CUDA, Renderer
from exprc.link.cuda.device import Device, DeviceArray, DeviceKernel, KernelSpec
from exprc.link.reference import REFERENCE, annotate_error, run_node
from exprc.tensor.shape import Shape
from exprc.tensor.type import TensorType

__all__ = ["CUDA_CODE", "Build", "CudaFallbackWarning", "CudaProgram", "CudaUnsupportedError",
           "Run", "launch_geometry"]

#: Op class -> ``rule(node, build) -> step``: a node's CUDA implementation (see the module
#: docstring).
CUDA_CODE = OpTable("CUDA implementation")

#: Threads per block of the elementwise and row kernels (a multiple of the warp).
BLOCK = 256


class CudaUnsupportedError(ExprcError, NotImplementedError):
    """A rule cannot handle this particular node (a dtype or a parameter it does not support);
    the node then runs on the CPU with transfers, like an op without a rule."""


class CudaFallbackWarning(UserWarning):
    """Some nodes of a function compiled for the GPU run on the CPU, with transfers."""


def launch_geometry(device: Device, elements: int, block: int = BLOCK) -> tuple[int, int]:
    """``(blocks, threads)`` of a grid-stride launch over ``elements``: enough blocks to fill
    every multiprocessor several times over, never more than there are elements to give."""
    blocks = max(1, min(-(-elements // block), device.multiprocessors * 8))
    return blocks, block


# --------------------------------------------------------------------------- build time
class _Module:
    """The kernels a program's rules asked for, gathered into one source."""

    def __init__(self):
        self.parts: list[str] = []
        self.specs: dict[str, KernelSpec] = {}
        self.by_key: dict[object, str] = {}
        self.preamble: dict[str, str] = {}
        # One renderer for all elementwise kernels, so each scalar helper is defined once.
        self.renderer = Renderer(CUDA)

    def source(self) -> str:
        head = ["\n".join(CUDA.includes), '#include "exprc_cuda_common.cuh"',
                *self.preamble.values()]
        helpers = self.renderer.helper_definitions()
        return "\n\n".join(head + ([helpers] if helpers else []) + self.parts) + "\n"


class Build:
    """What a rule gets at build time for one node.

    Attributes
    ----------
    node : Apply
    index : int
        The node's position in the program (error messages name it).
    device : Device
        The device the program is built for (its limits shape the launches).
    """

    def __init__(self, module: _Module, node: Apply, index: int, device: Device,
                 on_host: Callable[[Variable], bool] = lambda var: False,
                 last_reader: Callable[[Variable], int | None] = lambda var: None):
        self._module = module
        self.node = node
        self.index = index
        self.device = device
        self.host_positions: set[int] = set()
        self._on_host = on_host
        self._last_reader = last_reader

    def on_host(self, position: int) -> bool:
        """Whether the program holds input ``position``'s value on the host (a constant, a
        caller's argument, shape arithmetic): a rule may read it there at no cost, while
        reading any other input on the host waits for the device."""
        return self._on_host(self.node.inputs[position])

    def last_read(self, position: int) -> bool:
        """Whether this node is the last to read input ``position`` (which it reads once, and
        which is no output of the program): an in-place step may then overwrite its buffer,
        when :meth:`Run.reusable` also agrees at run time."""
        var = self.node.inputs[position]
        return (self._last_reader(var) == self.index
                and sum(v is var for v in self.node.inputs) == 1)

    def host_input(self, *positions: int) -> None:
        """The step reads these inputs as NumPy arrays (sizes, indices known on the host)."""
        self.host_positions.update(positions)

    def preamble(self, key: str, text: str) -> None:
        """Source text (a struct, a helper function) placed once before every kernel."""
        self._module.preamble.setdefault(key, text)

    @property
    def renderer(self) -> Renderer:
        """The scalar renderer of the program's module (elementwise kernels use it)."""
        return self._module.renderer

    def kernel(self, key: object, make: Callable[[str], tuple[str, Sequence[KernelSpec]]]
               ) -> str:
        """The base name of the kernels identified by ``key`` (a hashable description of what
        they compute), generating them with ``make(base) -> (source, specs)`` the first time
        any node asks; the kernels' names start with ``base``. Identical kernels of several
        nodes are one."""
        name = self._module.by_key.get(key)
        if name is None:
            name = f"k{len(self._module.by_key)}"
            text, specs = make(name)
            for spec in specs:
                if not spec.name.startswith(name) or spec.name in self._module.specs:
                    raise ExprcError(f"internal error: kernel {spec.name} made for {name}")
                self._module.specs[spec.name] = spec
            self._module.parts.append(text)
            self._module.by_key[key] = name
        return name


# --------------------------------------------------------------------------- run time
class Run:
    """What a step gets at run time: the device, the loaded kernels, and allocation."""

    def __init__(self, device: Device, kernels: dict[str, DeviceKernel]):
        self.device = device
        self.kernels = kernels
        # Buffers this call made are marked with this token (an id could be a freed
        # buffer's, reused by a shared value's or a constant's).
        self._token = object()
        self.users: dict[int, int] = {}  # buffer id -> live values of this call on it

    def empty(self, shape: Sequence[int], dtype) -> DeviceArray:
        """A fresh C-contiguous device array owned by this call."""
        array = DeviceArray.empty(self.device, shape, dtype)
        array.buffer.owner = self._token
        return array

    def launch(self, name: str, grid, block, args: Sequence, shared_bytes: int = 0) -> None:
        """Queue kernel ``name`` (grid and block as ints or 3-tuples)."""
        self.kernels[name].launch(_dim3(grid), _dim3(block), args, shared_bytes)

    def launch_elements(self, name: str, elements: int, args: Sequence) -> None:
        """Queue a grid-stride kernel over ``elements`` (nothing for none)."""
        if elements:
            blocks, threads = launch_geometry(self.device, elements)
            self.launch(name, blocks, threads, args)

    def reusable(self, array: DeviceArray, shape: Sequence[int], dtype) -> bool:
        """Whether an in-place step may write its result of ``shape`` and ``dtype`` over
        ``array``: a contiguous whole buffer this call made, read by nothing after the
        step: the graph's in-place rewrites only destroy a value no later node reads, and
        the program counts the live values on each buffer (views share one)."""
        return (array.buffer.owner is self._token and self.users.get(id(array.buffer)) == 1
                and array.offset == 0 and array.shape == tuple(shape)
                and array.dtype == np.dtype(dtype) and array.is_contiguous)


    def new_flag(self) -> DeviceArray:
        """A zeroed ``int32`` in device memory, which a kernel sets when it meets bad input
        (an index out of range) that only the device sees."""
        flag = self.empty((1,), "int32")
        self.device.fill_zero(flag.address, flag.nbytes)
        return flag

    def flag_raised(self, flag: DeviceArray) -> bool:
        """Whether a kernel set ``flag``. This waits for the work queued so far: rules use it
        only where the values to check exist on the device alone."""
        host = np.zeros(1, np.int32)
        self.device.download(host, flag.address)
        return bool(host[0])


def _dim3(value) -> tuple[int, int, int]:
    if isinstance(value, int):
        return (value, 1, 1)
    value = tuple(int(v) for v in value)
    return value + (1,) * (3 - len(value))


# --------------------------------------------------------------------------- the program
class CudaProgram:
    """A graph from ``inputs`` to ``outputs`` compiled for a CUDA device.

    Called with one value per input (NumPy arrays, device arrays, or the ``Container`` of a
    shared variable, whose device copy is used and kept), it returns one
    :class:`~exprc.link.cuda.device.DeviceArray` per output.
    """

    #: Where the nodes run, as ``Function.placement`` reports it.
    backend = "cuda"
    #: ``Function`` passes shared variables' containers rather than their host values.
    takes_containers = True

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
                 device: Device, profile: bool = False):
        # Importing the rule modules fills CUDA_CODE.
        from exprc.link.cuda import ops  # noqa: F401

        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.device = device
        self.profile = profile
        self.nodes = toposort(self.outputs, self.inputs)
        self._seconds = [0.0] * len(self.nodes)
        module = _Module()
        self.places: list[str] = []
        self.steps: list[Callable] = []
        self._host_positions: list[set[int]] = []
        on_host: set[int] = set()  # ids of the values computed on the host
        fallbacks: list[str] = []
        last_reader: dict[int, int] = {}
        for k, node in enumerate(self.nodes):
            for var in node.inputs:
                last_reader[id(var)] = k
        for var in self.outputs:
            last_reader[id(var)] = len(self.nodes)
        arguments = {id(v) for v in self.inputs if not hasattr(v, "container")}

        def held_on_host(var: Variable) -> bool:
            # Shared variables (with a container) live on the device; other arguments arrive
            # from the caller as NumPy arrays.
            return isinstance(var, Constant) or id(var) in arguments or id(var) in on_host

        self._held_on_host = held_on_host
        self._last_reader = lambda var: last_reader.get(id(var))
        for k, node in enumerate(self.nodes):
            place, step, host_positions = self._place(node, k, module, on_host)
            if place != "cuda":
                on_host.update(id(v) for v in node.outputs)
            if place == "cpu (transfer)":
                fallbacks.append(f"{k}: {node.op}")
            self.places.append(place)
            self.steps.append(step)
            self._host_positions.append(host_positions)
        self._kernels: dict[str, DeviceKernel] = (
            dict(device.load_module(module.source(), list(module.specs.values())))
            if module.specs else {})
        self.source = module.source() if module.specs else ""
        self._constants_on_device: dict[int, DeviceArray] = {}
        # What each call walks: per node its inputs (id, variable, read on the host?), the
        # ids of its outputs and of the values it reads last, computed once here.
        self._plan = [
            (k, node, place, step,
             tuple((id(v), v, i in wanted) for i, v in enumerate(node.inputs)),
             tuple(id(v) for v in node.outputs), tuple(released))
            for k, (node, place, step, wanted, released) in enumerate(zip(
                self.nodes, self.places, self.steps, self._host_positions,
                _released_after(self.nodes, self.outputs)))]
        if fallbacks:
            warnings.warn(
                f"{len(fallbacks)} node(s) have no CUDA implementation and run on the CPU, "
                f"with their inputs and outputs copied across the bus: {'; '.join(fallbacks)}",
                CudaFallbackWarning, stacklevel=user_stacklevel())

    def _place(self, node: Apply, index: int, module: _Module, on_host: set[int]):
        if isinstance(node.op, Shape):
            return "host", _shape_step, set()
        if node.inputs and all(isinstance(v, Constant) or id(v) in on_host
                               for v in node.inputs) and _small_integers(node):
            return "host", _memoised(node, _reference_step(node)), set(range(len(node.inputs)))
        rule = CUDA_CODE.registered(node.op)
        if rule is not None and all(isinstance(v.type, TensorType)
                                    for v in node.inputs + node.outputs):
            build = Build(module, node, index, self.device, self._held_on_host,
                          self._last_reader)
            try:
                step = rule(node, build)
            except CudaUnsupportedError:
                pass
            else:
                return "cuda", step, build.host_positions
        return "cpu (transfer)", _reference_step(node), set(range(len(node.inputs)))

    # ------------------------------------------------------------------ calling
    def __call__(self, values: Sequence) -> list[DeviceArray]:
        with self.device.activated():  # one context switch for the whole call
            return self._call(values)

    def _call(self, values: Sequence) -> list[DeviceArray]:
        device = self.device
        on_device: dict[int, DeviceArray] = {}
        on_host: dict[int, np.ndarray] = {}
        containers: dict[int, object] = {}
        for var, value in zip(self.inputs, values):
            if isinstance(value, np.ndarray):
                if not value.dtype.isnative:  # kernels and host rules read native order
                    value = value.astype(value.dtype.newbyteorder("="))
                on_host[id(var)] = value
            elif isinstance(value, DeviceArray):
                on_device[id(var)] = value
            else:  # a shared variable's container: its device copy is made once and kept
                containers[id(var)] = value
        run = Run(device, self._kernels)
        users = run.users

        def keep(var: Variable, value: DeviceArray) -> None:
            on_device[id(var)] = value
            users[id(value.buffer)] = users.get(id(value.buffer), 0) + 1

        def device_value(var: Variable) -> DeviceArray:
            key = id(var)
            value = on_device.get(key)
            if value is None:
                if key in containers:
                    value = containers[key].device_value(device, self._upload)
                elif isinstance(var, Constant):
                    value = self._constant(var)
                else:
                    value = DeviceArray.from_host(device, on_host[key])
                keep(var, value)
            return value

        def host_value(var: Variable) -> np.ndarray:
            key = id(var)
            value = on_host.get(key)
            if value is None:
                if isinstance(var, Constant):
                    return var.data
                if key in containers:
                    value = containers[key].value
                else:
                    value = on_device[key].to_host()
                on_host[key] = value
            return value

        profile = self.profile
        for k, node, place, step, reads, written, released in self._plan:
            started = time.perf_counter() if profile else 0.0
            if place == "cuda":
                args = []
                for key, var, on_the_host in reads:
                    if on_the_host:
                        args.append(host_value(var))
                    else:
                        value = on_device.get(key)
                        args.append(value if value is not None else device_value(var))
                try:
                    results = step(run, args)
                except Exception as exc:
                    raise annotate_error(exc, node, args) from exc
                for key, result in zip(written, results):
                    on_device[key] = result
                    buffer = id(result.buffer)
                    users[buffer] = users.get(buffer, 0) + 1
            else:
                if step is _shape_step:
                    args = [_shape_of(node.inputs[0], on_host, on_device, containers)]
                else:
                    args = [host_value(var) for _, var, _ in reads]
                for key, result in zip(written, step(node, args)):
                    on_host[key] = result
            if profile:
                device.synchronize()
                self._seconds[k] += time.perf_counter() - started
            for key in released:
                value = on_device.pop(key, None)
                if value is not None:
                    users[id(value.buffer)] -= 1
                on_host.pop(key, None)
        return [device_value(v) for v in self.outputs]

    def _upload(self, array: np.ndarray) -> DeviceArray:
        return DeviceArray.from_host(self.device, array)

    def _constant(self, var: Constant) -> DeviceArray:
        value = self._constants_on_device.get(id(var))
        if value is None:
            value = self._constants_on_device[id(var)] = self._upload(np.asarray(var.data))
        return value

    # ------------------------------------------------------------------ reporting
    def placement(self) -> list[tuple[str, str]]:
        """``(description, where)`` per node: ``cuda``, ``host`` (shape arithmetic) or
        ``cpu (transfer)`` (no CUDA rule: run on the CPU with copies)."""
        return [(f"{k}: {node.op}", place)
                for k, (node, place) in enumerate(zip(self.nodes, self.places))]

    def node_seconds(self) -> list[float]:
        """Seconds spent in each node over all calls so far (``profile=True``: each step
        waits for the device, so the times are the GPU's)."""
        if not self.profile:
            raise ExprcError("this program was not built for profiling (profile=True)")
        return list(self._seconds)


def _small_integers(node: Apply) -> bool:
    """Whether every output is an integer or boolean scalar or vector (shape arithmetic)."""
    return all(isinstance(v.type, TensorType) and v.ndim <= 1
               and (v.dtype.startswith(("int", "uint")) or v.dtype == "bool")
               for v in node.outputs)


def _released_after(nodes: list[Apply], outputs: list[Variable]) -> list[list[int]]:
    """For each node, the ids of the values read (or made) for the last time by it: dropping
    them there returns their buffers for reuse and frees in-place ops to overwrite them. The
    outputs are never dropped."""
    last: dict[int, int] = {}
    for k, node in enumerate(nodes):
        for var in node.outputs:
            last.setdefault(id(var), k)
        for var in node.inputs:
            if not isinstance(var, Constant):
                last[id(var)] = k
    kept = {id(v) for v in outputs}
    released: list[list[int]] = [[] for _ in nodes]
    for key, k in last.items():
        if key not in kept:
            released[k].append(key)
    return released


_SHAPES: dict[tuple, np.ndarray] = {}


def _shape_step(node: Apply, args: list) -> list[np.ndarray]:
    # The same shape gives the same (read-only) array object every call, so that the shape
    # arithmetic after it finds its arguments unchanged by identity (see _memoised).
    shape = tuple(args[0])
    value = _SHAPES.get(shape)
    if value is None:
        if len(_SHAPES) >= 4096:
            _SHAPES.clear()
        value = _SHAPES[shape] = np.array(shape, dtype="int64")
        value.setflags(write=False)
    return [value]


def _shape_of(var, on_host, on_device, containers) -> tuple[int, ...]:
    key = id(var)
    if isinstance(var, Constant):
        return np.shape(var.data)
    if key in on_device:
        return on_device[key].shape
    if key in on_host:
        return np.shape(on_host[key])
    return containers[key].shape


def _reference_step(node: Apply) -> Callable:
    """The node's reference rule as a host step. An input the op would overwrite is copied
    first: on the host the program holds the caller's own arrays and cached values."""
    rule = REFERENCE[node.op]
    destroyed = sorted({i for ins in getattr(node.op, "destroy_map", {}).values() for i in ins})

    def step(node: Apply, args: list) -> list:
        for i in destroyed:
            args[i] = np.array(args[i], copy=True)
        return run_node(node, rule, args)

    return step


#: Distinct argument sets a host node remembers the results of.
_MEMO_SIZE = 32


def _memoised(node: Apply, step: Callable) -> Callable:
    """``step`` remembering its results by the values of its arguments: shape arithmetic is
    the same every call of a training loop, and a lookup costs far less than the rule. The
    results are made read-only, so no later node can change a remembered value in place; and
    when every argument is the very object of the last call and cannot have changed since (a
    read-only array: a remembered value, a shape; or a constant), the last results serve
    without even a lookup."""
    memo: dict[tuple, list] = {}
    last: list = [(), None]  # the previous call's arguments and results
    constants = {id(v.data) for v in node.inputs if isinstance(v, Constant)}

    def unchanged(a, b) -> bool:
        return a is b and (id(a) in constants or (isinstance(a, np.ndarray)
                                                  and not a.flags.writeable))

    def remembered(node: Apply, args: list) -> list:
        previous, results = last
        if len(previous) == len(args) and all(map(unchanged, args, previous)):
            return results
        key = tuple((a.dtype.str, a.shape, a.tobytes()) if isinstance(a, np.ndarray)
                    else (type(a).__name__, repr(a)) for a in args)
        results = memo.get(key)
        if results is None:
            results = step(node, args)
            for r in results:
                if isinstance(r, np.ndarray):
                    r.setflags(write=False)
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[key] = results
        last[:] = [tuple(args), results]
        return results

    return remembered
