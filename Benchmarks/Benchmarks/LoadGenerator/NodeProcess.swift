import Foundation
import PorticoClient
import PorticoTestSupport
import PorticoWire

#if canImport(Glibc)
    import Glibc
#endif

/// One `portico serve` of `portico-bench postgres`: a process of its own, run from a release binary,
/// listening on a port the kernel picked.
///
/// A small shell holds it: the shell starts the server, then reads a pipe whose write end only this
/// process has. Closing that end (in `stop`, or when this process exits, however it exits) makes the shell
/// send the server SIGTERM and wait for it, so that no node outlives the benchmark (the same supervision
/// as the tests' `PostgresServer`).
final class NodeProcess: Sendable {
    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    let name: String
    let port: Int
    /// The server's own process id (for its CPU time), not its shell's.
    let pid: pid_t
    /// Where the server's output goes.
    let log: String
    private let shell: pid_t
    private let writeEnd: Int32

    private init(name: String, port: Int, pid: pid_t, log: String, shell: pid_t, writeEnd: Int32) {
        self.name = name
        self.port = port
        self.pid = pid
        self.log = log
        self.shell = shell
        self.writeEnd = writeEnd
    }

    /// Starts `binary serve ARGUMENTS --port 0` and returns once the server answers Ping (it has loaded
    /// its state). Its output goes to `directory/NAME.log`.
    static func start(name: String, binary: String, arguments: [String], directory: String, key: String) async throws
        -> NodeProcess
    {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw Failed(
                description: "no portico binary at \(binary): build it with `make bench-pg` (or give --portico)")
        }
        let log = "\(directory)/\(name).log"
        let pidFile = "\(directory)/\(name).pid"
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw Failed(description: "pipe() failed") }
        // The write end stays in this process alone: no child may keep it open.
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        let script = """
            binary=$1; pid_file=$2; shift 2
            "$binary" serve "$@" </dev/null & child=$!
            echo $child > "$pid_file"
            read _
            kill -TERM $child; wait $child
            """
        let shell = try PostgresServer.spawn(
            ["/bin/sh", "-c", script, name, binary, pidFile] + arguments + ["--port", "0"],
            stdin: ends[0], output: log, what: "portico serve (\(name))")
        close(ends[0])
        let node = NodeProcess(name: name, port: 0, pid: 0, log: log, shell: shell, writeEnd: ends[1])
        do {
            let (port, pid) = try await node.waitForListening(pidFile: pidFile)
            let started = NodeProcess(name: name, port: port, pid: pid, log: log, shell: shell, writeEnd: ends[1])
            try await started.waitUntilServing(key: key)
            return started
        } catch {
            node.stop()
            throw error
        }
    }

    /// The port from the line `portico: listening on 127.0.0.1:PORT`, and the server's process id.
    private func waitForListening(pidFile: String) async throws -> (Int, pid_t) {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let output = (try? String(contentsOfFile: self.log, encoding: .utf8)) ?? ""
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix("portico: listening on ") }),
                let port = line.split(separator: ":").last.flatMap({ Int($0) }),
                let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8))
                    .flatMap({ pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
            {
                return (port, pid)
            }
            var status: Int32 = 0
            if waitpid(self.shell, &status, WNOHANG) == self.shell {
                throw Failed(description: "portico serve (\(self.name)) exited: \(output.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failed(description: "portico serve (\(self.name)) did not listen within 120 s; see \(self.log)")
    }

    /// Pings until the server answers (it answers LOADING while it reads its log).
    private func waitUntilServing(key: String) async throws {
        let client = self.client(key: key, connections: 1)
        defer { Task { await client.close() } }
        let deadline = ContinuousClock.now + .seconds(300)
        while true {
            do {
                _ = try await client.ping()
                return
            } catch  where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    func client(key: String, connections: Int) -> PorticoClient {
        PorticoClient(
            configuration: ClientConfiguration(
                host: "127.0.0.1", port: self.port, credential: key, connections: connections,
                defaultTimeout: .seconds(120)))
    }

    /// The revision the server has applied (GetServerInfo), on a connection of its own.
    func revision(key: String) async throws -> UInt64 {
        let client = self.client(key: key, connections: 1)
        do {
            let revision = try await client.getServerInfo().revision
            await client.close()
            return revision
        } catch {
            await client.close()
            throw error
        }
    }

    /// The server's CPU time so far (user and system, every thread), from /proc/PID/stat.
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(self.pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return 0 }
        // After the command's closing parenthesis: field 3 (state) onward; utime and stime are 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Stops the server (SIGTERM through its shell) and waits up to 30 s for it, then kills it.
    func stop() {
        close(self.writeEnd)
        var status: Int32 = 0
        for _ in 0..<600 {
            if waitpid(self.shell, &status, WNOHANG) == self.shell { return }
            usleep(50_000)
        }
        if self.pid > 0 { kill(self.pid, SIGKILL) }
        kill(self.shell, SIGKILL)
        _ = waitpid(self.shell, &status, 0)
    }
}
