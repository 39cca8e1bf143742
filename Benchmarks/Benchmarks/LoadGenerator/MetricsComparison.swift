import Foundation
import PorticoServer

/// Check throughput with metrics on against metrics off, measured in one run: the generator's second
/// server answers from the same core with a `ServerMetrics`, scraped once a second while it is loaded,
/// as Prometheus would; the first counts nothing.
///
/// A round is one short window off and one on, back to back, in an order that alternates from round to
/// round, so that a drift of the shared machine's load falls on both; the figure is the median of the
/// per-round ratios, and their spread is reported beside it. Many short rounds rather than a few long
/// ones: a burst of another process's work then spoils a round or two, not the median.
struct MetricsComparison: Codable, Sendable {
    var connections: Int
    var inFlight: Int
    var rounds: Int
    /// Seconds of each window.
    var seconds: Double
    /// Medians of the rounds.
    var offChecksPerSecond: Double
    var onChecksPerSecond: Double
    /// The median of the per-round ratios on / off.
    var ratio: Double
    /// Every round's ratio on / off, in the order measured.
    var ratios: [Double]
    /// The quartiles of the per-round ratios.
    var lowQuartile: Double
    var highQuartile: Double
    var scrapes: Int

    /// "0.98 (quartiles 0.95-1.01, range 0.90-1.06, 16 rounds of 1 s)".
    var summary: String {
        String(
            format: "%.3f (quartiles %.2f-%.2f, range %.2f-%.2f, %d rounds of %.1f s alternating)", self.ratio,
            self.lowQuartile, self.highQuartile, self.ratios.min() ?? 0, self.ratios.max() ?? 0, self.rounds,
            self.seconds)
    }
}

extension Bench {
    func compareMetrics(connections: Int, inFlight: Int, seconds: Double, rounds: Int) async throws
        -> MetricsComparison?
    {
        guard let counted = self.counted else { return nil }
        let calls = try self.calls(.check)
        var off: [Double] = []
        var on: [Double] = []
        var scrapes = 0
        for round in 0..<rounds {
            for metricsOn in round % 2 == 0 ? [false, true] : [true, false] {
                let port = metricsOn ? counted.port : self.port
                let scraping = metricsOn ? Task {
                    var done = 0
                    while !Task.isCancelled {
                        _ = await counted.metrics.scrape(counted.server)
                        done += 1
                        try? await Task.sleep(for: .seconds(1))
                    }
                    return done
                } : nil
                let (tally, elapsed) = try await runLoad(
                    group: self.group, host: self.host, port: port, credential: self.key, calls: calls,
                    connections: connections, pacing: .closed(depth: inFlight), warmUp: 0.2, seconds: seconds,
                    progress: Progress(label: "check \(connections) x \(inFlight), metrics \(metricsOn ? "on" : "off"), round \(round + 1)/\(rounds)",
                                       enabled: !self.quiet)
                )
                scraping?.cancel()
                scrapes += await scraping?.value ?? 0
                let rate = Double(tally.checks) / elapsed
                if metricsOn { on.append(rate) } else { off.append(rate) }
            }
        }
        let ratios = zip(on, off).map { $0 / $1 }
        return MetricsComparison(
            connections: connections, inFlight: inFlight, rounds: rounds, seconds: seconds,
            offChecksPerSecond: median(off), onChecksPerSecond: median(on),
            ratio: median(ratios), ratios: ratios, lowQuartile: quantile(ratios, 0.25),
            highQuartile: quantile(ratios, 0.75), scrapes: scrapes
        )
    }
}

/// The `fraction` quantile of `values`, interpolated between the two nearest (0.5 is the median).
func quantile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let position = fraction * Double(sorted.count - 1)
    let below = Int(position.rounded(.down))
    let above = min(below + 1, sorted.count - 1)
    return sorted[below] + (sorted[above] - sorted[below]) * (position - Double(below))
}
