/* CUDA's execution model on the CPU, so that the CUDA sources exprc generates can be run and
 * checked on machines without a GPU.
 *
 * A module for the emulator is one C++17 translation unit: this header, then the CUDA source
 * as nvcc would see it, then one launcher per kernel (written by exprc/link/cuda/emulator.py,
 * which calls exprc_emu::launch). The header turns the CUDA keywords into C++ and provides
 * the built-in variables, barriers, warp operations, atomics and device math that kernels use.
 *
 * How a launch runs: the blocks of the grid one after another (blockIdx z, then y, then x),
 * on the thread that called the launcher. The threads of a block are fibers, each on a small
 * stack of its own, switched cooperatively: a thread runs until it waits (at __syncthreads,
 * or at a warp operation for the other lanes of its warp) or returns, then the next runnable
 * thread of the block runs. A kernel without barriers therefore runs each thread to completion
 * in turn, and since no thread is ever interrupted, a plain read-modify-write is atomic.
 * A thread that returns leaves the block: barriers wait only for the threads still running,
 * as on the GPU. When every thread still running waits and none can go on (a __syncthreads
 * that some threads never reach while others wait for them at a warp operation, say), the
 * launch fails with a message naming the kernel, the block and where the threads wait,
 * instead of hanging; so does a __syncthreads reached at two different places at once (a
 * barrier in divergent code, undefined in CUDA). __trap(), a failed assert, a thread that
 * overflows its stack and a fault (unmapped memory, an integer divided by zero) fail the
 * launch too; the launcher returns non-zero and exprc_emu_error() says why.
 *
 * Shared memory: a `__shared__` variable becomes a `static` one (the blocks run one at a time,
 * so one copy is the running block's), and the dynamic shared memory of a launch
 * (EXPRC_DYNAMIC_SHARED) is a buffer filled with 0xff bytes (a NaN in every float) at the
 * start of every block, so that a kernel reading it before writing it gives visibly wrong
 * results rather than what an earlier block left there.
 *
 * Everything here is internal to the module (the module is built with -fvisibility=hidden),
 * so modules loaded side by side each have their own state, except the fibers' stacks, which
 * the host lends every module (exprc_emu_use_stacks): the Python side runs one launch at a
 * time in the whole process.
 */
#ifndef EXPRC_CUDA_EMU_H
#define EXPRC_CUDA_EMU_H

#define EXPRC_CUDA_EMULATED 1

/* A fault in a kernel leaves the launch with siglongjmp from a fiber's stack, which the
 * fortified longjmp would take for a jump into a dead frame. */
#undef _FORTIFY_SOURCE

/* Every system header first: the keyword macros below must not reach them. */
#include <assert.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>

/* Fibers switch with a few instructions on x86-64 (the callee-saved registers and the stack
 * pointer), which matters when a block of 1024 threads meets a barrier; elsewhere, or with
 * EXPRC_EMU_UCONTEXT defined, they use ucontext, which also saves the signal mask (a system
 * call per switch). */
#if defined(__x86_64__) && !defined(EXPRC_EMU_UCONTEXT)
#define EXPRC_EMU_FAST_SWITCH 1
#else
#include <ucontext.h>
#endif

#define EXPRC_EMU_EXPORT extern "C" __attribute__((visibility("default")))

/* ------------------------------------------------------------------ CUDA keywords */
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __constant__
#define __grid_constant__
#define __align__(n) __attribute__((aligned(n)))

#define EXPRC_DYNAMIC_SHARED(type, name) type *name = (type *)::exprc_emu::dynamic_shared()

static constexpr int warpSize = 32;

/* ------------------------------------------------------------------ vector types */
#define EXPRC_EMU_VEC1(name, T, A)                                                            \
    struct __attribute__((aligned(A))) name { T x; };                                         \
    static inline name make_##name(T x) { name v = {x}; return v; }
#define EXPRC_EMU_VEC2(name, T, A)                                                            \
    struct __attribute__((aligned(A))) name { T x, y; };                                      \
    static inline name make_##name(T x, T y) { name v = {x, y}; return v; }
#define EXPRC_EMU_VEC3(name, T, A)                                                            \
    struct __attribute__((aligned(A))) name { T x, y, z; };                                   \
    static inline name make_##name(T x, T y, T z) { name v = {x, y, z}; return v; }
#define EXPRC_EMU_VEC4(name, T, A)                                                            \
    struct __attribute__((aligned(A))) name { T x, y, z, w; };                                \
    static inline name make_##name(T x, T y, T z, T w) { name v = {x, y, z, w}; return v; }

EXPRC_EMU_VEC2(char2, signed char, 2)
EXPRC_EMU_VEC4(char4, signed char, 4)
EXPRC_EMU_VEC2(uchar2, unsigned char, 2)
EXPRC_EMU_VEC4(uchar4, unsigned char, 4)
EXPRC_EMU_VEC2(short2, short, 4)
EXPRC_EMU_VEC4(short4, short, 8)
EXPRC_EMU_VEC2(ushort2, unsigned short, 4)
EXPRC_EMU_VEC4(ushort4, unsigned short, 8)
EXPRC_EMU_VEC1(int1, int, 4)
EXPRC_EMU_VEC2(int2, int, 8)
EXPRC_EMU_VEC3(int3, int, 4)
EXPRC_EMU_VEC4(int4, int, 16)
EXPRC_EMU_VEC1(uint1, unsigned, 4)
EXPRC_EMU_VEC2(uint2, unsigned, 8)
EXPRC_EMU_VEC3(uint3, unsigned, 4)
EXPRC_EMU_VEC4(uint4, unsigned, 16)
EXPRC_EMU_VEC1(longlong1, long long, 8)
EXPRC_EMU_VEC2(longlong2, long long, 16)
EXPRC_EMU_VEC1(ulonglong1, unsigned long long, 8)
EXPRC_EMU_VEC2(ulonglong2, unsigned long long, 16)
EXPRC_EMU_VEC1(float1, float, 4)
EXPRC_EMU_VEC2(float2, float, 8)
EXPRC_EMU_VEC3(float3, float, 4)
EXPRC_EMU_VEC4(float4, float, 16)
EXPRC_EMU_VEC1(double1, double, 8)
EXPRC_EMU_VEC2(double2, double, 16)

struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return uint3{x, y, z}; }
};

/* ------------------------------------------------------------------ the runtime */
namespace exprc_emu {

/* The bottom of each fiber's stack holds this word: a thread that overwrote it overflowed. */
static const uint64_t STACK_CANARY = 0x6578707263656d75ull;
static const unsigned MAX_THREADS = 1024;

enum State { RUNNABLE, AT_BARRIER, AT_WARP, DONE };

enum WarpOp {
    OP_SHFL_IDX, OP_SHFL_UP, OP_SHFL_DOWN, OP_SHFL_XOR, OP_BALLOT, OP_ANY, OP_ALL, OP_SYNCWARP,
    OP_REDUCE_ADD, OP_REDUCE_MIN, OP_REDUCE_MAX, OP_REDUCE_AND, OP_REDUCE_OR, OP_REDUCE_XOR,
    OP_MATCH_ANY, OP_MATCH_ALL
};

static const char *const WARP_OP_NAMES[] = {
    "__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync", "__ballot_sync",
    "__any_sync", "__all_sync", "__syncwarp", "__reduce_add_sync", "__reduce_min_sync",
    "__reduce_max_sync", "__reduce_and_sync", "__reduce_or_sync", "__reduce_xor_sync",
    "__match_any_sync", "__match_all_sync"};

enum BarrierKind { BAR_SYNC, BAR_COUNT, BAR_AND, BAR_OR };

static const char *const BARRIER_NAMES[] = {"__syncthreads", "__syncthreads_count",
                                            "__syncthreads_and", "__syncthreads_or"};

struct Thread {
#ifdef EXPRC_EMU_FAST_SWITCH
    void *sp; /* saved stack pointer while switched out */
#else
    ucontext_t context;
#endif
    uint3 idx;
    unsigned lane, warp;
    int state;
    /* where it waits (for messages) */
    const char *file;
    int line;
    /* a warp operation in progress: what this lane brought and what it gets back */
    unsigned mask;
    int op, param, width;
    uint64_t in, out;
};

struct Runtime {
    Thread *threads = nullptr;
    unsigned capacity = 0;
    /* the fibers' stacks: one region for every module of the process, lent by the host
     * (exprc_emu_use_stacks), since launches never overlap */
    char *stacks = nullptr;
    size_t stack_bytes = 0;
    unsigned stack_count = 0;

    Thread *current = nullptr;
    unsigned count = 0; /* threads per block */
    unsigned live = 0;  /* not yet returned */

    /* the block barrier */
    unsigned arrived = 0;
    int bar_kind = 0, bar_line = 0, bar_votes = 0, bar_result = 0;
    const char *bar_file = nullptr;

    /* per warp: lanes that exist, lanes that returned, lanes waiting at a warp operation */
    uint32_t present[MAX_THREADS / 32], exited[MAX_THREADS / 32], waiting[MAX_THREADS / 32];

    uint3 block_idx = {0, 0, 0};
    dim3 block_dim, grid_dim;

#ifdef EXPRC_EMU_FAST_SWITCH
    void *scheduler_sp = nullptr;
    uint64_t fp_control = 0; /* MXCSR and x87 control word new fibers start with */
#else
    ucontext_t scheduler;
#endif
    void (*body)(void *) = nullptr;
    void *body_arg = nullptr;

    char *shared = nullptr;
    size_t shared_capacity = 0, shared_bytes = 0;

    const char *kernel = "";
    /* while a launch runs: where a fault in a kernel goes, and the handlers it displaced */
    bool in_launch = false;
    pthread_t launcher;
    sigjmp_buf escape;
    struct sigaction displaced[3];
    bool failed = false;
    char message[2048] = "";

    ~Runtime()
    {
        free(threads);
        free(shared);
    }
};

static Runtime rt;

/* ---- fibers */
#ifdef EXPRC_EMU_FAST_SWITCH
/* exprc_emu_switch(save, load): push the callee-saved registers and the floating-point
 * control words, store the stack pointer in *save, continue on the stack `load` (saved the
 * same way, or prepared by prepare_fiber) by popping its registers and returning. */
extern "C" void exprc_emu_switch(void **save, void *load) __attribute__((visibility("hidden")));
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".globl exprc_emu_switch\n"
    ".hidden exprc_emu_switch\n"
    ".type exprc_emu_switch, @function\n"
    "exprc_emu_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    subq $8, %rsp\n"
    "    stmxcsr (%rsp)\n"
    "    fnstcw 4(%rsp)\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    ldmxcsr (%rsp)\n"
    "    fldcw 4(%rsp)\n"
    "    addq $8, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size exprc_emu_switch, .-exprc_emu_switch\n");
#endif

static void fiber_main();

static inline char *stack_of(unsigned i) { return rt.stacks + (size_t)i * rt.stack_bytes; }

static inline void prepare_fiber(Thread &t, unsigned i)
{
    char *base = stack_of(i);
#ifdef EXPRC_EMU_FAST_SWITCH
    /* The frame exprc_emu_switch pops: control words, six registers, then fiber_main as the
     * return address, which it enters with the stack aligned as after a call. */
    uintptr_t top = ((uintptr_t)(base + rt.stack_bytes)) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 72);
    sp[0] = rt.fp_control;
    for (int r = 1; r <= 6; ++r)
        sp[r] = 0;
    sp[7] = (uint64_t)(uintptr_t)&fiber_main;
    sp[8] = 0; /* fiber_main's own return address: it never returns */
    t.sp = sp;
#else
    getcontext(&t.context);
    t.context.uc_stack.ss_sp = base;
    t.context.uc_stack.ss_size = rt.stack_bytes;
    t.context.uc_link = nullptr;
    makecontext(&t.context, fiber_main, 0);
#endif
}

/* Run thread t until it waits or returns. */
static inline void resume(Thread &t)
{
    rt.current = &t;
#ifdef EXPRC_EMU_FAST_SWITCH
    exprc_emu_switch(&rt.scheduler_sp, t.sp);
#else
    swapcontext(&rt.scheduler, &t.context);
#endif
}

/* The current thread waits: back to the scheduler until it is runnable again. */
static inline void yield()
{
    Thread *t = rt.current;
#ifdef EXPRC_EMU_FAST_SWITCH
    exprc_emu_switch(&t->sp, rt.scheduler_sp);
#else
    swapcontext(&t->context, &rt.scheduler);
#endif
}

/* Back to the scheduler for good (the thread returned, or the launch failed). */
[[noreturn]] static inline void leave()
{
#ifdef EXPRC_EMU_FAST_SWITCH
    void *abandoned;
    exprc_emu_switch(&abandoned, rt.scheduler_sp);
#else
    setcontext(&rt.scheduler);
#endif
    __builtin_unreachable();
}

/* ---- failures */
static inline void record_failure(const char *format, ...) __attribute__((format(printf, 1, 2)));
static inline void record_failure(const char *format, ...)
{
    if (rt.failed)
        return;
    rt.failed = true;
    int used = snprintf(rt.message, sizeof rt.message, "kernel %s: ", rt.kernel);
    if (used < 0 || (size_t)used >= sizeof rt.message)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(rt.message + used, sizeof rt.message - used, format, args);
    va_end(args);
}

/* Fail the launch from inside a thread, naming its block and thread. */
[[noreturn]] static inline void fail_thread(const char *what)
{
    const Thread *t = rt.current;
    record_failure("%s in block (%u, %u, %u), thread (%u, %u, %u)", what, rt.block_idx.x,
                   rt.block_idx.y, rt.block_idx.z, t->idx.x, t->idx.y, t->idx.z);
    leave();
}

/* ---- the block barrier */
static inline void release_barrier()
{
    const int votes = rt.bar_votes;
    switch (rt.bar_kind) {
    case BAR_COUNT: rt.bar_result = votes; break;
    case BAR_AND: rt.bar_result = votes == (int)rt.arrived; break;
    case BAR_OR: rt.bar_result = votes > 0; break;
    default: rt.bar_result = 0;
    }
    for (unsigned i = 0; i < rt.count; ++i)
        if (rt.threads[i].state == AT_BARRIER)
            rt.threads[i].state = RUNNABLE;
    rt.arrived = 0;
}

static inline bool same_site(const char *file_a, int line_a, const char *file_b, int line_b)
{
    return line_a == line_b && (file_a == file_b || strcmp(file_a, file_b) == 0);
}

static inline int barrier(const char *file, int line, int kind, int predicate)
{
    Thread *t = rt.current;
    if (rt.arrived == 0) {
        rt.bar_file = file;
        rt.bar_line = line;
        rt.bar_kind = kind;
        rt.bar_votes = 0;
    } else if (!same_site(file, line, rt.bar_file, rt.bar_line) || kind != rt.bar_kind) {
        char what[1024];
        snprintf(what, sizeof what,
                 "%s at %s:%d reached while %u threads wait at the %s at %s:%d (a barrier in "
                 "divergent code: every thread of the block must reach the same one)",
                 BARRIER_NAMES[kind], file, line, rt.arrived, BARRIER_NAMES[rt.bar_kind],
                 rt.bar_file, rt.bar_line);
        fail_thread(what);
    }
    t->file = file;
    t->line = line;
    rt.bar_votes += predicate != 0;
    rt.arrived += 1;
    t->state = AT_BARRIER;
    if (rt.arrived == rt.live)
        release_barrier(); /* the last one in releases the others and goes on */
    else
        yield();
    return rt.bar_result;
}

/* ---- warp operations */
static inline unsigned width_of(int width)
{
    /* CUDA requires a power of two up to 32; anything else is read as 32 */
    return (width >= 1 && width <= 32 && (width & (width - 1)) == 0) ? (unsigned)width : 32u;
}

/* The source lane of a shuffle for `lane`, or -1 when the lane keeps its own value. */
static inline int shuffle_source(int op, unsigned lane, int param, unsigned width)
{
    const unsigned segment = lane & ~(width - 1);
    switch (op) {
    case OP_SHFL_IDX: return (int)(segment + ((unsigned)param & (width - 1)));
    case OP_SHFL_UP:
        return (lane - segment) >= (unsigned)param ? (int)(lane - (unsigned)param) : -1;
    case OP_SHFL_DOWN:
        return (lane - segment) + (unsigned)param < width ? (int)(lane + (unsigned)param) : -1;
    case OP_SHFL_XOR: {
        const unsigned source = lane ^ (unsigned)param;
        return source < segment + width ? (int)source : -1; /* later segments: own value */
    }
    }
    return -1;
}

/* Complete the warp operation of the lanes in `mask` of warp w if all of them are there;
 * whether it completed. Lanes that returned do not take part (they left the warp). */
static inline bool try_complete(unsigned w, unsigned mask)
{
    const unsigned members = mask & ~rt.exited[w];
    if ((rt.waiting[w] & members) != members || members == 0)
        return false;
    Thread *lanes = rt.threads + (size_t)w * 32;
    int op = -1;
    for (unsigned l = 0; l < 32; ++l) {
        if (!(members >> l & 1u))
            continue;
        if (lanes[l].mask != mask)
            return false; /* waiting in another group of lanes */
        if (op < 0)
            op = lanes[l].op;
        else if (lanes[l].op != op) {
            const Thread &first = lanes[__builtin_ctz(members)];
            char what[1024];
            snprintf(what, sizeof what,
                     "lanes of warp %u reached different warp operations together (%s at "
                     "%s:%d, %s at %s:%d)", w, WARP_OP_NAMES[op], first.file, first.line,
                     WARP_OP_NAMES[lanes[l].op], lanes[l].file, lanes[l].line);
            record_failure("%s in block (%u, %u, %u)", what, rt.block_idx.x, rt.block_idx.y,
                           rt.block_idx.z);
            return false;
        }
    }
    uint32_t votes = 0;
    for (unsigned l = 0; l < 32; ++l)
        if ((members >> l & 1u) && lanes[l].in != 0)
            votes |= 1u << l;
    for (unsigned l = 0; l < 32; ++l) {
        if (!(members >> l & 1u))
            continue;
        Thread &t = lanes[l];
        switch (op) {
        case OP_SHFL_IDX:
        case OP_SHFL_UP:
        case OP_SHFL_DOWN:
        case OP_SHFL_XOR: {
            const int source = shuffle_source(op, l, t.param, width_of(t.width));
            /* a lane that does not take part has no value to give: the reader keeps its own */
            t.out = (source >= 0 && (members >> source & 1u)) ? lanes[source].in : t.in;
            break;
        }
        case OP_BALLOT: t.out = votes; break;
        case OP_ANY: t.out = votes != 0; break;
        case OP_ALL: t.out = votes == members; break;
        case OP_SYNCWARP: t.out = 0; break;
        case OP_MATCH_ANY:
        case OP_MATCH_ALL: {
            uint32_t same = 0;
            for (unsigned k = 0; k < 32; ++k)
                if ((members >> k & 1u) && lanes[k].in == t.in)
                    same |= 1u << k;
            t.out = op == OP_MATCH_ANY ? same : (same == members ? members : 0);
            break;
        }
        default: { /* the reductions: param says whether the values are signed */
            uint64_t acc = 0;
            bool first = true;
            for (unsigned k = 0; k < 32; ++k) {
                if (!(members >> k & 1u))
                    continue;
                const uint32_t v = (uint32_t)lanes[k].in;
                if (first) {
                    acc = v;
                    first = false;
                    continue;
                }
                const uint32_t a = (uint32_t)acc;
                switch (op) {
                case OP_REDUCE_ADD: acc = (uint32_t)(a + v); break;
                case OP_REDUCE_MIN:
                    acc = t.param ? ((int32_t)v < (int32_t)a ? v : a) : (v < a ? v : a);
                    break;
                case OP_REDUCE_MAX:
                    acc = t.param ? ((int32_t)v > (int32_t)a ? v : a) : (v > a ? v : a);
                    break;
                case OP_REDUCE_AND: acc = a & v; break;
                case OP_REDUCE_OR: acc = a | v; break;
                case OP_REDUCE_XOR: acc = a ^ v; break;
                }
            }
            t.out = acc;
        }
        }
        t.state = RUNNABLE;
    }
    rt.waiting[w] &= ~members;
    return true;
}

static inline uint64_t warp_op(const char *file, int line, int op, unsigned mask, uint64_t in,
                               int param, int width)
{
    Thread *t = rt.current;
    const unsigned w = t->warp;
    t->file = file;
    t->line = line;
    /* the lanes that exist take part (a full mask in a partial last warp), and the caller
     * always does */
    t->mask = (mask | (1u << t->lane)) & rt.present[w];
    t->op = op;
    t->param = param;
    t->width = width;
    t->in = in;
    t->state = AT_WARP;
    rt.waiting[w] |= 1u << t->lane;
    if (!try_complete(w, t->mask)) {
        if (rt.failed)
            leave();
        yield();
    }
    return t->out;
}

template <typename T> static inline uint64_t bits_of(T value)
{
    static_assert(std::is_arithmetic<T>::value && sizeof(T) <= 8,
                  "warp shuffles take integers and floating-point numbers");
    uint64_t bits = 0;
    memcpy(&bits, &value, sizeof value);
    return bits;
}

template <typename T> static inline T from_bits(uint64_t bits)
{
    T value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* Where a warp operation is called, with the operation as a member: `__shfl_sync(m, v, 3)`
 * becomes `Site{__FILE__, __LINE__}.shfl(m, v, 3)`, so that the call's own arguments (and
 * CUDA's default width) pass through unchanged and messages can name the place. */
struct Site {
    const char *file;
    int line;

    template <typename T> T shfl(unsigned mask, T value, int lane, int width = 32) const
    {
        return shuffle(OP_SHFL_IDX, mask, value, lane, width);
    }
    template <typename T> T shfl_up(unsigned mask, T value, unsigned delta, int width = 32) const
    {
        return shuffle(OP_SHFL_UP, mask, value, (int)delta, width);
    }
    template <typename T>
    T shfl_down(unsigned mask, T value, unsigned delta, int width = 32) const
    {
        return shuffle(OP_SHFL_DOWN, mask, value, (int)delta, width);
    }
    template <typename T> T shfl_xor(unsigned mask, T value, int lanes, int width = 32) const
    {
        return shuffle(OP_SHFL_XOR, mask, value, lanes, width);
    }
    void syncwarp(unsigned mask = 0xffffffffu) const
    {
        warp_op(file, line, OP_SYNCWARP, mask, 0, 0, 32);
    }
    unsigned ballot(unsigned mask, int predicate) const
    {
        return (unsigned)warp_op(file, line, OP_BALLOT, mask, predicate != 0, 0, 32);
    }
    int any(unsigned mask, int predicate) const
    {
        return (int)warp_op(file, line, OP_ANY, mask, predicate != 0, 0, 32);
    }
    int all(unsigned mask, int predicate) const
    {
        return (int)warp_op(file, line, OP_ALL, mask, predicate != 0, 0, 32);
    }
    template <typename T> unsigned match_any(unsigned mask, T value) const
    {
        return (unsigned)warp_op(file, line, OP_MATCH_ANY, mask, bits_of(value), 0, 32);
    }
    template <typename T> unsigned match_all(unsigned mask, T value, int *predicate) const
    {
        const unsigned lanes =
            (unsigned)warp_op(file, line, OP_MATCH_ALL, mask, bits_of(value), 0, 32);
        *predicate = lanes != 0;
        return lanes;
    }
    /* CUDA's __reduce_*_sync: add, min and max of int or unsigned; and, or, xor of unsigned */
    int reduce_add(unsigned mask, int value) const { return reduce(OP_REDUCE_ADD, mask, value); }
    unsigned reduce_add(unsigned mask, unsigned value) const
    {
        return reduce(OP_REDUCE_ADD, mask, value);
    }
    int reduce_min(unsigned mask, int value) const { return reduce(OP_REDUCE_MIN, mask, value); }
    unsigned reduce_min(unsigned mask, unsigned value) const
    {
        return reduce(OP_REDUCE_MIN, mask, value);
    }
    int reduce_max(unsigned mask, int value) const { return reduce(OP_REDUCE_MAX, mask, value); }
    unsigned reduce_max(unsigned mask, unsigned value) const
    {
        return reduce(OP_REDUCE_MAX, mask, value);
    }
    unsigned reduce_and(unsigned mask, unsigned value) const
    {
        return reduce(OP_REDUCE_AND, mask, value);
    }
    unsigned reduce_or(unsigned mask, unsigned value) const
    {
        return reduce(OP_REDUCE_OR, mask, value);
    }
    unsigned reduce_xor(unsigned mask, unsigned value) const
    {
        return reduce(OP_REDUCE_XOR, mask, value);
    }

  private:
    template <typename T> T shuffle(int op, unsigned mask, T value, int param, int width) const
    {
        return from_bits<T>(warp_op(file, line, op, mask, bits_of(value), param, width));
    }
    template <typename T> T reduce(int op, unsigned mask, T value) const
    {
        return (T)(uint32_t)warp_op(file, line, op, mask, (uint32_t)value,
                                    std::is_signed<T>::value, 32);
    }
};

/* ---- built-in variables */
static inline const uint3 &thread_idx() { return rt.current->idx; }
static inline const uint3 &block_idx() { return rt.block_idx; }
static inline const dim3 &block_dim() { return rt.block_dim; }
static inline const dim3 &grid_dim() { return rt.grid_dim; }

static inline void *dynamic_shared() { return rt.shared; }

static inline unsigned active_mask()
{
    const Thread *t = rt.current;
    return rt.present[t->warp] & ~rt.exited[t->warp];
}

/* ---- running a grid */
static void thread_returned()
{
    Thread *t = rt.current;
    t->state = DONE;
    rt.live -= 1;
    rt.exited[t->warp] |= 1u << t->lane;
    /* the threads still running may have been waiting only for this one */
    if (rt.arrived > 0 && rt.arrived == rt.live)
        release_barrier();
    uint32_t pending = rt.waiting[t->warp];
    while (pending != 0 && !rt.failed) {
        const unsigned mask = rt.threads[t->warp * 32 + __builtin_ctz(pending)].mask;
        try_complete(t->warp, mask);
        pending &= ~mask & rt.waiting[t->warp]; /* each group is checked once */
    }
}

static void fiber_main()
{
    rt.body(rt.body_arg);
    thread_returned();
    leave();
}

static void report_deadlock()
{
    unsigned at_barrier = 0, at_warp = 0;
    const Thread *barrier_thread = nullptr, *warp_thread = nullptr;
    for (unsigned i = 0; i < rt.count; ++i) {
        const Thread &t = rt.threads[i];
        if (t.state == AT_BARRIER) {
            at_barrier += 1;
            barrier_thread = barrier_thread ? barrier_thread : &t;
        } else if (t.state == AT_WARP) {
            at_warp += 1;
            warp_thread = warp_thread ? warp_thread : &t;
        }
    }
    char barrier_part[512] = "", warp_part[512] = "";
    if (barrier_thread != nullptr)
        snprintf(barrier_part, sizeof barrier_part,
                 "; %u threads wait at %s (%s:%d) for the others", at_barrier,
                 BARRIER_NAMES[rt.bar_kind], rt.bar_file, rt.bar_line);
    if (warp_thread != nullptr)
        snprintf(warp_part, sizeof warp_part,
                 "; %u threads wait at warp operations, e.g. thread (%u, %u, %u) at %s (%s:%d) "
                 "with mask 0x%08x", at_warp, warp_thread->idx.x, warp_thread->idx.y,
                 warp_thread->idx.z, WARP_OP_NAMES[warp_thread->op], warp_thread->file,
                 warp_thread->line, warp_thread->mask);
    record_failure("deadlock in block (%u, %u, %u): no thread can go on%s%s (every thread still "
                   "running must reach the same __syncthreads, and every lane in a warp "
                   "operation's mask the same warp operation)",
                   rt.block_idx.x, rt.block_idx.y, rt.block_idx.z, barrier_part, warp_part);
}

static void run_block()
{
    const unsigned n = rt.count;
    if (rt.shared_bytes > 0)
        memset(rt.shared, 0xff, rt.shared_bytes);
    for (unsigned i = 0; i < n; ++i) {
        rt.threads[i].state = RUNNABLE;
        prepare_fiber(rt.threads[i], i);
    }
    for (unsigned w = 0; w < (n + 31) / 32; ++w)
        rt.exited[w] = rt.waiting[w] = 0;
    rt.live = n;
    rt.arrived = 0;
    for (;;) {
        bool ran = false;
        for (unsigned i = 0; i < n; ++i) {
            Thread &t = rt.threads[i];
            if (t.state != RUNNABLE)
                continue;
            ran = true;
            resume(t);
            if (rt.failed)
                return;
        }
        if (rt.live == 0)
            break;
        if (!ran) {
            report_deadlock();
            return;
        }
    }
    for (unsigned i = 0; i < n; ++i) {
        uint64_t canary;
        memcpy(&canary, stack_of(i), sizeof canary);
        if (canary != STACK_CANARY) {
            rt.current = &rt.threads[i];
            record_failure("thread (%u, %u, %u) of block (%u, %u, %u) overflowed its %zu-byte "
                           "stack (large local arrays?)", rt.threads[i].idx.x,
                           rt.threads[i].idx.y, rt.threads[i].idx.z, rt.block_idx.x,
                           rt.block_idx.y, rt.block_idx.z, rt.stack_bytes);
            memcpy(stack_of(i), &STACK_CANARY, sizeof STACK_CANARY); /* for the next launch */
            return;
        }
    }
}

/* Room for `threads` fibers and `shared_bytes` of dynamic shared memory. */
static bool reserve(unsigned threads, size_t shared_bytes)
{
    if (threads > rt.stack_count) {
        record_failure("the emulator was lent stacks for %u threads, not %u", rt.stack_count,
                       threads);
        return false;
    }
    if (threads > rt.capacity) {
        unsigned capacity = 32;
        while (capacity < threads)
            capacity *= 2;
        Thread *table = (Thread *)calloc(capacity, sizeof(Thread));
        if (table == nullptr)
            return false;
        free(rt.threads);
        rt.threads = table;
        rt.capacity = capacity;
    }
    if (shared_bytes > rt.shared_capacity || rt.shared == nullptr) {
        size_t capacity = shared_bytes < 64 ? 64 : (shared_bytes + 63) / 64 * 64;
        char *buffer = (char *)aligned_alloc(64, capacity);
        if (buffer == nullptr)
            return false;
        free(rt.shared);
        rt.shared = buffer;
        rt.shared_capacity = capacity;
    }
    return true;
}

static int run_grid(const char *kernel, dim3 grid, dim3 block, size_t shared_bytes,
                    void (*body)(void *), void *arg)
{
    rt.kernel = kernel;
    rt.failed = false;
    rt.message[0] = '\0';
    const uint64_t threads = (uint64_t)block.x * block.y * block.z;
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0) {
        record_failure("launch of an empty grid (%u, %u, %u) of blocks (%u, %u, %u)", grid.x,
                       grid.y, grid.z, block.x, block.y, block.z);
        return 1;
    }
    if (threads > MAX_THREADS || block.z > 64) {
        record_failure("block (%u, %u, %u) has more than the %u threads a block may have",
                       block.x, block.y, block.z, MAX_THREADS);
        return 1;
    }
    if (!reserve((unsigned)threads, shared_bytes)) {
        record_failure("out of host memory for %u fibers", (unsigned)threads);
        return 1;
    }
    rt.count = (unsigned)threads;
    rt.grid_dim = grid;
    rt.block_dim = block;
    rt.shared_bytes = shared_bytes;
    rt.body = body;
    rt.body_arg = arg;
    for (unsigned i = 0; i < rt.count; ++i) {
        Thread &t = rt.threads[i];
        t.idx = uint3{i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
        t.lane = i & 31;
        t.warp = i >> 5;
    }
    for (unsigned w = 0; w < (rt.count + 31) / 32; ++w) {
        const unsigned lanes = rt.count - w * 32;
        rt.present[w] = lanes >= 32 ? 0xffffffffu : (1u << lanes) - 1;
    }
#ifdef EXPRC_EMU_FAST_SWITCH
    uint32_t mxcsr;
    uint16_t x87;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(x87));
    rt.fp_control = mxcsr | (uint64_t)x87 << 32;
#endif
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                rt.block_idx = uint3{x, y, z};
                run_block();
                if (rt.failed) {
                    rt.current = nullptr;
                    return 1;
                }
            }
    rt.current = nullptr;
    return 0;
}

/* ---- faults: a kernel that touches unmapped memory or divides an integer by zero fails its
 * launch instead of killing the process (memory that is mapped, such as a neighbouring host
 * allocation, is not protected: out-of-range accesses are caught only when they fault). */
static const int FAULT_SIGNALS[3] = {SIGSEGV, SIGBUS, SIGFPE};

static void restore_fault_handlers()
{
    for (int k = 0; k < 3; ++k)
        sigaction(FAULT_SIGNALS[k], &rt.displaced[k], nullptr);
}

static void on_fault(int signal, siginfo_t *info, void *)
{
    if (!rt.in_launch || rt.current == nullptr || !pthread_equal(pthread_self(), rt.launcher)) {
        /* not a kernel's: hand it back to whoever handled it before, by faulting again */
        restore_fault_handlers();
        return;
    }
    const Thread *t = rt.current;
    if (signal == SIGFPE)
        record_failure("arithmetic fault (an integer divided by zero?) in block (%u, %u, %u), "
                       "thread (%u, %u, %u)", rt.block_idx.x, rt.block_idx.y, rt.block_idx.z,
                       t->idx.x, t->idx.y, t->idx.z);
    else
        record_failure("invalid memory access at %p in block (%u, %u, %u), thread (%u, %u, %u)",
                       info->si_addr, rt.block_idx.x, rt.block_idx.y, rt.block_idx.z, t->idx.x,
                       t->idx.y, t->idx.z);
    siglongjmp(rt.escape, 1);
}

static int run_guarded(const char *kernel, dim3 grid, dim3 block, size_t shared_bytes,
                       void (*body)(void *), void *arg)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK; /* the alternate stack, if the thread has one */
    sigemptyset(&action.sa_mask);
    for (int k = 0; k < 3; ++k)
        sigaction(FAULT_SIGNALS[k], &action, &rt.displaced[k]);
    rt.launcher = pthread_self();
    rt.in_launch = true;
    int status;
    if (sigsetjmp(rt.escape, 1) == 0) {
        status = run_grid(kernel, grid, block, shared_bytes, body, arg);
    } else {
        rt.current = nullptr;
        status = 1;
    }
    rt.in_launch = false;
    restore_fault_handlers();
    return status;
}

/* ---- launchers: the kernel's own parameter types, read from the argument buffer */
enum ParamKind { KIND_PTR, KIND_I32, KIND_I64, KIND_F32, KIND_F64, KIND_STRUCT };

template <typename F> struct kernel_traits;
template <typename... P> struct kernel_traits<void(P...)> {
    static constexpr size_t arity = sizeof...(P);
    template <size_t I>
    using param = typename std::decay<typename std::tuple_element<I, std::tuple<P...>>::type>::type;
};

/* Whether a kernel parameter of type T is what a KernelSpec parameter describes, as the CUDA
 * ABI sees it: a pointer, an integer or a float of that size, or a struct of that size and
 * alignment (the argument buffer is laid out from the spec, the kernel reads it by type). */
template <typename T> constexpr bool param_is(int kind, size_t size, size_t align)
{
    return sizeof(T) == size && alignof(T) == align &&
           (kind == KIND_PTR ? std::is_pointer<T>::value
            : kind == KIND_I32 || kind == KIND_I64
                ? (std::is_integral<T>::value || std::is_enum<T>::value)
            : kind == KIND_F32 ? std::is_same<T, float>::value
            : kind == KIND_F64 ? std::is_same<T, double>::value
                               : std::is_class<T>::value && std::is_trivially_copyable<T>::value);
}

template <typename T> static inline T read_arg(const void *where)
{
    T value;
    memcpy((void *)&value, where, sizeof value);
    return value;
}

template <typename... P> struct Launch {
    void (*kernel)(P...);
    std::tuple<typename std::decay<P>::type...> args;
    static void body(void *self)
    {
        Launch *launch = (Launch *)self;
        std::apply(launch->kernel, launch->args); /* each thread gets its own copies */
    }
};

template <typename... P, size_t... I>
static inline int launch_with(void (*kernel)(P...), const char *name, dim3 grid, dim3 block,
                              size_t shared_bytes, void **args, std::index_sequence<I...>)
{
    Launch<P...> launch{kernel, {read_arg<typename std::decay<P>::type>(args[I])...}};
    return run_guarded(name, grid, block, shared_bytes, &Launch<P...>::body, &launch);
}

template <typename... P>
static inline int launch(void (*kernel)(P...), const char *name, unsigned gx, unsigned gy,
                         unsigned gz, unsigned bx, unsigned by, unsigned bz,
                         size_t shared_bytes, void **args)
{
    return launch_with(kernel, name, dim3(gx, gy, gz), dim3(bx, by, bz), shared_bytes, args,
                       std::index_sequence_for<P...>{});
}

} /* namespace exprc_emu */

EXPRC_EMU_EXPORT const char *exprc_emu_error(void) { return exprc_emu::rt.message; }

/* Lend the module `count` fiber stacks of `stack_bytes` each (a multiple of 16) at `base`. */
EXPRC_EMU_EXPORT void exprc_emu_use_stacks(void *base, size_t stack_bytes, unsigned count)
{
    using exprc_emu::rt;
    if (rt.stacks == (char *)base && rt.stack_bytes == stack_bytes && rt.stack_count == count)
        return;
    rt.stacks = (char *)base;
    rt.stack_bytes = stack_bytes;
    rt.stack_count = count;
    for (unsigned i = 0; i < count; ++i)
        memcpy(exprc_emu::stack_of(i), &exprc_emu::STACK_CANARY, sizeof exprc_emu::STACK_CANARY);
}

/* A failed assert fails the launch (as a device-side assert does) instead of aborting the
 * process: the module's own calls of glibc's assertion handler bind to this hidden one. */
#if defined(__GLIBC__)
extern "C" __attribute__((visibility("hidden"), noreturn)) void
__assert_fail(const char *assertion, const char *file, unsigned int line,
              const char *function) noexcept
{
    char what[1024];
    snprintf(what, sizeof what, "assertion '%s' failed at %s:%u in %s", assertion, file, line,
             function);
    exprc_emu::fail_thread(what);
}
#endif

/* ------------------------------------------------------------------ CUDA's built-ins */
#define threadIdx (::exprc_emu::thread_idx())
#define blockIdx (::exprc_emu::block_idx())
#define blockDim (::exprc_emu::block_dim())
#define gridDim (::exprc_emu::grid_dim())

#define __syncthreads() ::exprc_emu::barrier(__FILE__, __LINE__, ::exprc_emu::BAR_SYNC, 1)
#define __syncthreads_count(p) ::exprc_emu::barrier(__FILE__, __LINE__, ::exprc_emu::BAR_COUNT, (p))
#define __syncthreads_and(p) ::exprc_emu::barrier(__FILE__, __LINE__, ::exprc_emu::BAR_AND, (p))
#define __syncthreads_or(p) ::exprc_emu::barrier(__FILE__, __LINE__, ::exprc_emu::BAR_OR, (p))

#define EXPRC_EMU_SITE ::exprc_emu::Site{__FILE__, __LINE__}
#define __syncwarp EXPRC_EMU_SITE.syncwarp
#define __shfl_sync EXPRC_EMU_SITE.shfl
#define __shfl_up_sync EXPRC_EMU_SITE.shfl_up
#define __shfl_down_sync EXPRC_EMU_SITE.shfl_down
#define __shfl_xor_sync EXPRC_EMU_SITE.shfl_xor
#define __ballot_sync EXPRC_EMU_SITE.ballot
#define __any_sync EXPRC_EMU_SITE.any
#define __all_sync EXPRC_EMU_SITE.all
#define __match_any_sync EXPRC_EMU_SITE.match_any
#define __match_all_sync EXPRC_EMU_SITE.match_all
#define __reduce_add_sync EXPRC_EMU_SITE.reduce_add
#define __reduce_min_sync EXPRC_EMU_SITE.reduce_min
#define __reduce_max_sync EXPRC_EMU_SITE.reduce_max
#define __reduce_and_sync EXPRC_EMU_SITE.reduce_and
#define __reduce_or_sync EXPRC_EMU_SITE.reduce_or
#define __reduce_xor_sync EXPRC_EMU_SITE.reduce_xor

static inline unsigned __activemask() { return ::exprc_emu::active_mask(); }

[[noreturn]] static inline void __trap() { ::exprc_emu::fail_thread("__trap()"); }
static inline void __brkpt() { __trap(); }

/* Blocks run one at a time on one host thread: memory is always coherent. */
static inline void __threadfence() {}
static inline void __threadfence_block() {}
static inline void __threadfence_system() {}
static inline void __nanosleep(unsigned) {}

static inline long long clock64()
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000000ll + now.tv_nsec;
}

/* Cached loads and stores are plain ones. */
template <typename T> static inline T __ldg(const T *p) { return *p; }
template <typename T> static inline T __ldca(const T *p) { return *p; }
template <typename T> static inline T __ldcg(const T *p) { return *p; }
template <typename T> static inline T __ldcs(const T *p) { return *p; }
template <typename T> static inline T __ldlu(const T *p) { return *p; }
template <typename T> static inline T __ldcv(const T *p) { return *p; }
template <typename T> static inline void __stwb(T *p, T v) { *p = v; }
template <typename T> static inline void __stcg(T *p, T v) { *p = v; }
template <typename T> static inline void __stcs(T *p, T v) { *p = v; }
template <typename T> static inline void __stwt(T *p, T v) { *p = v; }

/* ------------------------------------------------------------------ atomics */
/* The threads of a launch never run at the same time, so a read-modify-write is atomic. The
 * overloads are CUDA's, so that a call nvcc would reject does not build here either. */
#define EXPRC_EMU_ATOMIC(name, T, expr)                                                       \
    static inline T name(T *address, T val)                                                   \
    {                                                                                         \
        T old = *address;                                                                     \
        *address = (expr);                                                                    \
        return old;                                                                           \
    }
EXPRC_EMU_ATOMIC(atomicAdd, int, (int)((unsigned)old + (unsigned)val))
EXPRC_EMU_ATOMIC(atomicAdd, unsigned, old + val)
EXPRC_EMU_ATOMIC(atomicAdd, unsigned long long, old + val)
EXPRC_EMU_ATOMIC(atomicAdd, float, old + val)
EXPRC_EMU_ATOMIC(atomicAdd, double, old + val)
EXPRC_EMU_ATOMIC(atomicSub, int, (int)((unsigned)old - (unsigned)val))
EXPRC_EMU_ATOMIC(atomicSub, unsigned, old - val)
EXPRC_EMU_ATOMIC(atomicExch, int, val)
EXPRC_EMU_ATOMIC(atomicExch, unsigned, val)
EXPRC_EMU_ATOMIC(atomicExch, unsigned long long, val)
EXPRC_EMU_ATOMIC(atomicExch, float, val)
EXPRC_EMU_ATOMIC(atomicMax, int, old > val ? old : val)
EXPRC_EMU_ATOMIC(atomicMax, unsigned, old > val ? old : val)
EXPRC_EMU_ATOMIC(atomicMax, long long, old > val ? old : val)
EXPRC_EMU_ATOMIC(atomicMax, unsigned long long, old > val ? old : val)
EXPRC_EMU_ATOMIC(atomicMin, int, old < val ? old : val)
EXPRC_EMU_ATOMIC(atomicMin, unsigned, old < val ? old : val)
EXPRC_EMU_ATOMIC(atomicMin, long long, old < val ? old : val)
EXPRC_EMU_ATOMIC(atomicMin, unsigned long long, old < val ? old : val)
EXPRC_EMU_ATOMIC(atomicAnd, int, old & val)
EXPRC_EMU_ATOMIC(atomicAnd, unsigned, old & val)
EXPRC_EMU_ATOMIC(atomicAnd, unsigned long long, old & val)
EXPRC_EMU_ATOMIC(atomicOr, int, old | val)
EXPRC_EMU_ATOMIC(atomicOr, unsigned, old | val)
EXPRC_EMU_ATOMIC(atomicOr, unsigned long long, old | val)
EXPRC_EMU_ATOMIC(atomicXor, int, old ^ val)
EXPRC_EMU_ATOMIC(atomicXor, unsigned, old ^ val)
EXPRC_EMU_ATOMIC(atomicXor, unsigned long long, old ^ val)
EXPRC_EMU_ATOMIC(atomicInc, unsigned, old >= val ? 0u : old + 1)
EXPRC_EMU_ATOMIC(atomicDec, unsigned, (old == 0 || old > val) ? val : old - 1)
#undef EXPRC_EMU_ATOMIC

#define EXPRC_EMU_CAS(T)                                                                      \
    static inline T atomicCAS(T *address, T compare, T val)                                   \
    {                                                                                         \
        T old = *address;                                                                     \
        if (old == compare)                                                                   \
            *address = val;                                                                   \
        return old;                                                                           \
    }
EXPRC_EMU_CAS(int)
EXPRC_EMU_CAS(unsigned)
EXPRC_EMU_CAS(unsigned long long)
EXPRC_EMU_CAS(unsigned short)
#undef EXPRC_EMU_CAS

/* ------------------------------------------------------------------ integer intrinsics */
/* min and max: CUDA's overload set, so that overload resolution (and its ambiguities) is
 * nvcc's; min and max of floats are fminf and fmaxf (NaN-ignoring), as in CUDA. */
#define EXPRC_EMU_MINMAX(R, A, B)                                                             \
    static inline R min(const A a, const B b) { return (R)a < (R)b ? (R)a : (R)b; }           \
    static inline R max(const A a, const B b) { return (R)a > (R)b ? (R)a : (R)b; }
EXPRC_EMU_MINMAX(int, int, int)
EXPRC_EMU_MINMAX(unsigned int, unsigned int, unsigned int)
EXPRC_EMU_MINMAX(unsigned int, int, unsigned int)
EXPRC_EMU_MINMAX(unsigned int, unsigned int, int)
EXPRC_EMU_MINMAX(long int, long int, long int)
EXPRC_EMU_MINMAX(unsigned long int, unsigned long int, unsigned long int)
EXPRC_EMU_MINMAX(unsigned long int, long int, unsigned long int)
EXPRC_EMU_MINMAX(unsigned long int, unsigned long int, long int)
EXPRC_EMU_MINMAX(long long int, long long int, long long int)
EXPRC_EMU_MINMAX(unsigned long long int, unsigned long long int, unsigned long long int)
EXPRC_EMU_MINMAX(unsigned long long int, long long int, unsigned long long int)
EXPRC_EMU_MINMAX(unsigned long long int, unsigned long long int, long long int)
#undef EXPRC_EMU_MINMAX
static inline float min(const float a, const float b) { return fminf(a, b); }
static inline float max(const float a, const float b) { return fmaxf(a, b); }
static inline double min(const double a, const double b) { return fmin(a, b); }
static inline double max(const double a, const double b) { return fmax(a, b); }
static inline double min(const float a, const double b) { return fmin(a, b); }
static inline double max(const float a, const double b) { return fmax(a, b); }
static inline double min(const double a, const float b) { return fmin(a, b); }
static inline double max(const double a, const float b) { return fmax(a, b); }
static inline unsigned umin(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned umax(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long llmin(long long a, long long b) { return a < b ? a : b; }
static inline long long llmax(long long a, long long b) { return a > b ? a : b; }
static inline unsigned long long ullmin(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
static inline unsigned long long ullmax(unsigned long long a, unsigned long long b) { return a > b ? a : b; }

static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
static inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned __brev(unsigned x)
{
    unsigned r = 0;
    for (int i = 0; i < 32; ++i, x >>= 1)
        r = (r << 1) | (x & 1u);
    return r;
}
static inline unsigned long long __brevll(unsigned long long x)
{
    return (unsigned long long)__brev((unsigned)x) << 32 | __brev((unsigned)(x >> 32));
}
static inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
static inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
static inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b)
{
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
static inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
static inline int __mul24(int a, int b) { return (int)((unsigned)(a << 8 >> 8) * (unsigned)(b << 8 >> 8)); }
static inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xffffffu) * (b & 0xffffffu); }
static inline int __hadd(int a, int b) { return (int)(((long long)a + b) >> 1); }
static inline int __rhadd(int a, int b) { return (int)(((long long)a + b + 1) >> 1); }
static inline unsigned __uhadd(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a + b) >> 1); }
static inline unsigned __urhadd(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a + b + 1) >> 1); }
static inline unsigned __sad(int x, int y, unsigned z) { return z + (unsigned)(x > y ? (long long)x - y : (long long)y - x); }
static inline unsigned __usad(unsigned x, unsigned y, unsigned z) { return z + (x > y ? x - y : y - x); }
static inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s)
{
    const unsigned long long bytes = (unsigned long long)y << 32 | x;
    unsigned r = 0;
    for (int i = 0; i < 4; ++i)
        r |= (unsigned)((bytes >> (8 * ((s >> (4 * i)) & 7u))) & 0xffu) << (8 * i);
    return r;
}
static inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned shift)
{
    return (unsigned)((((unsigned long long)hi << 32 | lo) << (shift & 31u)) >> 32);
}
static inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned shift)
{
    return (unsigned)(((unsigned long long)hi << 32 | lo) >> (shift & 31u));
}
static inline unsigned __funnelshift_lc(unsigned lo, unsigned hi, unsigned shift)
{
    return (unsigned)((((unsigned long long)hi << 32 | lo) << (shift > 32 ? 32 : shift)) >> 32);
}
static inline unsigned __funnelshift_rc(unsigned lo, unsigned hi, unsigned shift)
{
    return (unsigned)(((unsigned long long)hi << 32 | lo) >> (shift > 32 ? 32 : shift));
}

/* ------------------------------------------------------------------ reinterpretation */
static inline int __float_as_int(float x) { int r; memcpy(&r, &x, 4); return r; }
static inline unsigned __float_as_uint(float x) { unsigned r; memcpy(&r, &x, 4); return r; }
static inline float __int_as_float(int x) { float r; memcpy(&r, &x, 4); return r; }
static inline float __uint_as_float(unsigned x) { float r; memcpy(&r, &x, 4); return r; }
static inline long long __double_as_longlong(double x) { long long r; memcpy(&r, &x, 8); return r; }
static inline double __longlong_as_double(long long x) { double r; memcpy(&r, &x, 8); return r; }
static inline int __double2hiint(double x) { return (int)(__double_as_longlong(x) >> 32); }
static inline int __double2loint(double x) { return (int)__double_as_longlong(x); }
static inline double __hiloint2double(int hi, int lo)
{
    return __longlong_as_double((long long)((unsigned long long)(unsigned)hi << 32 | (unsigned)lo));
}

/* ------------------------------------------------------------------ conversions */
/* CUDA's float-to-integer conversions saturate and turn NaN into 0. */
template <typename I, typename F> static inline I exprc_emu_saturate(F x)
{
    if (x != x)
        return 0;
    if (x <= (F)std::numeric_limits<I>::min())
        return std::numeric_limits<I>::min();
    if (x >= (F)std::numeric_limits<I>::max())
        return std::numeric_limits<I>::max();
    return (I)x;
}
static inline int __float2int_rn(float x) { return exprc_emu_saturate<int>(nearbyintf(x)); }
static inline int __float2int_rz(float x) { return exprc_emu_saturate<int>(truncf(x)); }
static inline int __float2int_rd(float x) { return exprc_emu_saturate<int>(floorf(x)); }
static inline int __float2int_ru(float x) { return exprc_emu_saturate<int>(ceilf(x)); }
static inline unsigned __float2uint_rn(float x) { return exprc_emu_saturate<unsigned>(nearbyintf(x)); }
static inline unsigned __float2uint_rz(float x) { return exprc_emu_saturate<unsigned>(truncf(x)); }
static inline long long __float2ll_rn(float x) { return exprc_emu_saturate<long long>(nearbyintf(x)); }
static inline long long __float2ll_rz(float x) { return exprc_emu_saturate<long long>(truncf(x)); }
static inline int __double2int_rn(double x) { return exprc_emu_saturate<int>(nearbyint(x)); }
static inline int __double2int_rz(double x) { return exprc_emu_saturate<int>(trunc(x)); }
static inline long long __double2ll_rn(double x) { return exprc_emu_saturate<long long>(nearbyint(x)); }
static inline long long __double2ll_rz(double x) { return exprc_emu_saturate<long long>(trunc(x)); }
static inline float __double2float_rn(double x) { return (float)x; }
static inline float __int2float_rn(int x) { return (float)x; }
static inline float __uint2float_rn(unsigned x) { return (float)x; }
static inline float __ll2float_rn(long long x) { return (float)x; }
static inline double __int2double_rn(int x) { return (double)x; }
static inline double __ll2double_rn(long long x) { return (double)x; }

/* ------------------------------------------------------------------ device math */
/* The fast intrinsics compute the accurate function: results only get closer to NumPy's. */
/* renamed: the C library declares functions of the same names */
static inline float exprc_emu__expf(float x) { return expf(x); }
static inline float exprc_emu__exp10f(float x) { return exp10f(x); }
static inline float exprc_emu__logf(float x) { return logf(x); }
static inline float exprc_emu__log2f(float x) { return log2f(x); }
static inline float exprc_emu__log10f(float x) { return log10f(x); }
static inline float exprc_emu__powf(float x, float y) { return powf(x, y); }
static inline float exprc_emu__sinf(float x) { return sinf(x); }
static inline float exprc_emu__cosf(float x) { return cosf(x); }
static inline float exprc_emu__tanf(float x) { return tanf(x); }
static inline void exprc_emu__sincosf(float x, float *s, float *c) { sincosf(x, s, c); }
#define __expf exprc_emu__expf
#define __exp10f exprc_emu__exp10f
#define __logf exprc_emu__logf
#define __log2f exprc_emu__log2f
#define __log10f exprc_emu__log10f
#define __powf exprc_emu__powf
#define __sinf exprc_emu__sinf
#define __cosf exprc_emu__cosf
#define __tanf exprc_emu__tanf
#define __sincosf exprc_emu__sincosf
static inline float __fdividef(float x, float y) { return x / y; }
static inline float fdividef(float x, float y) { return x / y; }
static inline float __fdiv_rn(float x, float y) { return x / y; }
static inline float __frcp_rn(float x) { return 1.0f / x; }
static inline float __fsqrt_rn(float x) { return sqrtf(x); }
static inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
static inline float __fadd_rn(float x, float y) { return x + y; }
static inline float __fsub_rn(float x, float y) { return x - y; }
static inline float __fmul_rn(float x, float y) { return x * y; }
static inline float __fmaf_rn(float x, float y, float z) { return fmaf(x, y, z); }
static inline double __dadd_rn(double x, double y) { return x + y; }
static inline double __dsub_rn(double x, double y) { return x - y; }
static inline double __dmul_rn(double x, double y) { return x * y; }
static inline double __ddiv_rn(double x, double y) { return x / y; }
static inline double __drcp_rn(double x) { return 1.0 / x; }
static inline double __dsqrt_rn(double x) { return sqrt(x); }
static inline double __fma_rn(double x, double y, double z) { return fma(x, y, z); }
static inline float __saturatef(float x) { return x >= 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); }
static inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
static inline double rcbrt(double x) { return 1.0 / cbrt(x); }
static inline float rhypotf(float x, float y) { return 1.0f / hypotf(x, y); }
static inline double rhypot(double x, double y) { return 1.0 / hypot(x, y); }
/* sinpi and cospi reduce the argument exactly (they are exact at integers and halves), and
 * like rsqrt are renamed: newer C libraries declare C23 functions of these names. */
static inline double exprc_emu_sinpi(double x)
{
    if (!std::isfinite(x))
        return NAN;
    double r = fmod(x, 2.0);
    if (r < 0)
        r += 2.0;
    if (r <= 0.25)
        return sin(M_PI * r);
    if (r <= 0.75)
        return cos(M_PI * (r - 0.5));
    if (r <= 1.25)
        return -sin(M_PI * (r - 1.0));
    if (r <= 1.75)
        return -cos(M_PI * (r - 1.5));
    return sin(M_PI * (r - 2.0));
}
static inline double exprc_emu_cospi(double x)
{
    if (!std::isfinite(x))
        return NAN;
    const double r = fmod(fabs(x), 2.0);
    if (r <= 0.25)
        return cos(M_PI * r);
    if (r <= 0.75)
        return -sin(M_PI * (r - 0.5));
    if (r <= 1.25)
        return -cos(M_PI * (r - 1.0));
    if (r <= 1.75)
        return sin(M_PI * (r - 1.5));
    return cos(M_PI * (r - 2.0));
}
static inline float exprc_emu_sinpif(float x) { return (float)exprc_emu_sinpi(x); }
static inline float exprc_emu_cospif(float x) { return (float)exprc_emu_cospi(x); }
static inline float exprc_emu_rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double exprc_emu_rsqrt(double x) { return 1.0 / sqrt(x); }
#define sinpi exprc_emu_sinpi
#define cospi exprc_emu_cospi
#define sinpif exprc_emu_sinpif
#define cospif exprc_emu_cospif
#define rsqrtf exprc_emu_rsqrtf
#define rsqrt exprc_emu_rsqrt
static inline void sincospi(double x, double *s, double *c) { *s = sinpi(x); *c = cospi(x); }
static inline void sincospif(float x, float *s, float *c) { *s = sinpif(x); *c = cospif(x); }

static inline double normcdf(double x) { return 0.5 * erfc(-x * M_SQRT1_2); }
static inline float normcdff(float x) { return (float)normcdf(x); }

/* erfinv and erfcinv: Newton's method on erf / erfc from a rough start (CUDA has them, the
 * C library does not). */
static inline double erfcinv(double y)
{
    if (y != y || y < 0.0 || y > 2.0)
        return NAN;
    if (y == 0.0)
        return INFINITY;
    if (y == 2.0)
        return -INFINITY;
    if (y > 1.0)
        return -erfcinv(2.0 - y);
    /* for y <= 1 the root is >= 0; iterate on log(erfc(x)) = log(y), which converges from
     * the asymptotic start for every y down to the smallest subnormal */
    const double t = sqrt(-log(y));
    double x = y > 0.5 ? (1.0 - y) * 0.886226925452758 : t - 0.25 * log(t * 3.141592653589793) / t;
    if (x < 0.0)
        x = 0.0;
    const double target = log(y);
    for (int i = 0; i < 60; ++i) {
        const double e = erfc(x);
        const double step = (log(e) - target) * e / (-M_2_SQRTPI * exp(-x * x));
        x -= step;
        if (fabs(step) <= 1e-16 * fabs(x))
            break;
    }
    return x;
}
static inline double erfinv(double y)
{
    if (y != y || y < -1.0 || y > 1.0)
        return NAN;
    if (fabs(y) <= 0.5) {
        /* small |y|: Newton on erf itself keeps the relative accuracy near 0 */
        double x = y * 0.886226925452758;
        for (int i = 0; i < 40; ++i) {
            const double step = (erf(x) - y) / (M_2_SQRTPI * exp(-x * x));
            x -= step;
            if (fabs(step) <= 1e-17 * fabs(x) || step == 0.0)
                break;
        }
        return x;
    }
    return y > 0 ? erfcinv(1.0 - y) : -erfcinv(1.0 + y);
}
static inline float erfinvf(float y) { return (float)erfinv(y); }
static inline float erfcinvf(float y) { return (float)erfcinv(y); }
static inline double normcdfinv(double p) { return -M_SQRT2 * erfcinv(2.0 * p); }
static inline float normcdfinvf(float p) { return (float)normcdfinv(p); }

/* erfcx(x) = exp(x^2) erfc(x), without the overflow of the product for large x */
static inline double erfcx(double x)
{
    if (x < 25.0)
        return exp(x * x) * erfc(x);
    const double r = 1.0 / (x * x);
    return 0.5641895835477563 / x * (1.0 - 0.5 * r * (1.0 - 1.5 * r * (1.0 - 2.5 * r)));
}
static inline float erfcxf(float x) { return (float)erfcx(x); }

static inline double cyl_bessel_i0(double x) { return std::cyl_bessel_i(0.0, fabs(x)); }
static inline double cyl_bessel_i1(double x)
{
    const double v = std::cyl_bessel_i(1.0, fabs(x));
    return x < 0 ? -v : v;
}
static inline float cyl_bessel_i0f(float x) { return (float)cyl_bessel_i0(x); }
static inline float cyl_bessel_i1f(float x) { return (float)cyl_bessel_i1(x); }

#endif /* EXPRC_CUDA_EMU_H */
