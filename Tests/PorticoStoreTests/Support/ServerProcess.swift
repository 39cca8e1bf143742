import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real `portico` binary running `serve` as a child process on 127.0.0.1, port chosen by the system.
final class ServerProcess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let process = Process()
    let port: Int

    /// The binary: `PORTICO_BINARY`, or `portico` beside the test bundle (the build directory that
    /// `swift build --build-tests` fills, whatever its scratch path).
    static func binary() throws -> URL {
        var candidates: [URL] = []
        if let given = ProcessInfo.processInfo.environment["PORTICO_BINARY"] { candidates.append(URL(fileURLWithPath: given)) }
        for start in [Bundle.main.executableURL, Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0])] {
            var directory = start?.deletingLastPathComponent()
            for _ in 0..<3 {
                guard let current = directory else { break }
                candidates.append(current.appendingPathComponent("portico"))
                directory = current.deletingLastPathComponent()
            }
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
        }
        throw Failure(description: "no portico binary beside the tests (looked at \(candidates.map(\.path))): "
                      + "run `swift build --build-tests` (it builds the portico product too) or set PORTICO_BINARY")
    }

    /// Starts `portico serve` on `dataDirectory` and returns once it serves (it listens first, answering
    /// LOADING while it reads the store, then says `portico: ready`).
    init(dataDirectory: String, operatorKey: String, extra: [String] = []) throws {
        process.executableURL = try Self.binary()
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDirectory,
                             "--operator-key", operatorKey, "--log-level", "critical", "--shutdown-grace", "1"] + extra
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Blocking reads until the "listening" and "ready" lines; EOF (an empty read) means the server exited.
        var text = ""
        var found: Int?
        while found == nil || !text.split(separator: "\n").contains("portico: ready") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty {
                throw Failure(description: "portico serve exited before serving; it said: \(text)")
            }
            text += String(decoding: data, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("portico: listening on ") }),
               let port = Int(line.split(separator: ":").last ?? "") {
                found = port
            }
        }
        port = found!
    }

    /// Kills the server at once, as a power cut would stop it (SIGKILL: no shutdown code runs).
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server gracefully.
    func terminate() {
        process.terminate()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { kill9() }
    }
}
