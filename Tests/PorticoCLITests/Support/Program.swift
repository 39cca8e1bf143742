import Foundation
import PorticoTestSupport
import Testing

/// What a finished program printed and how it ended.
struct Outcome: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    var stderrLines: [String] { self.stderr.split(separator: "\n").map(String.init) }
    var description: String { "exit \(self.status)\n--- stdout\n\(self.stdout)--- stderr\n\(self.stderr)" }
}

/// Runs programs with their output in files (no pipe to fill up and block), waiting without holding
/// a thread, and killing one that outlives its limit.
enum Program {
    /// Runs `executable` to its end.
    /// - Parameters:
    ///   - environment: added to (or, with a nil value, removed from) this process's environment.
    ///   - limit: past it the program is killed and the outcome says so.
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String?] = [:],
        in directory: URL? = nil,
        input: String? = nil,
        limit: Duration = .seconds(120)
    ) async throws -> Outcome {
        let scratch = try Scratch("run")
        _ = FileManager.default.createFile(atPath: scratch.file("in"), contents: Data((input ?? "").utf8))
        let process = try ChildProcess(
            executable, arguments, environment: Self.environment(environment),
            directory: (directory ?? scratch.url).path,
            stdin: .file(scratch.file("in")), stdout: .file(scratch.file("out")), stderr: .file(scratch.file("err")))
        let status = await Self.wait(for: process, limit: limit)
        return Outcome(
            status: status,
            stdout: (try? String(contentsOfFile: scratch.file("out"), encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: scratch.file("err"), encoding: .utf8)) ?? ""
        )
    }

    /// Waits for the process's exit; kills it and whatever it started (SIGKILL to its process group)
    /// when `limit` passes first.
    static func wait(for process: ChildProcess, limit: Duration) async -> Int32 {
        let watchdog = Task {
            try await Task.sleep(for: limit)
            kill(-process.processIdentifier, SIGKILL)
        }
        defer { watchdog.cancel() }
        return await process.exit()
    }

    /// This process's environment with `changes` applied; `PORTICO_*` variables of the caller are
    /// dropped first, so that a developer's own settings cannot leak into a test.
    static func environment(_ changes: [String: String?]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PORTICO_") }
        for (name, value) in changes { environment[name] = value }
        return environment
    }

    /// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        try #require(bound, "cannot bind a probe socket on 127.0.0.1")
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
