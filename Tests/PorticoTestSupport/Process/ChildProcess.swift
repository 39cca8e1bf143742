public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`, for every program the tests start.
///
/// Not Foundation's `Process`: on Linux its `run()` scans `/proc/self/fd` copying 256 bytes of each
/// directory entry, past the end of the last one, and the test process crashed in that copy (SIGSEGV in
/// memmove) when the entry ended near an unmapped page: likelier the more descriptors are open, as in
/// the tests that hold a thousand connections. The child inherits only its standard streams (every
/// other descriptor is closed in it), starts with default signal handling, and leads a process group of
/// its own, so that a test can signal it with whatever it started.
public final class ChildProcess: Sendable {
    /// Where a standard stream of the child goes.
    public enum Stream: Sendable {
        /// /dev/null.
        case null
        /// A file, opened for reading (standard input) or created and truncated for writing.
        case file(String)
        /// This descriptor of the test process, duplicated into the child.
        case descriptor(Int32)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let processIdentifier: pid_t
    /// The `waitpid` status once the child ended.
    private let ended = Mutex<Int32?>(nil)
    private let waiters = Mutex<[@Sendable (Int32) -> Void]>([])
    private let exitCondition = NSCondition()

    /// Starts `executable` with `arguments`: an absolute path, or a name looked up in this process's
    /// `PATH` (not `environment`'s); a relative path is taken from `directory`, as the child sees it.
    /// - Parameters:
    ///   - environment: the child's whole environment; nil for this process's.
    ///   - directory: its working directory; nil for this process's.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        directory: String? = nil, stdin: Stream = .null, stdout: Stream = .null, stderr: Stream = .null
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            let result: Int32
            switch stream {
            case .null:
                result = posix_spawn_file_actions_addopen(
                    &actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let path):
                let flags = target == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC
                result = posix_spawn_file_actions_addopen(&actions, target, path, flags, 0o600)
            case .descriptor(let descriptor):
                result = posix_spawn_file_actions_adddup2(&actions, descriptor, target)
            }
            guard result == 0 else {
                throw Failure(description: "posix_spawn file action: \(String(cString: strerror(result)))")
            }
        }
        guard Self.closeFrom(&actions, 3) == 0 else {
            throw Failure(description: "posix_spawn: cannot close descriptors")
        }
        if let directory {
            guard Self.changeDirectory(&actions, directory) == 0 else {
                throw Failure(description: "posix_spawn: cannot change to \(directory)")
            }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let variables = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = variables.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }

        var pid = pid_t()
        let result =
            executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            : posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        processIdentifier = pid
        let child = pid
        // One thread per child waits for its end (children live seconds; tests start a few dozen).
        let thread = Thread { [self] in
            var status: Int32 = 0
            var result = waitpid(child, &status, 0)
            while result == -1 && errno == EINTR { result = waitpid(child, &status, 0) }
            // Not ours to wait for (someone else reaped it): an exit status of 255, not a clean exit.
            if result == -1 { status = 255 << 8 }
            exitCondition.lock()
            ended.withLock { $0 = status }
            exitCondition.broadcast()
            exitCondition.unlock()
            for waiter in waiters.withLock({ waiters in
                defer { waiters = [] }
                return waiters
            }) { waiter(status) }
        }
        thread.start()
    }

    public var isRunning: Bool { ended.withLock { $0 } == nil }

    /// Its exit status, or the signal that ended it (see `endedBySignal`); 0 while it runs.
    public var terminationStatus: Int32 {
        guard let status = ended.withLock({ $0 }) else { return 0 }
        return Self.terminatedBySignal(status) ? status & 0x7F : (status >> 8) & 0xFF
    }

    /// Whether a signal ended it.
    public var endedBySignal: Bool { ended.withLock { $0 }.map(Self.terminatedBySignal) ?? false }

    /// Blocks this thread until the child ends: not for tasks on the concurrency pool (see `exit()`).
    public func waitUntilExit() {
        exitCondition.lock()
        while ended.withLock({ $0 }) == nil { exitCondition.wait() }
        exitCondition.unlock()
    }

    /// Its `terminationStatus` once it ended, awaited without holding a thread.
    public func exit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let now: Int32? = waiters.withLock { waiters in
                if ended.withLock({ $0 }) != nil { return 0 }
                waiters.append { _ in continuation.resume() }
                return nil
            }
            if now != nil { continuation.resume() }
        }
        return terminationStatus
    }

    /// Sends `signal` to the child.
    public func signal(_ signal: Int32) {
        if isRunning { kill(processIdentifier, signal) }
    }

    /// SIGTERM.
    public func terminate() { signal(SIGTERM) }

    private static func terminatedBySignal(_ status: Int32) -> Bool {
        let low = status & 0x7F
        return low != 0 && low != 0x7F
    }

    // glibc (2.34, 2.29) has both, but its headers declare them only for _GNU_SOURCE, which Swift's
    // Glibc module does not define.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias ChangeDirectory =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// Adds "close every descriptor from `from` up" to `actions`; nonzero when glibc cannot.
    static func closeFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32 {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        else { return -1 }
        return unsafeBitCast(symbol, to: CloseFrom.self)(actions, from)
    }

    private static func changeDirectory(
        _ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: String
    ) -> Int32 {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        else { return -1 }
        return path.withCString { unsafeBitCast(symbol, to: ChangeDirectory.self)(actions, $0) }
    }
}
