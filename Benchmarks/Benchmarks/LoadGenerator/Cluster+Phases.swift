import Foundation
import Histogram
import PorticoWire

/// The write figures of `portico-bench postgres`, a value a round.
struct WriteFigures {
    var sqliteOne = RoundFigure(name: "SQLite, 1 writer", unit: "writes/s")
    var postgresOne = RoundFigure(name: "PostgreSQL, 1 writer on A", unit: "writes/s")
    var sqliteMany: RoundFigure
    var postgresMany: RoundFigure
    var postgresSpread: RoundFigure
    var latency: [String: Histogram<UInt64>] = [:]
    let writers: Int

    init(writers: Int) {
        self.writers = writers
        self.sqliteMany = RoundFigure(name: "SQLite, \(writers) writers", unit: "writes/s")
        self.postgresMany = RoundFigure(name: "PostgreSQL, \(writers) writers on A", unit: "writes/s")
        self.postgresSpread = RoundFigure(name: "PostgreSQL, \(writers) writers over A and B", unit: "writes/s")
    }

    var figures: [RoundFigure] {
        [self.sqliteOne, self.postgresOne, self.sqliteMany, self.postgresMany, self.postgresSpread].map(finished)
    }

    var ratios: [RoundRatio] {
        [
            RoundRatio("PostgreSQL / SQLite, 1 writer", self.postgresOne, self.sqliteOne),
            RoundRatio("PostgreSQL / SQLite, \(self.writers) writers", self.postgresMany, self.sqliteMany),
            RoundRatio("PostgreSQL over two nodes / on one, many writers", self.postgresSpread, self.postgresMany),
        ]
    }

    func summary(_ round: Int) -> String {
        "writes/s SQLite \(formatCount(self.sqliteOne.rounds[round]))/\(formatCount(self.sqliteMany.rounds[round])), "
            + "PostgreSQL \(formatCount(self.postgresOne.rounds[round]))/"
            + formatCount(self.postgresMany.rounds[round])
    }

    private func finished(_ figure: RoundFigure) -> RoundFigure {
        var figure = figure
        figure.median = median(figure.rounds)
        if let histogram = self.latency[figure.name] {
            figure.p50Micros = micros(histogram, 50)
            figure.p99Micros = micros(histogram, 99)
        }
        return figure
    }
}

/// The check figures: one node, then two at once with the same connections in all.
struct CheckFigures {
    var one: RoundFigure
    var two: RoundFigure
    var latency: [String: Histogram<UInt64>] = [:]

    init(connections: Int, inFlight: Int) {
        self.one = RoundFigure(name: "checks, A alone, \(connections) x \(inFlight)", unit: "checks/s")
        self.two = RoundFigure(
            name: "checks, A and B, \(connections / 2)+\(connections - connections / 2) x \(inFlight)", unit: "checks/s"
        )
        self.one.perCPUSecond = []
        self.two.perCPUSecond = []
    }

    var figures: [RoundFigure] {
        [self.one, self.two].map { figure in
            var figure = figure
            figure.median = median(figure.rounds)
            figure.perCPUSecondMedian = figure.perCPUSecond.map(median)
            if let histogram = self.latency[figure.name] {
                figure.p50Micros = micros(histogram, 50)
                figure.p99Micros = micros(histogram, 99)
            }
            return figure
        }
    }

    var ratios: [RoundRatio] { [RoundRatio("checks/s, two nodes / one", self.two, self.one)] }

    func summary(_ round: Int) -> String {
        "checks/s one node \(formatCount(self.one.rounds[round])), two \(formatCount(self.two.rounds[round]))"
    }
}

/// The replication-lag samples of every round.
struct LagSamples {
    var lag = nanosecondHistogram()
    var writes = nanosecondHistogram()
    var polls = nanosecondHistogram()
    var timeouts = 0

    var figure: LagFigure {
        LagFigure(
            samples: Int(self.lag.totalCount) + self.timeouts, timeouts: self.timeouts,
            p50Micros: micros(self.lag, 50), p90Micros: micros(self.lag, 90), p99Micros: micros(self.lag, 99),
            maxMicros: self.lag.totalCount == 0 ? 0 : Double(self.lag.max) / 1000,
            writeP50Micros: micros(self.writes, 50), pollP50Micros: micros(self.polls, 50))
    }
}

extension Cluster {
    /// One round of writes: SQLite and PostgreSQL (A) with one writer, then with many, then many over A and B.
    func measureWrites(into figures: inout WriteFigures, flipped: Bool) async throws {
        let sqliteCalls = try self.sqliteSet.writeCalls(1 << 14)
        let sharedCalls = try self.sharedSet.writeCalls(1 << 14)
        let writers = self.options.writers
        var pairs: [(WritableKeyPath<WriteFigures, RoundFigure>, [(NodeProcess, [PreparedCall], Int)])] = [
            (\.sqliteOne, [(self.sqlite, sqliteCalls, 1)]), (\.postgresOne, [(self.a, sharedCalls, 1)]),
            (\.sqliteMany, [(self.sqlite, sqliteCalls, writers)]), (\.postgresMany, [(self.a, sharedCalls, writers)]),
        ]
        if flipped { pairs = [pairs[1], pairs[0], pairs[3], pairs[2]] }
        pairs.append(
            (\.postgresSpread, [(self.a, sharedCalls, writers / 2), (self.b, sharedCalls, writers - writers / 2)]))
        for (path, targets) in pairs {
            let (tally, _) = try await self.load(figures[keyPath: path].name, targets, depth: 1)
            figures[keyPath: path].rounds.append(Double(tally.writes) / self.options.seconds)
            figures[keyPath: path].errors += tally.errors
            figures.latency[figures[keyPath: path].name, default: nanosecondHistogram()].add(tally.latency)
        }
    }

    /// One round of checks: A alone, then A and B at once (flipped: the other way round), with the nodes'
    /// CPU time over each window.
    func measureChecks(into figures: inout CheckFigures, flipped: Bool) async throws {
        let calls = try self.sharedSet.checkCalls(1 << 16, byToken: false)
        let total = self.options.connections
        var runs: [(WritableKeyPath<CheckFigures, RoundFigure>, [(NodeProcess, [PreparedCall], Int)])] = [
            (\.one, [(self.a, calls, total)]),
            (\.two, [(self.a, calls, total / 2), (self.b, calls, total - total / 2)]),
        ]
        if flipped { runs.reverse() }
        for (path, targets) in runs {
            let (tally, cpu) = try await self.load(figures[keyPath: path].name, targets, depth: self.options.inFlight)
            figures[keyPath: path].rounds.append(Double(tally.checks) / self.options.seconds)
            figures[keyPath: path].perCPUSecond?.append(Double(tally.checks) / max(cpu, 1e-3))
            figures[keyPath: path].errors += tally.errors
            figures.latency[figures[keyPath: path].name, default: nanosecondHistogram()].add(tally.latency)
        }
    }

    /// `samples` writes on A, one at a time; after each is acknowledged, B's GetServerInfo is polled until it
    /// shows the write's revision. The lag is from the acknowledgement to the first poll that shows it, so
    /// its resolution is one poll's round trip (reported beside it).
    func measureLag(into lag: inout LagSamples, samples: Int) async throws {
        let writer = self.a.client(key: self.key, connections: 1)
        let reader = self.b.client(key: self.key, connections: 1)
        defer {
            Task {
                await writer.close()
                await reader.close()
            }
        }
        let requests = self.sharedSet.writeRequests(samples)
        for request in requests {
            let sent = ContinuousClock.now
            let revision = try await writer.assignTasks(request).revision
            let acknowledged = ContinuousClock.now
            lag.writes.record(nanoseconds(acknowledged - sent))
            while true {
                let asked = ContinuousClock.now
                let reached = try await reader.getServerInfo().revision
                let now = ContinuousClock.now
                lag.polls.record(nanoseconds(now - asked))
                if reached >= revision {
                    lag.lag.record(nanoseconds(now - acknowledged))
                    break
                }
                if now - acknowledged > .seconds(10) {
                    lag.timeouts += 1
                    break
                }
            }
        }
    }

    /// Closed-loop load on every target at once for one window: their tallies merged, and the CPU seconds
    /// the targets' servers spent inside the window.
    private func load(_ label: String, _ targets: [(NodeProcess, [PreparedCall], Int)], depth: Int) async throws
        -> (ConnectionTally, Double)
    {
        let warmUp = 0.3
        let seconds = self.options.seconds
        let nodes = targets.map(\.0)
        // The CPU time at the window's edges, read beside the load (runLoad opens the window warmUp from now).
        let cpu = Task {
            try await Task.sleep(for: .seconds(warmUp))
            let start = nodes.map { $0.cpuSeconds() }
            try await Task.sleep(for: .seconds(seconds))
            return zip(nodes.map { $0.cpuSeconds() }, start).map { $0 - $1 }.reduce(0, +)
        }
        let quiet = self.options.quiet
        let tally = try await withThrowingTaskGroup(of: ConnectionTally.self) { group in
            for (node, calls, connections) in targets where connections > 0 {
                group.addTask {
                    try await runLoad(
                        group: self.group, host: "127.0.0.1", port: node.port, credential: self.key, calls: calls,
                        connections: connections, pacing: .closed(depth: depth), warmUp: warmUp, seconds: seconds,
                        progress: node === nodes[0] ? Progress(label: label, enabled: !quiet) : nil
                    ).tally
                }
            }
            return try await group.reduce(into: ConnectionTally()) { $0.add($1) }
        }
        return (tally, try await cpu.value)
    }
}

private func nanoseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
}
