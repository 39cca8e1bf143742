import Foundation

/// Runs blocking work (starting a server process and reading its output until it is ready, initdb,
/// pg_ctl, waiting for a process to exit) on a thread of its own, and awaits its result.
///
/// Swift's concurrency pool has as many threads as the machine has cores (two here). A test that
/// blocks one of them for seconds, beside another doing the same, stalls every task of the test
/// process meanwhile: clients in other tests saw their calls' deadlines pass while the servers they
/// called sat idle.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
