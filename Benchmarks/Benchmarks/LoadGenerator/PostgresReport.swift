import Foundation
import Histogram

/// A figure measured once a round (`portico-bench postgres`): each round's value and their median, with
/// the latency of its calls over every round.
struct RoundFigure: Codable, Sendable {
    var name: String
    /// "writes/s" or "checks/s".
    var unit: String
    var rounds: [Double] = []
    var median: Double = 0
    var p50Micros: Double = 0
    var p99Micros: Double = 0
    var errors = 0
    /// Checks only: checks per second of the nodes' own CPU time (user and system), median of the rounds.
    var perCPUSecond: [Double]?
    var perCPUSecondMedian: Double?

    init(name: String, unit: String) {
        self.name = name
        self.unit = unit
    }
}

/// A ratio of two figures taken in the same round, and its median over the rounds.
struct RoundRatio: Codable, Sendable {
    var name: String
    var rounds: [Double]
    var median: Double

    init(_ name: String, _ numerator: RoundFigure, _ denominator: RoundFigure) {
        self.name = name
        self.rounds = zip(numerator.rounds, denominator.rounds).map { $0 / max($1, 1e-9) }
        // The module's `median` (Measurement.swift), which this type's property hides.
        self.median = portico_bench.median(self.rounds)
    }
}

/// Replication lag: a write acknowledged by node A, until node B's GetServerInfo shows its revision.
struct LagFigure: Codable, Sendable {
    var samples: Int
    /// Samples B had not reached within 10 s.
    var timeouts: Int
    var p50Micros: Double
    var p90Micros: Double
    var p99Micros: Double
    var maxMicros: Double
    /// The acknowledged writes' own latency on A (p50), for scale.
    var writeP50Micros: Double
    /// One GetServerInfo round trip to B (p50): the resolution of the lag figures.
    var pollP50Micros: Double
}

/// What `portico-bench postgres --json` writes.
struct PostgresReport: Codable, Sendable {
    var machine: Machine
    /// The load average when the run ended (`machine` holds it at the start).
    var loadAverageAfter: String
    var setup: String
    var dataSet: String
    var writes: [RoundFigure]
    var writeRatios: [RoundRatio]
    var lag: LagFigure
    var checks: [RoundFigure]
    var checkRatios: [RoundRatio]
    /// The PostgreSQL log at the end of the run: its rows, and its bytes on disk per row (pg_total_relation_size).
    var logChanges: Int
    var logBytesPerChange: Double
    /// A node started on the log with an empty data directory: seconds until it answered, at this revision.
    var joinSeconds: Double
    var joinRevision: UInt64
}

extension PostgresReport {
    /// The report as text: one table of the figures, one of the ratios, and the lag.
    var text: String {
        var lines = [
            "figure".padding(toLength: 42, withPad: " ", startingAt: 0) + pad("median", 16) + "  "
                + "rounds".padding(toLength: 30, withPad: " ", startingAt: 0) + pad("p50", 9) + pad("p99", 10)
                + pad("errors", 8)
        ]
        for figure in self.writes + self.checks {
            let rounds = figure.rounds.map { formatCount($0) }.joined(separator: " ")
            lines.append(
                figure.name.padding(toLength: 42, withPad: " ", startingAt: 0)
                    + pad(formatCount(figure.median) + " " + figure.unit, 16) + "  "
                    + rounds.padding(toLength: 30, withPad: " ", startingAt: 0)
                    + pad(formatMicros(figure.p50Micros), 9) + pad(formatMicros(figure.p99Micros), 10)
                    + pad("\(figure.errors)", 8))
            if let perCPU = figure.perCPUSecondMedian {
                lines.append("  per CPU-second of the node(s): \(formatCount(perCPU)) checks")
            }
        }
        lines.append("")
        for ratio in self.writeRatios + self.checkRatios {
            let rounds = ratio.rounds.map { String(format: "%.2f", $0) }.joined(separator: " ")
            lines.append("\(ratio.name): median \(String(format: "%.2f", ratio.median)) (rounds: \(rounds))")
        }
        lines.append("")
        let lag = self.lag
        lines.append(
            "replication lag, A acknowledged -> visible on B (\(lag.samples) writes, \(lag.timeouts) over 10 s): "
                + "p50 \(formatMicros(lag.p50Micros)), p90 \(formatMicros(lag.p90Micros)), "
                + "p99 \(formatMicros(lag.p99Micros)), max \(formatMicros(lag.maxMicros)); "
                + "the write itself p50 \(formatMicros(lag.writeP50Micros)); "
                + "one poll of B p50 \(formatMicros(lag.pollP50Micros))")
        let perChange = String(format: "%.0f", self.logBytesPerChange)
        lines.append(
            "PostgreSQL log: \(self.logChanges) changes, \(perChange) bytes on disk per change "
                + "(table, TOAST and primary key)")
        let joined = String(format: "%.2f", self.joinSeconds)
        lines.append(
            "a node joining with an empty data directory answered after \(joined) s, at revision "
                + "\(self.joinRevision) (the whole log read from PostgreSQL and replayed)")
        lines.append("load average: \(self.machine.loadAverage) at the start, \(self.loadAverageAfter) at the end")
        return lines.joined(separator: "\n")
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

/// Latency histograms in nanoseconds, as the load connections keep them.
func nanosecondHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
}

func micros(_ histogram: Histogram<UInt64>, _ percentile: Double) -> Double {
    histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
}
