import PorticoCore
import PorticoReasons
import PorticoWire

/// The counted call figures in Prometheus's text exposition format (version 0.0.4).
///
/// Written here rather than kept in swift-prometheus's registry: its counters and histograms are
/// atomics shared by every core, which the hot path must not touch, and a histogram there can only
/// record values one by one, not take the buckets the loops counted. Series that are still zero are
/// left out, as a client library leaves out labels never used.
enum Exposition {
    /// A method's label value: its RPC name, `METHOD_CHECK_PERMISSION` -> `CheckPermission`.
    static let methodLabels: [String] = CallFigures.methods.map { method in
        method.protoValueName.dropFirst("METHOD_".count).split(separator: "_")
            .map { $0.prefix(1) + $0.dropFirst().lowercased() }.joined()
    }
    /// A status code's label value, as gRPC names it: `STATUS_CODE_NOT_FOUND` -> `NOT_FOUND`.
    static let statusLabels: [String] = StatusCode.allCases.sorted { $0.rawValue < $1.rawValue }
        .map { String($0.protoValueName.dropFirst("STATUS_CODE_".count)) }
    /// The latency bounds in seconds, as `le` label values.
    static let boundLabels: [String] = LoopCounters.latencyBounds.map { seconds(nanoseconds: $0) }

    /// - Parameters:
    ///   - native: the native port's figures, summed over its loops.
    ///   - grpc: the gRPC endpoint's. Calls and their latency carry a `transport` label, `native` or
    ///     `grpc`; checks and authentication failures are counted over both, as one service answers them.
    static func render(native: CallFigures, grpc: CallFigures = CallFigures()) -> String {
        var out = ""
        out.reserveCapacity(8 * 1024)
        let transports = [("native", native), ("grpc", grpc)]
        self.family(
            &out, "portico_calls_total", "counter", "Calls answered, by transport, method and status code.")
        for (transport, figures) in transports {
            for (row, method) in self.methodLabels.enumerated() {
                for (code, status) in self.statusLabels.enumerated() {
                    let count = figures.calls[row * CallFigures.statusCount + code]
                    guard count > 0 else { continue }
                    out += "portico_calls_total{transport=\"\(transport)\",method=\"\(method)\","
                    out += "code=\"\(status)\"} \(count)\n"
                }
            }
        }
        self.family(
            &out, "portico_call_duration_seconds", "histogram",
            "Time from a call's request taken to its answer written, by transport and method.")
        for (transport, figures) in transports {
            for (row, method) in self.methodLabels.enumerated() {
                self.histogram(&out, figures, row: row, labels: "transport=\"\(transport)\",method=\"\(method)\"")
            }
        }
        var figures = native
        figures.add(grpc)
        self.family(&out, "portico_checks_total", "counter", "Checks decided, by decision and reason.")
        for reason in PorticoCore.DecisionReason.allCases {
            let count = figures.decisions[Int(WireMapping.wire(reason).rawValue)]
            guard count > 0 else { continue }
            let decision = reason.allows ? "allow" : "deny"
            out += "portico_checks_total{decision=\"\(decision)\",reason=\"\(reason.name)\"} \(count)\n"
        }
        self.family(
            &out, "portico_auth_failures_total", "counter", "Calls refused for their credential, by reason.")
        let reasons = CallFigures.authFailureReasons.map(\.rawValue) + ["OTHER"]
        for (index, reason) in reasons.enumerated() where figures.authFailures[index] > 0 {
            out += "portico_auth_failures_total{reason=\"\(reason)\"} \(figures.authFailures[index])\n"
        }
        self.family(
            &out, "portico_connections_refused_total", "counter",
            "Connections refused before their first call, by the limit that refused them.")
        for refusal in LoopCounters.Refusal.allCases {
            out +=
                "portico_connections_refused_total{limit=\"\(refusal.label)\"} \(figures.refusals[refusal.rawValue])\n"
        }
        return out
    }

    /// One method's latency histogram, when it has calls.
    private static func histogram(_ out: inout String, _ figures: CallFigures, row: Int, labels: String) {
        let buckets = figures.latency[row * CallFigures.bucketCount..<(row + 1) * CallFigures.bucketCount]
        let count = buckets.reduce(0, +)
        guard count > 0 else { return }
        var cumulative = 0
        for (bucket, bound) in zip(buckets, self.boundLabels + ["+Inf"]) {
            cumulative += bucket
            out += "portico_call_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
        }
        let sum = self.seconds(nanoseconds: figures.latencySum[row])
        out += "portico_call_duration_seconds_sum{\(labels)} \(sum)\n"
        out += "portico_call_duration_seconds_count{\(labels)} \(count)\n"
    }

    private static func family(_ out: inout String, _ name: String, _ type: String, _ help: String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    /// Nanoseconds as seconds in plain decimal (`0.0000025`), exact: Prometheus parses any float, and
    /// a person reading the page should not meet `2.5e-06`.
    static func seconds(nanoseconds: Int64) -> String {
        let whole = nanoseconds / 1_000_000_000
        var fraction = String(nanoseconds % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }
}
