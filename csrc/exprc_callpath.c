/* The native call path: one CPython object per compiled program that checks its arguments,
 * calls the program's exprc_run and wraps the outputs as NumPy arrays, with no Python code in
 * between.  It is a small CPython extension module (exprc_callpath), built once per machine
 * and Python/NumPy version by exprc/link/c/callpath.py and kept in the compile cache.
 *
 * A NativeCall is constructed with the addresses of a program's exprc_run, exprc_free and
 * exprc_state (taken from the cffi-loaded library), a spec per input (dtype kind, item size,
 * rank, static sizes or -1), the constants passed after the inputs, the NumPy type number of
 * each output, a Python callable that turns a native error into an exception, and the address
 * of the runtime library's exprc_interrupt_arm (0: calls are not interrupted).
 *
 * Calling it with exactly the expected arrays runs the program.  Anything else (a list, a
 * scalar, another dtype or rank, a size that contradicts a static one, a misaligned or
 * byte-swapped array, keywords, the wrong number of arguments) returns NotImplemented: the
 * caller then takes the Python path, which converts the values or raises an error naming the
 * input.  So this file holds no error message of its own beyond the program's.
 *
 * A SIGINT during a call in the main thread makes the program call run_signal_handlers between
 * two nodes: Python's handlers run there, as they would between two bytecodes; the call stops
 * with the exception of one that raised (KeyboardInterrupt for Python's default handler) and
 * goes on when they return.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include "exprc_abi.h"

/* The interface Python expects (exprc/link/c/callpath.py): a module built from an older
 * source, e.g. at install time before an edit, is not used. */
#define EXPRC_CALLPATH_INTERFACE 2

typedef int (*exprc_run_fn)(exprc_state *, const exprc_array *, exprc_array *, exprc_error *);
typedef void (*exprc_free_fn)(void *);
typedef void (*exprc_give_back_fn)(exprc_state *, void *);

typedef struct {
    char kind;                       /* NumPy dtype kind: 'f', 'i', 'u', 'b' */
    int itemsize;
    int ndim;
    int64_t shape[EXPRC_MAXDIM];     /* -1 where the size is not fixed by the type */
} input_spec;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    exprc_run_fn run;
    exprc_free_fn free_buffer;
    exprc_give_back_fn give_back;
    exprc_interrupt_arm_fn arm;      /* NULL: the runtime library offers none */
    exprc_state *state;
    Py_ssize_t n_in, n_const, n_out;
    input_spec *specs;
    exprc_array *constants;
    int *out_types;
    PyObject *on_error;              /* (kind, node, message: bytes) -> exception instance */
    PyObject *keep;                  /* keeps the program, its state and constants alive */
} NativeCall;

/* Arrays up to this many inputs are described on the stack. */
#define STACK_SLOTS 16

/* ------------------------------------------------------------------ output buffers */
/* The owner of one output buffer, the base of the NumPy array over it.  When NumPy lets go,
 * the buffer goes back to the program (exprc_give_back), which reuses it for the next call's
 * output; the reference to the NativeCall keeps the program and its state alive until then. */
typedef struct {
    PyObject_HEAD
    void *buffer;
    PyObject *call;                  /* the NativeCall that made it */
} OutputBuffer;

static void output_buffer_dealloc(PyObject *object)
{
    OutputBuffer *self = (OutputBuffer *)object;
    NativeCall *call = (NativeCall *)self->call;
    call->give_back(call->state, self->buffer);
    Py_DECREF(self->call);
    PyObject_Free(object);
}

static PyTypeObject OutputBufferType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "exprc_callpath.OutputBuffer",
    .tp_doc = "Memory of an output of a compiled exprc function.",
    .tp_basicsize = sizeof(OutputBuffer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = output_buffer_dealloc,
};

/* A NumPy array over an output buffer; the array owns the buffer from now on. */
static PyObject *wrap_output(NativeCall *self, exprc_array *slot, int type_num)
{
    npy_intp dims[EXPRC_MAXDIM];
    for (int64_t d = 0; d < slot->ndim; ++d) dims[d] = (npy_intp)slot->shape[d];
    if (slot->owner == NULL) /* nothing was allocated: only possible for an empty result */
        return PyArray_SimpleNew((int)slot->ndim, dims, type_num);
    OutputBuffer *owner = PyObject_New(OutputBuffer, &OutputBufferType);
    if (owner == NULL) return NULL;
    owner->buffer = slot->owner;
    owner->call = Py_NewRef((PyObject *)self);
    slot->owner = NULL; /* the owner object gives it back, whatever happens next */
    PyObject *array = PyArray_SimpleNewFromData((int)slot->ndim, dims, type_num, slot->data);
    if (array == NULL) {
        Py_DECREF(owner);
        return NULL;
    }
    if (PyArray_SetBaseObject((PyArrayObject *)array, (PyObject *)owner) < 0) {
        Py_DECREF(array);
        return NULL;
    }
    return array;
}

/* ------------------------------------------------------------------ arguments */
/* Whether `object` is an array the program can read as it is. */
static int describe_input(const input_spec *spec, PyObject *object, exprc_array *slot)
{
    if (!PyArray_Check(object)) return 0;
    PyArrayObject *array = (PyArrayObject *)object;
    PyArray_Descr *descr = PyArray_DESCR(array);
    if (descr->kind != spec->kind || PyArray_ITEMSIZE(array) != spec->itemsize
        || PyArray_NDIM(array) != spec->ndim || !PyArray_ISALIGNED(array)
        || PyArray_ISBYTESWAPPED(array))
        return 0;
    const npy_intp *dims = PyArray_DIMS(array);
    const npy_intp *strides = PyArray_STRIDES(array);
    for (int d = 0; d < spec->ndim; ++d) {
        if (spec->shape[d] >= 0 && spec->shape[d] != dims[d]) return 0;
        slot->shape[d] = dims[d];
        slot->strides[d] = strides[d];
    }
    slot->data = PyArray_DATA(array);
    slot->ndim = spec->ndim;
    slot->owner = NULL;
    return 1;
}

static PyObject *native_error(const NativeCall *self, const exprc_error *error)
{
    PyObject *exception = PyObject_CallFunction(self->on_error, "iLy", error->kind,
                                                (long long)error->node, error->message);
    if (exception == NULL) return NULL;
    PyErr_SetObject((PyObject *)Py_TYPE(exception), exception);
    Py_DECREF(exception);
    return NULL;
}

/* ------------------------------------------------------------------ the call */
/* Called by the program, in the calling thread and without the GIL, when a SIGINT came:
 * run Python's handlers now; non-zero (the exception set) when one raised. */
static int run_signal_handlers(void *context)
{
    (void)context;
    PyGILState_STATE gil = PyGILState_Ensure();
    const int raised = PyErr_CheckSignals() < 0;
    PyGILState_Release(gil);
    return raised;
}

static PyObject *native_call(PyObject *callable, PyObject *const *args, size_t nargsf,
                             PyObject *kwnames)
{
    NativeCall *self = (NativeCall *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL || nargs != self->n_in) Py_RETURN_NOTIMPLEMENTED;

    Py_ssize_t n_slots = self->n_in + self->n_const;
    exprc_array stack_in[STACK_SLOTS], stack_out[STACK_SLOTS];
    exprc_array *in = stack_in, *out = stack_out;
    if (n_slots > STACK_SLOTS || self->n_out > STACK_SLOTS) {
        in = PyMem_Malloc(sizeof(exprc_array) * (size_t)(n_slots + self->n_out + 1));
        if (in == NULL) return PyErr_NoMemory();
        out = in + n_slots;
    }
    PyObject *result = NULL;
    for (Py_ssize_t k = 0; k < nargs; ++k) {
        if (!describe_input(&self->specs[k], args[k], &in[k])) {
            result = Py_NewRef(Py_NotImplemented);
            goto done;
        }
    }
    if (self->n_const) memcpy(in + self->n_in, self->constants,
                              sizeof(exprc_array) * (size_t)self->n_const);

    exprc_error error;
    int status;
    if (self->arm != NULL) self->arm(run_signal_handlers, NULL);
    /* Other Python threads run meanwhile; the arguments stay alive because the caller holds
     * them, and the state's free list is taken atomically inside exprc_run. */
    Py_BEGIN_ALLOW_THREADS
    status = self->run(self->state, in, out, &error);
    Py_END_ALLOW_THREADS
    if (status != 0) {
        /* Interrupted: the exception a signal handler raised is already set. */
        if (!(error.kind == EXPRC_INTERRUPTED && PyErr_Occurred())) native_error(self, &error);
        goto done;
    }

    result = PyList_New(self->n_out);
    Py_ssize_t j = 0;
    if (result != NULL) {
        for (; j < self->n_out; ++j) {
            PyObject *array = wrap_output(self, &out[j], self->out_types[j]);
            if (array == NULL) break;
            PyList_SET_ITEM(result, j, array);
        }
    }
    if (result == NULL || j < self->n_out) {
        for (Py_ssize_t r = j; r < self->n_out; ++r) self->free_buffer(out[r].owner);
        Py_CLEAR(result);
    }
done:
    if (in != stack_in) PyMem_Free(in);
    return result;
}

/* ------------------------------------------------------------------ construction */
static int parse_specs(NativeCall *self, PyObject *specs)
{
    self->n_in = PySequence_Size(specs);
    if (self->n_in < 0) return -1;
    self->specs = PyMem_Calloc((size_t)self->n_in + 1, sizeof(input_spec));
    if (self->specs == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < self->n_in; ++k) {
        PyObject *item = PySequence_GetItem(specs, k);
        if (item == NULL) return -1;
        int kind, itemsize;
        PyObject *shape;
        int ok = PyArg_ParseTuple(item, "CiO!", &kind, &itemsize, &PyTuple_Type, &shape);
        Py_DECREF(item);
        if (!ok) return -1;
        input_spec *spec = &self->specs[k];
        spec->kind = (char)kind;
        spec->itemsize = itemsize;
        spec->ndim = (int)PyTuple_GET_SIZE(shape);
        if (spec->ndim > EXPRC_MAXDIM) {
            PyErr_Format(PyExc_ValueError, "input %zd has %d dimensions; at most %d", k,
                         spec->ndim, EXPRC_MAXDIM);
            return -1;
        }
        for (int d = 0; d < spec->ndim; ++d) {
            spec->shape[d] = PyLong_AsLongLong(PyTuple_GET_ITEM(shape, d));
            if (spec->shape[d] == -1 && PyErr_Occurred()) return -1;
        }
    }
    return 0;
}

static int parse_constants(NativeCall *self, PyObject *constants)
{
    self->n_const = PySequence_Size(constants);
    if (self->n_const < 0) return -1;
    self->constants = PyMem_Calloc((size_t)self->n_const + 1, sizeof(exprc_array));
    if (self->constants == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < self->n_const; ++k) {
        PyObject *item = PySequence_GetItem(constants, k);
        if (item == NULL) return -1;
        /* `keep` holds the sequence, so the borrowed data pointer stays valid. */
        Py_DECREF(item);
        if (!PyArray_Check(item) || PyArray_NDIM((PyArrayObject *)item) > EXPRC_MAXDIM) {
            PyErr_Format(PyExc_TypeError, "constant %zd is not an array of rank <= %d", k,
                         EXPRC_MAXDIM);
            return -1;
        }
        PyArrayObject *array = (PyArrayObject *)item;
        exprc_array *slot = &self->constants[k];
        slot->data = PyArray_DATA(array);
        slot->ndim = PyArray_NDIM(array);
        for (int d = 0; d < PyArray_NDIM(array); ++d) {
            slot->shape[d] = PyArray_DIMS(array)[d];
            slot->strides[d] = PyArray_STRIDES(array)[d];
        }
        slot->owner = NULL;
    }
    return 0;
}

static int parse_outputs(NativeCall *self, PyObject *types)
{
    self->n_out = PySequence_Size(types);
    if (self->n_out < 0) return -1;
    self->out_types = PyMem_Calloc((size_t)self->n_out + 1, sizeof(int));
    if (self->out_types == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t j = 0; j < self->n_out; ++j) {
        PyObject *item = PySequence_GetItem(types, j);
        if (item == NULL) return -1;
        self->out_types[j] = (int)PyLong_AsLong(item);
        Py_DECREF(item);
        if (PyErr_Occurred()) return -1;
    }
    return 0;
}

static void native_dealloc(PyObject *object)
{
    NativeCall *self = (NativeCall *)object;
    PyObject_GC_UnTrack(object);
    PyMem_Free(self->specs);
    PyMem_Free(self->constants);
    PyMem_Free(self->out_types);
    Py_XDECREF(self->on_error);
    Py_XDECREF(self->keep);
    PyObject_GC_Del(object);
}

static int native_traverse(PyObject *object, visitproc visit, void *arg)
{
    NativeCall *self = (NativeCall *)object;
    Py_VISIT(self->on_error);
    Py_VISIT(self->keep);
    return 0;
}

static PyObject *native_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    unsigned long long run, free_buffer, give_back, state, arm = 0;
    PyObject *specs, *constants, *out_types, *on_error, *keep;
    static char *names[] = {"run", "free", "give_back", "state", "specs", "constants",
                            "out_types", "on_error", "keep", "arm", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "KKKKOOOOO|K:NativeCall", names, &run,
                                     &free_buffer, &give_back, &state, &specs, &constants,
                                     &out_types, &on_error, &keep, &arm))
        return NULL;
    if (run == 0 || free_buffer == 0 || give_back == 0 || state == 0) {
        PyErr_SetString(PyExc_ValueError,
                        "NativeCall needs non-null run, free, give_back and state");
        return NULL;
    }
    NativeCall *self = PyObject_GC_New(NativeCall, type);
    if (self == NULL) return NULL;
    self->vectorcall = native_call;
    self->run = (exprc_run_fn)(uintptr_t)run;
    self->free_buffer = (exprc_free_fn)(uintptr_t)free_buffer;
    self->give_back = (exprc_give_back_fn)(uintptr_t)give_back;
    self->arm = (exprc_interrupt_arm_fn)(uintptr_t)arm;
    self->state = (exprc_state *)(uintptr_t)state;
    self->specs = NULL;
    self->constants = NULL;
    self->out_types = NULL;
    self->on_error = Py_NewRef(on_error);
    self->keep = Py_NewRef(keep);
    PyObject_GC_Track((PyObject *)self);
    if (parse_specs(self, specs) < 0 || parse_constants(self, constants) < 0
        || parse_outputs(self, out_types) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyTypeObject NativeCallType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "exprc_callpath.NativeCall",
    .tp_doc = "A compiled program's native entry point (see exprc/link/c/callpath.py).",
    .tp_basicsize = sizeof(NativeCall),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = native_new,
    .tp_dealloc = native_dealloc,
    .tp_traverse = native_traverse,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(NativeCall, vectorcall),
};

static struct PyModuleDef callpath_module = {
    PyModuleDef_HEAD_INIT, "exprc_callpath",
    "Native entry points of compiled exprc programs.", -1, NULL,
};

PyMODINIT_FUNC PyInit_exprc_callpath(void)
{
    import_array();
    if (PyType_Ready(&NativeCallType) < 0 || PyType_Ready(&OutputBufferType) < 0) return NULL;
    PyObject *module = PyModule_Create(&callpath_module);
    if (module == NULL) return NULL;
    if (PyModule_AddObjectRef(module, "NativeCall", (PyObject *)&NativeCallType) < 0
        || PyModule_AddIntConstant(module, "INTERFACE", EXPRC_CALLPATH_INTERFACE) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
