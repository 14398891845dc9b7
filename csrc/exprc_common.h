/* Definitions shared by all C code that exprc generates.
 *
 * Generated code is compiled with -fvisibility=hidden so that the compiler may inline and
 * optimise freely inside one shared object; the functions Python calls are the only symbols
 * exported, and they are marked with EXPRC_EXPORT.  Their arguments are raw pointers and integer
 * shapes and strides of type exprc_int.
 */
#ifndef EXPRC_COMMON_H
#define EXPRC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define EXPRC_EXPORT __declspec(dllexport)
#else
#define EXPRC_EXPORT __attribute__((visibility("default")))
#endif

/* Shapes, strides and loop indices: 64-bit so that large arrays never overflow an index. */
typedef int64_t exprc_int;

/* Buffers passed to one generated function never alias unless the memory planner says so, and
 * telling the compiler lets it vectorise loops without runtime overlap checks. */
#define EXPRC_RESTRICT restrict

#endif /* EXPRC_COMMON_H */
