import Benchmark
import CheckEngineSet
import Foundation
import PorticoCore

// Built once in setup and only read afterwards, by one benchmark at a time.
nonisolated(unsafe) var dataset: Dataset?

/// The time every check is asked at: before every expiry (the set's assignments have none), as a
/// server passes its clock's time.
let checkTime = Timestamp(milliseconds: 1_750_000_000_000)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(10),
        maxIterations: 20
    )

    /// One check per inner iteration, by principal, on the million-assignment set; reported per check.
    for (name, skewed) in [("uniform", false), ("Zipf", true)] {
        Benchmark("Check by principal, \(name) (1M assignments)",
                  configuration: .init(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]),
                  closure: { benchmark in
                      let snapshot = dataset!.portico.snapshot
                      let queries = skewed ? dataset!.zipfQueries : dataset!.queries
                      let mask = queries.count - 1
                      var allowed = 0
                      benchmark.startMeasurement()
                      for index in benchmark.scaledIterations {
                          let query = queries[index & mask]
                          if snapshot.check(principal: query.principal, asset: query.asset, task: query.task,
                                            now: checkTime).allowed {
                              allowed &+= 1
                          }
                      }
                      benchmark.stopMeasurement()
                      blackHole(allowed)
                  },
                  setup: {
                      if dataset == nil { dataset = try await Dataset.build() }
                      if !skewed { report(dataset!) }
                  })
    }

    /// The same checks with the principal and the asset named by their external ids (a person's
    /// `u<portfolio>.<n>`, an ad account's `act_<10 digits>`): two lookups in the external id index, then the
    /// check by principal. Reported per check, against the check by ids above (goal: within 1.5x).
    for (name, skewed) in [("uniform", false), ("Zipf", true)] {
        Benchmark("Check by external ids, \(name) (1M assignments)",
                  configuration: .init(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]),
                  closure: { benchmark in
                      let snapshot = dataset!.portico.snapshot
                      let queries = skewed ? dataset!.zipfQueries : dataset!.queries
                      let mask = queries.count - 1
                      var allowed = 0
                      benchmark.startMeasurement()
                      for index in benchmark.scaledIterations {
                          let query = queries[index & mask]
                          if snapshot.check(principal: query.principalName, asset: query.assetName, task: query.task,
                                            now: checkTime).allowed {
                              allowed &+= 1
                          }
                      }
                      benchmark.stopMeasurement()
                      blackHole(allowed)
                  },
                  setup: {
                      if dataset == nil { dataset = try await Dataset.build() }
                  })
    }

    /// The reference: a plain hash-map probe over the same (principal, asset) keys, the same queries in the
    /// same order (`ReferenceIndex`). The check's time over the probe's is the figure that holds from one
    /// machine to the next (goal: at most 2x); the report prints it.
    for (name, skewed) in [("uniform", false), ("Zipf", true)] {
        Benchmark("Reference: hash-map probe, \(name) (1M assignments)",
                  configuration: .init(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])]),
                  closure: { benchmark in
                      let reference = dataset!.reference
                      let queries = skewed ? dataset!.zipfQueries : dataset!.queries
                      let mask = queries.count - 1
                      var allowed = 0
                      benchmark.startMeasurement()
                      for index in benchmark.scaledIterations {
                          let query = queries[index & mask]
                          if reference.allows(principal: query.principal, asset: query.asset, task: query.task) {
                              allowed &+= 1
                          }
                      }
                      benchmark.stopMeasurement()
                      blackHole(allowed)
                  },
                  setup: {
                      if dataset == nil { dataset = try await Dataset.build() }
                  })
    }

    /// A check by token as the server makes it: parse and hash the presented secret, find the token,
    /// then the check with the token's scopes. Reported per check. One malloc per check remains: swift-crypto's
    /// SHA256 keeps its BoringSSL context in a class instance (Digest_boring.swift, `DigestContext`).
    Benchmark("Check by token secret (1M assignments)",
              configuration: .init(scalingFactor: .kilo,
                                   thresholds: [.mallocCountTotal: .init(absolute: [.p90: 1])]),
              closure: { benchmark in
                  let snapshot = dataset!.portico.snapshot
                  let queries = dataset!.tokenQueries
                  let now = Timestamp(milliseconds: 0)
                  var allowed = 0
                  benchmark.startMeasurement()
                  for index in benchmark.scaledIterations {
                      let query = queries[index % queries.count]
                      guard let token = snapshot.token(presentedSecret: query.secret) else { continue }
                      if snapshot.check(token: token, asset: query.asset, task: query.task, now: now).allowed {
                          allowed &+= 1
                      }
                  }
                  benchmark.stopMeasurement()
                  precondition(allowed == benchmark.scaledIterations.count, "every token check should allow")
              },
              setup: {
                  if dataset == nil { dataset = try await Dataset.build() }
              })

    /// Memory, reported once: resident bytes the assignments added, per assignment (each with its
    /// audit event), and what one audit event alone costs.
    Benchmark("Memory per assignment (1M assignments)",
              configuration: .init(metrics: [.custom("resident bytes per assignment", useScalingFactor: false),
                                             .custom("resident bytes per audit event", useScalingFactor: false)],
                                   scalingFactor: .one, maxIterations: 1),
              closure: { benchmark in
                  let dataset = dataset!
                  let perAssignment = (dataset.residentAfterAssignments - dataset.residentBeforeAssignments)
                      / dataset.assignments
                  benchmark.measurement(.custom("resident bytes per assignment", useScalingFactor: false),
                                        perAssignment)
                  benchmark.measurement(.custom("resident bytes per audit event", useScalingFactor: false),
                                        Int(dataset.residentPerAuditEvent))
              },
              setup: {
                  if dataset == nil { dataset = try await Dataset.build() }
              })
}

/// Prints the memory figures and a ContinuousClock cross-check of the check cost (median of 9 runs).
func report(_ dataset: Dataset) {
    let snapshot = dataset.portico.snapshot
    /// Nanoseconds per query of `body` over every query: 9 runs, sorted (the median is the fifth).
    func nanoseconds(_ queries: [Dataset.Query], _ body: (Dataset.Query) -> Bool) -> [Double] {
        var runs: [Double] = []
        for _ in 0..<9 {
            var allowed = 0
            let elapsed = ContinuousClock().measure {
                for query in queries where body(query) { allowed &+= 1 }
            }
            blackHole(allowed)
            runs.append((Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
                / Double(queries.count))
        }
        return runs.sorted()
    }
    func line(_ name: String, _ queries: [Dataset.Query], external: Bool = false) -> String {
        let medians = nanoseconds(queries) { query in
            external
                ? snapshot.check(principal: query.principalName, asset: query.assetName, task: query.task,
                                 now: checkTime).allowed
                : snapshot.check(principal: query.principal, asset: query.asset, task: query.task,
                                 now: checkTime).allowed
        }
        let allowedShare = Double(queries.filter {
            snapshot.check(principal: $0.principal, asset: $0.asset, task: $0.task, now: checkTime).allowed
        }.count) / Double(queries.count)
        // The reference probe of the same queries, and the check as a multiple of it.
        let probe = nanoseconds(queries) {
            dataset.reference.allows(principal: $0.principal, asset: $0.asset, task: $0.task)
        }
        return """
            [CheckEngine] check by \(external ? "external ids" : "principal"), \(name), ContinuousClock, median of 9 \
            runs over \(queries.count) \
            queries: \(String(format: "%.1f", medians[4])) ns/check (min \(String(format: "%.1f", medians[0])), \
            max \(String(format: "%.1f", medians[8]))); allowed \(String(format: "%.0f", allowedShare * 100))%; \
            hash-map probe of the same queries \(String(format: "%.1f", probe[4])) ns: the check is \
            \(String(format: "%.2f", medians[4] / probe[4]))x the reference
            """
    }
    let perAssignment = Double(dataset.residentAfterAssignments - dataset.residentBeforeAssignments)
        / Double(dataset.assignments)
    let text = """
        [CheckEngine] assignments: \(dataset.assignments) (reference map: \(dataset.reference.count) keys), \
        revision \(snapshot.revision)
        \(line("uniform", dataset.queries))
        \(line("Zipf s=1", dataset.zipfQueries))
        \(line("uniform", dataset.queries, external: true))
        \(line("Zipf s=1", dataset.zipfQueries, external: true))
        [CheckEngine] resident memory per assignment (index + its audit event): \
        \(String(format: "%.0f", perAssignment)) bytes; per audit event alone: \
        \(String(format: "%.0f", dataset.residentPerAuditEvent)) bytes
        [CheckEngine] writes: \(String(format: "%.0f", dataset.assignsPerSecond)) assign commands/s through \
        Portico.execute while building the set (one at a time, the store discarding)

        """
    // The plugin captures the benchmark's output, so the cross-check goes to a file as well.
    let path = ProcessInfo.processInfo.environment["PORTICO_BENCH_REPORT"] ?? "/tmp/portico-check-engine.txt"
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    print(text)
}
