import Foundation
import Histogram

/// The workloads the generator drives.
enum Workload: String, CaseIterable, Codable, Sendable {
    /// The empty RPC: what the transport alone allows.
    case ping
    /// CheckPermission by principal id.
    case check
    /// CheckPermission by token secret (hash, token lookup, scope check, then the check).
    case checkToken = "check-token"
    /// BatchCheckPermissions, `batch` checks per call.
    case batch
    /// ListAccessibleAssets, one page of up to 100.
    case lookup
    /// CheckPermission by principal while a writer sends durable AssignTasks at 1% of all calls.
    case mix
    /// CheckPermission by principal on the native protocol over TLS (a server of its own on the same
    /// core, certificates made at start).
    case checkTLS = "check-tls"
    /// CheckPermission by principal over the gRPC endpoint, from grpc-swift 2's client.
    case grpcCheck = "grpc-check"

    /// The workloads read against check by principal in clear, measured in the same rounds.
    var comparedToCheck: Bool { self == .mix || self == .checkTLS || self == .grpcCheck }
}

/// One measurement: a workload at a pacing, over a window.
struct Measurement: Codable, Sendable {
    var workload: Workload
    /// "closed" or "open".
    var loop: String
    var connections: Int
    /// Calls in flight per connection (closed loop).
    var inFlight: Int?
    /// The offered rate, calls per second (open loop).
    var offeredRate: Double?
    var seconds: Double
    var calls: Int
    var checks: Int
    var writes: Int
    var errors: Int
    /// Calls due in the window still unanswered two seconds after it (past saturation).
    var unanswered: Int
    var errorCodes: [String: Int]
    var callsPerSecond: Double
    var checksPerSecond: Double
    var writesPerSecond: Double
    /// Latency percentiles in microseconds, from when each call was due.
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
    /// This workload's calls per second over ping's in the same round (median of the rounds).
    var ratioToPing: Double?
    /// Mix, check over TLS and over gRPC: checks per second over check-only's (in clear, on the native
    /// port) in the same round, median of the rounds. Mix only: the latency of the durable writes sent
    /// beside the checks, in microseconds.
    var ratioToCheckOnly: Double?
    var writeP50: Double?
    var writeP99: Double?
    var rounds: Int

    init(workload: Workload, pacing: Pacing, connections: Int, tally: ConnectionTally, seconds: Double, rounds: Int = 1) {
        self.workload = workload
        switch pacing {
        case .closed(let depth):
            self.loop = "closed"
            self.inFlight = depth
        case .open(let rate):
            self.loop = "open"
            self.offeredRate = rate
        }
        self.connections = connections
        self.seconds = seconds
        self.calls = tally.calls
        self.checks = tally.checks
        self.writes = tally.writes
        self.errors = tally.errors
        self.unanswered = tally.unanswered
        self.errorCodes = Dictionary(uniqueKeysWithValues: tally.errorCodes.map { (statusName($0.key), $0.value) })
        self.callsPerSecond = Double(tally.calls) / seconds
        self.checksPerSecond = Double(tally.checks) / seconds
        self.writesPerSecond = Double(tally.writes) / seconds
        let histogram = tally.latency
        func micros(_ percentile: Double) -> Double { histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000 }
        self.p50 = micros(50)
        self.p90 = micros(90)
        self.p99 = micros(99)
        self.p999 = micros(99.9)
        self.max = histogram.totalCount == 0 ? 0 : Double(histogram.max) / 1000
        self.rounds = rounds
    }

    /// "16 x 16" or "open 50,000/s".
    var shape: String {
        if let inFlight { return "\(self.connections) x \(inFlight)" }
        return "open \(formatCount(self.offeredRate ?? 0))/s on \(self.connections)"
    }
}

func statusName(_ code: UInt32) -> String {
    let names = [1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND", 6: "ALREADY_EXISTS",
                 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION", 10: "ABORTED", 11: "OUT_OF_RANGE",
                 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS", 16: "UNAUTHENTICATED"]
    return names[Int(code)] ?? "STATUS_\(code)"
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// 1234567 as "1.23M", 12345 as "12.3k".
func formatCount(_ value: Double) -> String {
    switch value {
    case 1e6...: String(format: "%.2fM", value / 1e6)
    case 1e4...: String(format: "%.1fk", value / 1e3)
    case 1e3...: String(format: "%.2fk", value / 1e3)
    default: String(format: "%.0f", value)
    }
}

/// Microseconds as "87 µs" or "1.24 ms".
func formatMicros(_ value: Double) -> String {
    switch value {
    case 10_000...: String(format: "%.0f ms", value / 1000)
    case 1000...: String(format: "%.2f ms", value / 1000)
    default: String(format: "%.0f µs", value)
    }
}

/// The readable table of a set of measurements.
func table(_ rows: [Measurement]) -> String {
    let header = ["workload", "shape", "calls/s", "checks/s", "vs ping", "vs check", "p50", "p90", "p99", "p99.9", "max", "errors"]
    var lines = [header]
    for row in rows {
        lines.append([
            row.workload.rawValue, row.shape, formatCount(row.callsPerSecond),
            row.checksPerSecond > 0 ? formatCount(row.checksPerSecond) : "-",
            row.ratioToPing.map { String(format: "%.2f", $0) } ?? "-",
            row.ratioToCheckOnly.map { String(format: "%.2f", $0) } ?? "-",
            formatMicros(row.p50), formatMicros(row.p90), formatMicros(row.p99), formatMicros(row.p999), formatMicros(row.max),
            (row.errors == 0 ? "0" : "\(row.errors) \(row.errorCodes.keys.sorted().joined(separator: ","))")
                + (row.unanswered > 0 ? ", \(row.unanswered) unanswered" : ""),
        ])
    }
    let widths = header.indices.map { column in lines.map { $0[column].count }.max()! }
    return lines.enumerated().map { number, line in
        let text = line.enumerated().map { column, cell in
            column < 2 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[column] - cell.count) + cell
        }.joined(separator: "  ")
        return number == 0 ? text + "\n" + String(repeating: "-", count: text.count) : text
    }.joined(separator: "\n")
}
