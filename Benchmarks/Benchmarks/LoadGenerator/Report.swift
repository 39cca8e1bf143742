import Foundation

/// An SVG chart of latency percentiles (log scale) against achieved throughput, one point per
/// open-loop rate.
func latencyChart(_ points: [Measurement], title: String) -> String {
    let width = 760.0
    let height = 420.0
    let left = 70.0
    let right = 20.0
    let top = 40.0
    let bottom = 50.0
    let plotWidth = width - left - right
    let plotHeight = height - top - bottom
    let series: [(String, String, KeyPath<Measurement, Double>)] = [
        ("p50", "#2b6cb0", \.p50), ("p99", "#dd6b20", \.p99), ("p99.9", "#c53030", \.p999),
    ]
    let maxX = max(1, (points.map(\.callsPerSecond).max() ?? 1) * 1.1)
    let values = points.flatMap { point in series.map { point[keyPath: $0.2] } }.filter { $0 > 0 }
    let lowY = pow(10, floor(log10(max(1, values.min() ?? 1))))
    let highY = pow(10, ceil(log10(max(10, values.max() ?? 10))))
    func x(_ value: Double) -> Double { left + value / maxX * plotWidth }
    func y(_ value: Double) -> Double {
        top + plotHeight - (log10(max(value, lowY)) - log10(lowY)) / (log10(highY) - log10(lowY)) * plotHeight
    }
    var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="22" text-anchor="middle" font-size="14">\(title)</text>

        """
    var decade = lowY
    while decade <= highY {
        svg += "<line x1=\"\(left)\" y1=\"\(y(decade))\" x2=\"\(width - right)\" y2=\"\(y(decade))\" stroke=\"#ddd\"/>"
        svg += "<text x=\"\(left - 6)\" y=\"\(y(decade) + 4)\" text-anchor=\"end\">\(formatMicros(decade))</text>\n"
        decade *= 10
    }
    for step in 0...5 {
        let value = maxX * Double(step) / 5
        svg += "<line x1=\"\(x(value))\" y1=\"\(top)\" x2=\"\(x(value))\" y2=\"\(top + plotHeight)\" stroke=\"#eee\"/>"
        svg += "<text x=\"\(x(value))\" y=\"\(top + plotHeight + 18)\" text-anchor=\"middle\">\(formatCount(value))</text>\n"
    }
    svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">achieved throughput (calls/s)</text>\n"
    svg += "<text transform=\"translate(16 \(top + plotHeight / 2)) rotate(-90)\" text-anchor=\"middle\">latency from when each call was due</text>\n"
    svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#999\"/>\n"
    for (index, (name, color, path)) in series.enumerated() {
        let coordinates = points.map { "\(x($0.callsPerSecond)),\(y($0[keyPath: path]))" }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(coordinates)\"/>\n"
        for point in points {
            svg += "<circle cx=\"\(x(point.callsPerSecond))\" cy=\"\(y(point[keyPath: path]))\" r=\"3\" fill=\"\(color)\"/>"
        }
        svg += "<text x=\"\(left + 10 + Double(index) * 70)\" y=\"\(top + 16)\" fill=\"\(color)\">\(name)</text>\n"
    }
    return svg + "</svg>\n"
}

/// A warning when the machine was busy with other work at the start (a load average above its cores):
/// its bare rates then read against a quiet run's only through the ratios.
func loadNote(_ machine: Machine) -> String {
    guard let load = Double(machine.loadAverage.split(separator: " ").first ?? ""), load > Double(machine.cores) else { return "" }
    return "**The machine was busy with other work** (load average \(machine.loadAverage) on \(machine.cores) cores): the bare "
        + "rates below are far from a quiet run's and do not compare with one; the ratios, measured in the same rounds, do.\n\n"
}

/// docs/benchmarks.md: the machine, the tables, the targets, the chart.
func markdownReport(_ report: Report, svg: String, command: String) -> String {
    func find(_ workload: Workload, _ connections: Int, _ inFlight: Int) -> Measurement? {
        report.measurements.first { $0.workload == workload && $0.connections == connections && $0.inFlight == inFlight }
    }
    func ratio(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "n/a" }
    let machine = report.machine
    var text = """
        # Benchmarks

        Written by `make bench` (`portico-bench \(command)`) on \(machine.date). Every figure below comes
        from this one run: client and server share the machine, so read the ratios (to ping, and for the
        mix, TLS and gRPC to check in clear on the native port, each measured in the same rounds; to Redis
        on the same loopback) before the bare rates.

        | machine | |
        |---|---|
        | CPU | \(machine.cpu), \(machine.cores) cores |
        | memory | \(machine.memory) |
        | kernel | \(machine.kernel) |
        | Swift | \(machine.swift) |
        | load average at the start | \(machine.loadAverage) |
        | setup | \(report.setup) |
        | data set | \(report.dataSet) |

        \(loadNote(machine))Closed-loop figures are medians of the rounds; latencies are HdrHistogram percentiles over all
        rounds, each call timed from when it was due (open loop: from its scheduled send time, so a stall
        counts against every call behind it, corrected for coordinated omission).

        ## Targets

        | target | measured | |
        |---|---|---|

        """
    var targets: [(String, String, Bool?)] = []
    for (connections, inFlight) in [(1, 1), (16, 1), (1, 16), (16, 16)] {
        if let check = find(.check, connections, inFlight), let value = check.ratioToPing {
            targets.append(("check RPC ≥ 90% of ping, \(connections) x \(inFlight)", ratio(value), value >= 0.9))
        }
    }
    for result in report.reference {
        if let check = find(.check, result.clients, result.pipeline) {
            let value = check.callsPerSecond / result.requestsPerSecond
            targets.append(("check RPC vs Redis SISMEMBER, \(result.clients) x \(result.pipeline)",
                            "\(formatCount(check.callsPerSecond))/s vs \(formatCount(result.requestsPerSecond))/s = \(ratio(value))", value >= 1))
        }
    }
    if let batch = report.measurements.first(where: { $0.workload == .batch }) {
        targets.append(("≥ 3M checks/s in batches of 100", "\(formatCount(batch.checksPerSecond)) checks/s", batch.checksPerSecond >= 3e6))
    }
    // Half saturation: the open-loop point offered closest to half the closed-loop 16 x 16 check rate.
    if let halfRate = find(.check, 16, 16).map({ $0.callsPerSecond / 2 }),
       let half = report.measurements.filter({ $0.loop == "open" }).min(by: { abs(($0.offeredRate ?? 0) - halfRate) < abs(($1.offeredRate ?? 0) - halfRate) }) {
        targets.append(("open loop at half saturation: p99 < 1 ms", "p99 \(formatMicros(half.p99)) at \(formatCount(half.callsPerSecond))/s", half.p99 < 1000))
    }
    if let mix = find(.mix, 16, 16), let value = mix.ratioToCheckOnly {
        targets.append(("99% checks / 1% durable writes: checks ≥ 80% of check-only",
                        "\(ratio(value)) (\(formatCount(mix.writesPerSecond)) durable writes/s, write p50 \(formatMicros(mix.writeP50 ?? 0)), p99 \(formatMicros(mix.writeP99 ?? 0)))",
                        value >= 0.8))
    }
    // No threshold is set for TLS and gRPC: the ratios are what the run measured.
    for (workload, name) in [(Workload.checkTLS, "check over TLS vs in clear"), (.grpcCheck, "check over gRPC vs native")] {
        for (connections, inFlight) in [(1, 1), (16, 1), (16, 16)] {
            guard let row = find(workload, connections, inFlight), let value = row.ratioToCheckOnly,
                  let check = find(.check, connections, inFlight) else { continue }
            targets.append(("\(name), \(connections) x \(inFlight)",
                            "\(ratio(value)) (\(formatCount(row.checksPerSecond)) vs \(formatCount(check.checksPerSecond)) checks/s; "
                                + "p99 \(formatMicros(row.p99)) vs \(formatMicros(check.p99)))", nil))
        }
    }
    if let metrics = report.metrics {
        targets.append(("check with metrics on ≥ 95% of off, \(metrics.connections) x \(metrics.inFlight)",
                        "\(metrics.summary); medians \(formatCount(metrics.onChecksPerSecond)) vs "
                            + "\(formatCount(metrics.offChecksPerSecond)) checks/s, \(metrics.scrapes) scrapes",
                        metrics.ratio >= 0.95))
    }
    for (name, value, met) in targets {
        text += "| \(name) | \(value) | \(met.map { $0 ? "met" : "**not met**" } ?? "") |\n"
    }
    text += """

        The in-process targets (check under 150 ns on a million assignments, zero allocations, memory per
        assignment) are the micro benchmarks' (`make bench-micro`, see `Benchmarks/README.md`). What metrics
        cost a check in instructions, which do not move with the machine's load, is counted by
        `make callgrind CALLGRIND_MODE=metrics` (`Benchmarks/README.md`, `docs/operations.md`).

        TLS: the native protocol over TLS 1.3 (swift-nio-ssl on both sides, a P-256 certificate made at
        start), a second server on the same core and event loop. gRPC: grpc-swift 2's client (one HTTP/2
        connection per "connection", its calls in flight as concurrent streams) against the gRPC endpoint
        on the same core and event loop; the generator's gRPC client costs far more of the shared cores
        than its native one, so the gRPC figures bound the endpoint from below.

        ## Results

        """
    func group(_ row: Measurement) -> String {
        row.loop == "open" ? "Open loop, \(row.workload.rawValue), \(row.connections) connections" : "Closed loop, \(row.connections) x \(row.inFlight ?? 0)"
    }
    var seen = Set<String>()
    for name in report.measurements.map(group) where seen.insert(name).inserted {
        text += "\n### \(name)\n\n```\n\(table(report.measurements.filter { group($0) == name }))\n```\n"
    }
    text += "\n![latency against throughput](\(URL(fileURLWithPath: svg).lastPathComponent))\n"
    if !report.reference.isEmpty {
        text += "\n## Reference: Redis on the same loopback\n\n| redis-benchmark SISMEMBER | requests/s |\n|---|---|\n"
        for result in report.reference {
            text += "| -c \(result.clients) -P \(result.pipeline) | \(formatCount(result.requestsPerSecond)) |\n"
        }
    }
    text += """

        ## Reproduce

        ```sh
        make bench                       # this file, docs/benchmarks.json and docs/benchmarks-latency.svg
        cd Benchmarks && swift build -c release --scratch-path ../.build-bench --product portico-bench
        ../.build-bench/release/portico-bench run --workload check --connections 16 --in-flight 16 --sweep 0.25,0.5,0.75,1
        ```

        """
    return text
}
