import Foundation
import PorticoTestSupport
import Testing

/// A program started in the background, in a process group of its own, whose standard output is
/// watched for a line: `portico serve` (or `make run`) until it prints `portico: ready`.
final class BackgroundProgram: @unchecked Sendable {
    // @unchecked: `process` is set once in init and only read afterwards.
    let process: ChildProcess
    let scratch: Scratch

    /// Starts `arguments` with `environment` (applied as `Program.environment` does) in `directory`.
    init(_ arguments: [String], environment: [String: String?] = [:], in directory: URL? = nil) throws {
        self.scratch = try Scratch("background")
        // The child leads a new process group, so the program and whatever it starts (make -> swift
        // run -> portico) share one group, which `stop()` signals as a whole.
        self.process = try ChildProcess(
            arguments[0], Array(arguments.dropFirst()), environment: Program.environment(environment),
            directory: (directory ?? self.scratch.url).path,
            stdout: .file(self.scratch.file("out")), stderr: .file(self.scratch.file("err")))
    }

    /// A test that failed before `stop()` leaves nothing running.
    deinit {
        if self.process.isRunning { kill(-self.process.processIdentifier, SIGKILL) }
    }

    var stdout: String { (try? String(contentsOfFile: self.scratch.file("out"), encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: self.scratch.file("err"), encoding: .utf8)) ?? "" }

    /// Waits until standard output holds the line `line`, polling every 50 ms, at most `limit`.
    /// - Throws: when the program exits first or the limit passes, with what it printed.
    func waitFor(line: String, limit: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            if self.stdout.split(separator: "\n").contains(where: { $0 == line }) { return }
            guard self.process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        // A loaded machine may wake this loop only after the limit: look once more before failing.
        if self.stdout.split(separator: "\n").contains(where: { $0 == line }) { return }
        throw NotReady(line: line, stdout: self.stdout, stderr: self.stderr, running: self.process.isRunning)
    }

    /// SIGTERM to the whole group (graceful for portico), then SIGKILL if it is still there after 10 s.
    func stop() async {
        let group = -self.process.processIdentifier
        kill(group, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while self.process.isRunning, clock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if self.process.isRunning { kill(group, SIGKILL) }
    }

    struct NotReady: Error, CustomStringConvertible {
        let line: String
        let stdout: String
        let stderr: String
        let running: Bool
        var description: String {
            let state = self.running ? "still running" : "exited"
            return "never printed '\(self.line)' (\(state))\n--- stdout\n\(self.stdout)--- stderr\n\(self.stderr)"
        }
    }
}

/// `portico serve` on a free port of 127.0.0.1 with a fresh data directory.
final class ServerProcess: Sendable {
    let program: BackgroundProgram
    let data: Scratch
    let port: Int

    var address: String { "127.0.0.1:\(self.port)" }

    /// The operator key the server wrote into its data directory.
    var operatorKey: String {
        get throws {
            try String(contentsOfFile: self.data.file("operator.key"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// - Parameter arguments: more flags for `portico serve`.
    static func start(store: String = "memory", arguments: [String] = []) async throws -> ServerProcess {
        let data = try Scratch("data")
        let program = try BackgroundProgram(
            [try Locations.portico(), "serve", "--store", store, "--port", "0", "--data-dir", data.path] + arguments
        )
        do {
            try await program.waitFor(line: "portico: ready", limit: .seconds(60))
        } catch {
            await program.stop()
            throw error
        }
        let listening = try #require(
            program.stdout.split(separator: "\n").first { $0.hasPrefix("portico: listening on ") })
        let port = try #require(Int(listening.split(separator: ":").last ?? ""), "no port in '\(listening)'")
        return ServerProcess(program: program, data: data, port: port)
    }

    private init(program: BackgroundProgram, data: Scratch, port: Int) {
        self.program = program
        self.data = data
        self.port = port
    }

    /// Runs `portico arguments` against this server (address and data directory by flags).
    func portico(_ arguments: [String], environment: [String: String?] = [:]) async throws -> Outcome {
        try await Program.run(
            try Locations.portico(), arguments + ["--address", self.address, "--data-dir", self.data.path],
            environment: environment
        )
    }

    func stop() async { await self.program.stop() }
}
