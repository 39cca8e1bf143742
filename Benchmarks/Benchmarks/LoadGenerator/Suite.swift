import ArgumentParser
import Foundation

/// `portico-bench suite`: the standard suite `make bench` runs, written as docs/benchmarks.md with a
/// chart and JSON beside it.
struct SuiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "The standard suite: checks by principal and by token, in clear, over TLS and over gRPC, batches, lookups, 99/1 writes, "
            + "metrics on against off, an open-loop sweep, and Redis as the machine's reference."
    )

    @OptionGroup var target: TargetOptions
    @Option(help: "Seconds per measurement.") var seconds: Double = 2
    @Option(help: "Rounds per closed-loop comparison; medians are reported.") var rounds: Int = 3
    @Option(help: "Rounds of metrics on against off (one window each, alternating).") var metricsRounds: Int = 16
    @Option(help: "Seconds per window of metrics on or off.") var metricsSeconds: Double = 1
    @Option(help: "The Markdown report.") var markdown: String = "docs/benchmarks.md"
    @Option(help: "The JSON report.") var json: String = "docs/benchmarks.json"
    @Option(help: "The latency-throughput chart.") var svg: String = "docs/benchmarks-latency.svg"
    @Flag(help: "Skip the Redis reference even when redis-server and redis-benchmark are installed.") var noRedis = false

    func run() async throws {
        let machine = Machine.current()
        let bench = try await Bench.start(self.target)
        var rows: [Measurement] = []
        func section(_ title: String, _ measured: [Measurement]) {
            print("\n\(title)\n\(table(measured))")
            rows += measured
        }
        // check-tls and grpc-check: the same checks over TLS and over the gRPC endpoint, in the same rounds
        // as check in clear on the native port (their "vs check").
        let single = try await bench.compare([.check, .checkToken, .checkTLS, .grpcCheck], connections: 1, inFlight: 1,
                                             seconds: self.seconds, rounds: self.rounds)
        section("1 connection, 1 call in flight", single)
        let sixteenByOne = try await bench.compare([.check, .checkToken, .lookup, .grpcCheck], connections: 16, inFlight: 1,
                                                   seconds: self.seconds, rounds: self.rounds)
        section("16 connections, 1 call in flight each", sixteenByOne)
        let oneBySixteen = try await bench.compare([.check, .checkToken], connections: 1, inFlight: 16, seconds: self.seconds,
                                                   rounds: self.rounds)
        section("1 connection, 16 calls in flight", oneBySixteen)
        let sixteenBySixteen = try await bench.compare([.check, .checkToken, .mix, .checkTLS, .grpcCheck], connections: 16,
                                                       inFlight: 16, seconds: self.seconds, rounds: self.rounds)
        section("16 connections, 16 calls in flight each (mix: 1% durable writes)", sixteenBySixteen)
        let metrics = try await bench.compareMetrics(connections: 16, inFlight: 16, seconds: self.metricsSeconds,
                                                     rounds: self.metricsRounds)
        if let metrics {
            print("\ncheck 16 x 16, metrics on / off: \(formatCount(metrics.onChecksPerSecond)) / "
                  + "\(formatCount(metrics.offChecksPerSecond)) checks/s = \(metrics.summary)")
        }
        let batches = try await bench.compare([.batch], connections: 2, inFlight: 8, seconds: self.seconds, rounds: self.rounds)
        section("batches of 100 checks, 2 connections x 8 in flight", batches)

        let saturation = sixteenBySixteen.first { $0.workload == .check }!.callsPerSecond
        let sweep = try await bench.sweep(.check, saturation: saturation, fractions: [0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5],
                                          connections: 16, seconds: self.seconds + 1)
        section("open loop, check, 16 connections, rising to saturation (\(formatCount(saturation)) calls/s closed loop)", sweep)
        let chart = latencyChart(sweep, title: "CheckPermission, open loop on 16 connections: latency against throughput")
        try chart.write(toFile: self.svg, atomically: true, encoding: .utf8)

        var reference: [RedisReference.Result] = []
        if !self.noRedis, let redis = RedisReference.find() {
            reference = try await redis.run()
            for result in reference { print("redis \(result.clients) clients x \(result.pipeline): \(formatCount(result.requestsPerSecond)) SISMEMBER/s") }
        }
        await bench.stop()

        let report = Report(machine: machine, setup: self.target.setup, dataSet: "\(bench.dataSet.size)", measurements: rows,
                            reference: reference, metrics: metrics)
        try writeJSON(report, to: self.json)
        try markdownReport(report, svg: self.svg, command: CommandLine.arguments.dropFirst().joined(separator: " "))
            .write(toFile: self.markdown, atomically: true, encoding: .utf8)
        print("\nwrote \(self.markdown), \(self.json), \(self.svg)")
    }
}

/// The machine a report was measured on.
struct Machine: Codable, Sendable {
    var date: String
    var cpu: String
    var cores: Int
    var memory: String
    var kernel: String
    var swift: String
    var loadAverage: String

    static func current() -> Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cpu = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let kilobytes = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal") }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
        let swift = (try? capture("/usr/bin/env", ["swift", "--version"]))?.split(separator: "\n").first.map(String.init) ?? "unknown"
        let formatter = ISO8601DateFormatter()
        return Machine(date: formatter.string(from: Date()), cpu: cpu, cores: ProcessInfo.processInfo.activeProcessorCount,
                       memory: String(format: "%.1f GiB", Double(kilobytes) / 1_048_576), kernel: kernel, swift: swift, loadAverage: load)
    }
}

/// Runs a program to its end and returns what it printed.
func capture(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// Redis on the same loopback, the machine's reference for a small C server: SISMEMBER from
/// redis-benchmark at the concurrency of the Portico measurements.
struct RedisReference: Sendable {
    struct Result: Codable, Sendable {
        var clients: Int
        var pipeline: Int
        var requestsPerSecond: Double
    }

    let server: String
    let benchmark: String
    let cli: String

    static func find() -> RedisReference? {
        let paths = ["/usr/bin", "/usr/local/bin"]
        func which(_ name: String) -> String? {
            paths.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        guard let server = which("redis-server"), let benchmark = which("redis-benchmark"), let cli = which("redis-cli") else { return nil }
        return RedisReference(server: server, benchmark: benchmark, cli: cli)
    }

    func run() async throws -> [Result] {
        let port = 20_000 + Int.random(in: 0..<20_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: self.server)
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            // SHUTDOWN rather than SIGTERM: a child of this process starts with SIGTERM blocked.
            _ = try? capture(self.cli, ["-p", "\(port)", "SHUTDOWN", "NOSAVE"])
            for _ in 0..<20 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        for _ in 0..<50 {
            if (try? capture(self.cli, ["-p", "\(port)", "PING"]))?.contains("PONG") == true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        _ = try capture(self.cli, ["-p", "\(port)", "SADD", "bench", "member", "other"])
        var results: [Result] = []
        for (pipeline, requests) in [(1, 150_000), (16, 2_000_000)] {
            let output = try capture(self.benchmark, ["-p", "\(port)", "-c", "16", "-P", "\(pipeline)", "-n", "\(requests)", "--csv",
                                                      "SISMEMBER", "bench", "member"])
            // --csv: a header line, then "command","rps",...
            let line = output.split(separator: "\n").last { $0.hasPrefix("\"SISMEMBER") } ?? ""
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count > 1, let rps = Double(fields[1]) { results.append(Result(clients: 16, pipeline: pipeline, requestsPerSecond: rps)) }
        }
        return results
    }
}
