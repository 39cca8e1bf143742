import CCallgrind
import CheckEngineSet
import Dispatch
import Logging
import NIOCore
import NIOPosix
import PorticoCore
import PorticoServer
import PorticoWire

// Counts, under callgrind, the instructions the server spends per call of a hot RPC, or the check
// engine's per check beside a plain hash-map probe. Benchmarks/callgrind/hot-path.sh runs it once per
// phase and turns the counts into a table (instructions are repeatable on a shared machine; time is not).
//
//   hot-path-cost rpc ping|check|check-token-16|check-token-1000|batch-100 [CALLS] [IN_FLIGHT]
//       a server in this process, a blocking client on the main thread
//   hot-path-cost engine engine-uniform|reference-uniform|engine-zipf|reference-zipf [QUERIES]
//       AccessSnapshot.check, or a Dictionary probe of the same keys, over the same queries
//
// The phase runs with callgrind's instrumentation on (started and stopped by client requests, which act
// on every thread; valgrind runs with --instr-atstart=no), everything else with it off; the program
// prints `measured NAME calls N checks C`, which the script divides the threads' counts by.

let arguments = CommandLine.arguments
guard arguments.count >= 3, ["rpc", "engine"].contains(arguments[1]) else {
    print("usage: hot-path-cost rpc WORKLOAD [CALLS] [IN_FLIGHT] | engine PHASE [QUERIES]")
    exit(2)
}
if portico_callgrind_running() == 0 {
    print("note: not under valgrind; nothing is counted (run Benchmarks/callgrind/hot-path.sh)")
}

/// Counts `body` alone.
func measured(_ name: String, calls: Int, checks: Int, _ body: () throws -> Void) rethrows {
    portico_callgrind_start()
    try body()
    portico_callgrind_stop()
    print("measured \(name) calls \(calls) checks \(checks)")
}

/// Runs async work to its end from the main thread, blocking it. The program's main is not async on
/// purpose: valgrind 3.19 crashes on the main thread that an async main parks in libdispatch.
func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, any Error>?
    Task {
        do {
            result = .success(try await work())
        } catch {
            result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    // Written before the signal, read after the wait: the semaphore orders the two.
    return try result!.get()
}

if arguments[1] == "engine" {
    try EngineCost.run(arguments[2], queries: arguments.count > 3 ? Int(arguments[3]) ?? 1 << 16 : 1 << 16)
} else {
    try RPCCost.run(
        arguments[2],
        calls: arguments.count > 3 ? Int(arguments[3]) ?? 4096 : 4096,
        inFlight: arguments.count > 4 ? Int(arguments[4]) ?? 16 : 16
    )
}
