#ifndef CCALLGRIND_H
#define CCALLGRIND_H

// Callgrind's client requests, for the benchmarks that count instructions (Benchmarks/callgrind). Outside
// valgrind each request is a few no-op instructions; without valgrind's headers they are empty.
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define PORTICO_HAS_CALLGRIND 1
#else
#define PORTICO_HAS_CALLGRIND 0
#endif

/// Whether the process runs under valgrind.
static inline int portico_callgrind_running(void) {
#if PORTICO_HAS_CALLGRIND
    return RUNNING_ON_VALGRIND ? 1 : 0;
#else
    return 0;
#endif
}

/// Starts counting, in every thread (the script runs valgrind with --instr-atstart=no, so that building
/// the data and warming up run uninstrumented and fast).
static inline void portico_callgrind_start(void) {
#if PORTICO_HAS_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
}

/// Stops counting, in every thread: what the program does after (shutting down) is not counted.
static inline void portico_callgrind_stop(void) {
#if PORTICO_HAS_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
}

#endif
