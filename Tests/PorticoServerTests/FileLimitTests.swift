import Foundation
import NIOCore
import PorticoClient
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Synchronization
import Testing

/// `portico serve` in a child process under a low open-file limit, with what it prints collected.
final class LimitedServer: Sendable {
    private final class Output: Sendable {
        let text = Mutex<(out: String, err: String)>(("", ""))
    }

    let process: ChildProcess
    private let output = Output()
    /// Kept for the child's life: reading ends closed early would kill it with SIGPIPE.
    private let pipes: [Pipe]

    /// Starts the `portico` binary beside the tests (or `PORTICO_BINARY`) under `ulimit -n files`.
    init(files: Int, arguments: [String]) throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates =
            [ProcessInfo.processInfo.environment["PORTICO_BINARY"]].compactMap { $0 }
            + [directory, directory.deletingLastPathComponent()].map { $0.appendingPathComponent("portico").path }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw PorticoStatusError(
                code: .internal, message: "no portico binary at \(candidates): run `swift build --build-tests` first")
        }
        let out = Pipe()
        let err = Pipe()
        self.pipes = [out, err]
        let output = self.output
        out.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.text.withLock { $0.out += text }
        }
        err.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.text.withLock { $0.err += text }
        }
        self.process = try ChildProcess(
            "/bin/sh", ["-c", "ulimit -n \(files) && exec \"$0\" \"$@\"", binary] + arguments,
            stdout: .descriptor(out.fileHandleForWriting.fileDescriptor),
            stderr: .descriptor(err.fileHandleForWriting.fileDescriptor))
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
    }

    var standardOutput: String { self.output.text.withLock { $0.out } }
    var standardError: String { self.output.text.withLock { $0.err } }

    /// Waits (bounded) for the `portico: ready` line; returns the port of the listening line.
    func waitUntilReady() async throws -> Int {
        for _ in 0..<6_000 {
            let lines = self.standardOutput.split(separator: "\n")
            if lines.contains("portico: ready"),
                let listening = lines.first(where: { $0.hasPrefix("portico: listening on ") }),
                let port = Int(listening.split(separator: ":").last ?? "")
            {
                return port
            }
            guard self.process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw PorticoStatusError(
            code: .unavailable,
            message: "portico serve did not get ready: \(self.standardOutput) \(self.standardError)"
        )
    }

    /// CPU time the process has used, in clock ticks (user and system, /proc/PID/stat fields 14 and 15).
    var cpuTicks: Int {
        let stat = (try? String(contentsOfFile: "/proc/\(self.process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        guard fields.count > 13 else { return 0 }
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    func stop() {
        self.process.terminate()
        self.process.waitUntilExit()
    }
}

@Suite("Open-file limit")
struct FileLimitTests {
    enum Outcome: Sendable, Hashable {
        case served
        case refused
        case nothing
    }

    @Test("a storm under `ulimit -n 200`: each connection served or refused with GOAWAY, a client served, no spinning")
    func lowFileLimit() async throws {
        let key = OperatorKey.generate()
        let server = try LimitedServer(
            files: 200,
            arguments: [
                "serve", "--store", "memory", "--host", "127.0.0.1", "--port", "0", "--operator-key", key,
                "--threads", "1", "--max-connections-per-address", "1024", "--log-level", "notice", "--shutdown-grace",
                "1",
            ])
        defer { server.stop() }
        let port = try await server.waitUntilReady()
        #expect(server.standardError.contains("the open-file limit is below the connection limit"))
        let legit = PorticoClient(configuration: ClientConfiguration(host: "127.0.0.1", port: port, credential: key))
        _ = try await legit.ping()

        // 400 connections at once, each sending a ping and waiting for its answer, all held open.
        let storm = try await withThrowingTaskGroup(of: (WireClient, Outcome).self) { group in
            for call in 1...400 {
                group.addTask {
                    let client = try await WireClient.connect(port: port)
                    try? await client.send(WirePreface.bytes + Wire.ping(UInt64(call)))
                    let (frames, _) = try await client.wait(limit: .seconds(20)) { !$0.isEmpty }
                    switch (frames.first?.header.kind, frames.first?.header.statusCode) {
                    case (.response, .ok): return (client, .served)
                    case (.goaway, .resourceExhausted): return (client, .refused)
                    default: return (client, .nothing)
                    }
                }
            }
            var results: [(WireClient, Outcome)] = []
            for try await result in group { results.append(result) }
            return results
        }
        let outcomes = storm.map(\.1)
        #expect(
            outcomes.filter { $0 == .nothing }.isEmpty,
            "connections with no answer: \(outcomes.filter { $0 == .nothing }.count)")
        #expect(outcomes.filter { $0 == .served }.count >= 100)
        #expect(outcomes.filter { $0 == .refused }.count >= 200)

        // While the storm's connections are held: the connected client is served, and the server idles.
        let before = server.cpuTicks
        for _ in 0..<20 {
            _ = try await legit.ping()
            try await Task.sleep(for: .milliseconds(50))
        }
        let used = server.cpuTicks - before
        #expect(used < 50, "the server used \(used) ticks (of 100 a second) while idle")
        for (client, _) in storm { await client.close() }
        await legit.close()
    }
}
