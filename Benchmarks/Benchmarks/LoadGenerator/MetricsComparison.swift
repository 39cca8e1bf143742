import Foundation
import PorticoServer

/// Check throughput with metrics on against metrics off, measured in one run: the generator's second
/// server answers from the same core with a `ServerMetrics`, scraped once a second while it is loaded,
/// as Prometheus would; the first counts nothing. Rounds alternate which goes first, so that a drift
/// of the shared machine's load falls on both.
struct MetricsComparison: Codable, Sendable {
    var connections: Int
    var inFlight: Int
    var rounds: Int
    /// Medians of the rounds.
    var offChecksPerSecond: Double
    var onChecksPerSecond: Double
    /// The median of the per-round ratios on / off.
    var ratio: Double
    var scrapes: Int
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
                    connections: connections, pacing: .closed(depth: inFlight), warmUp: 0.3, seconds: seconds,
                    progress: Progress(label: "check \(connections) x \(inFlight), metrics \(metricsOn ? "on" : "off")",
                                       enabled: !self.quiet)
                )
                scraping?.cancel()
                scrapes += await scraping?.value ?? 0
                let rate = Double(tally.checks) / elapsed
                if metricsOn { on.append(rate) } else { off.append(rate) }
            }
        }
        return MetricsComparison(
            connections: connections, inFlight: inFlight, rounds: rounds,
            offChecksPerSecond: median(off), onChecksPerSecond: median(on),
            ratio: median(zip(on, off).map { $0 / $1 }), scrapes: scrapes
        )
    }
}
