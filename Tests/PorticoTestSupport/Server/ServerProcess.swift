public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real `portico` binary running `serve` as a child process on 127.0.0.1, port chosen by the system
/// (the store's crash tests, the PostgreSQL multi-process tests).
// @unchecked: every stored property is set in init and not changed after (`output` included; the
// tail is behind its own lock), and ChildProcess is safe to query and signal from any thread.
public final class ServerProcess: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let process: ChildProcess
    public let port: Int

    /// The binary: `PORTICO_BINARY`, or `portico` beside the test bundle (the build directory that
    /// `swift build --build-tests` fills, whatever its scratch path).
    public static func binary() throws -> URL {
        var candidates: [URL] = []
        if let given = ProcessInfo.processInfo.environment["PORTICO_BINARY"] {
            candidates.append(URL(fileURLWithPath: given))
        }
        for start in [Bundle.main.executableURL, Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0])]
        {
            var directory = start?.deletingLastPathComponent()
            for _ in 0..<3 {
                guard let current = directory else { break }
                candidates.append(current.appendingPathComponent("portico"))
                directory = current.deletingLastPathComponent()
            }
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue
            {
                return candidate
            }
        }
        throw Failure(
            description: "no portico binary beside the tests (looked at \(candidates.map(\.path))): "
                + "run `swift build --build-tests` (it builds the portico product too) or set PORTICO_BINARY")
    }

    /// Everything the server wrote to standard output and standard error until it served (or exited).
    public private(set) var output = ""

    /// Starts `portico serve` on `dataDirectory` and returns once it serves (it listens first, answering
    /// LOADING while it reads the store, then says `portico: ready`).
    /// - Parameters:
    ///   - operatorKey: the key to give with `--operator-key`; nil to let the server make `operator.key`.
    ///   - logLevel: the server's log level; its log lines land in `output` until it serves.
    public init(
        dataDirectory: String, operatorKey: String?, extra: [String] = [], logLevel: String = "critical"
    ) throws {
        // One pipe for both streams: a refusal (an error on standard error) ends the read as EOF does.
        let pipe = Pipe()
        process = try Self.spawn(
            [
                "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDirectory,
                "--log-level", logLevel, "--shutdown-grace", "1",
            ]
                + (operatorKey.map { ["--operator-key", $0] } ?? []) + extra,
            output: pipe)
        // Blocking reads until the "listening" and "ready" lines; EOF (an empty read) means the server exited.
        var text = ""
        var found: Int?
        while found == nil || !text.split(separator: "\n").contains("portico: ready") {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty {
                process.waitUntilExit()
                output = text
                throw Failure(description: "portico serve exited before serving; it said: \(text)")
            }
            text += String(decoding: data, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("portico: listening on ") }),
                let port = Int(line.split(separator: ":").last ?? "")
            {
                found = port
            }
        }
        output = text
        port = found!
        // Drain the pipe from now on, keeping the last of it: a server whose output nobody reads would
        // block on its next log line, and what it says last tells why it stopped, if it does.
        let tail = self.tail
        let handle = pipe.fileHandleForReading
        Thread {
            while case let data = handle.availableData, !data.isEmpty {
                tail.text.withLock { kept in
                    kept += String(decoding: data, as: UTF8.self)
                    if kept.utf8.count > 16_384 { kept = String(kept.suffix(8_192)) }
                }
            }
        }.start()
    }

    private final class Tail: Sendable {
        let text = Mutex("")
    }

    private let tail = Tail()

    /// How the server stands, for a failure's message: running, or how it ended, and what it said last.
    public var status: String {
        let ended = process.endedBySignal ? "signal" : "exit"
        let state = process.isRunning ? "running" : "ended (\(ended) \(process.terminationStatus))"
        let said = tail.text.withLock { $0 }
        return "portico serve (pid \(process.processIdentifier)) \(state); it said last: \(said)"
    }

    /// Starts `portico serve` without waiting for it to listen (its output is discarded): for killing it
    /// during start-up.
    public static func launch(dataDirectory: String, operatorKey: String, extra: [String] = []) throws
        -> ChildProcess
    {
        try ChildProcess(
            try binary().path,
            [
                "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDirectory,
                "--log-level", "critical", "--operator-key", operatorKey,
            ] + extra)
    }

    /// Starts `portico serve` at log level info and returns once its output contains `text` (its
    /// output is read and discarded after that): for killing it at a known point of start-up.
    /// - Throws: when the server exits before saying `text`.
    public static func launch(dataDirectory: String, operatorKey: String, waitingFor text: String) throws
        -> ChildProcess
    {
        let pipe = Pipe()
        let process = try spawn(
            [
                "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDirectory,
                "--log-level", "info", "--operator-key", operatorKey,
            ], output: pipe)
        var said = ""
        while !said.contains(text) {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty {
                process.waitUntilExit()
                throw Failure(description: "portico serve exited before saying '\(text)'; it said: \(said)")
            }
            said += String(decoding: data, as: UTF8.self)
        }
        // Its output is read to the end and dropped: a server writing to a pipe nobody reads would block,
        // or die of SIGPIPE once the reading end is gone.
        let handle = pipe.fileHandleForReading
        Thread { while !handle.availableData.isEmpty {} }.start()
        return process
    }

    /// `portico arguments` with standard output and standard error into `output`, whose writing end is
    /// then closed here (so that reading it ends when the server does).
    private static func spawn(_ arguments: [String], output: Pipe) throws -> ChildProcess {
        let writing = output.fileHandleForWriting.fileDescriptor
        let process = try ChildProcess(
            try binary().path, arguments, stdout: .descriptor(writing), stderr: .descriptor(writing))
        try output.fileHandleForWriting.close()
        return process
    }

    /// The server's process id.
    public var pid: Int32 { process.processIdentifier }

    /// Kills the server at once, as a power cut would stop it (SIGKILL: no shutdown code runs).
    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server gracefully.
    public func terminate() {
        process.terminate()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { kill9() }
    }
}
