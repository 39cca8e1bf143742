import CheckEngineSet
import PorticoCore

/// The check engine's instructions per check by principal, uniform and Zipf, beside a plain hash-map
/// probe of the same (principal, asset) keys in the same query order (``ReferenceIndex``): the
/// CheckEngine benchmark's set and queries, on 50 portfolios (50,000 assignments) instead of 1,000,
/// since instructions do not grow with the set (cache misses do, and callgrind does not count them).
enum EngineCost {
    /// When the checks happen: a fixed time, as the CheckEngine benchmarks use (no token here expires).
    static let now = Timestamp(milliseconds: 1_750_000_000_000)

    static func run(_ phase: String, queries count: Int) throws {
        let parts = phase.split(separator: "-")
        guard parts.count == 2, ["engine", "reference"].contains(parts[0]), ["uniform", "zipf"].contains(parts[1])
        else {
            throw Failure("no phase \(phase): engine-uniform, reference-uniform, engine-zipf, reference-zipf")
        }
        let dataset = try blocking { try await Dataset.build(portfolios: 50, auditFlips: 0) }
        let snapshot = dataset.portico.snapshot
        let queries = Array((parts[1] == "zipf" ? dataset.zipfQueries : dataset.queries).prefix(count))
        let engine = parts[0] == "engine"
        // Warm: the same queries once, uncounted.
        var allowed = engine ? Self.checks(snapshot, queries) : Self.probes(dataset.reference, queries)
        measured(phase, calls: queries.count, checks: queries.count) {
            allowed &+= engine ? Self.checks(snapshot, queries) : Self.probes(dataset.reference, queries)
        }
        print("allowed \(allowed)")
    }

    @inline(never)
    static func checks(_ snapshot: AccessSnapshot, _ queries: [Dataset.Query]) -> Int {
        var allowed = 0
        for query in queries
        where snapshot.check(principal: query.principal, asset: query.asset, task: query.task, now: Self.now).allowed {
            allowed &+= 1
        }
        return allowed
    }

    @inline(never)
    static func probes(_ reference: ReferenceIndex, _ queries: [Dataset.Query]) -> Int {
        var allowed = 0
        for query in queries where reference.allows(principal: query.principal, asset: query.asset, task: query.task) {
            allowed &+= 1
        }
        return allowed
    }
}
