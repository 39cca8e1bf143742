import NIOCore
import PorticoCore
public import Prometheus
import Synchronization

/// A server's metrics, in Prometheus's text format: the figures the connections count on their event
/// loops (``LoopCounters``), summed when scraped, beside gauges read at the scrape and the store's
/// commit figures, which swift-prometheus keeps.
///
/// Made before the server and given to it (and to an ``OperationsEndpoint`` that serves it); a server
/// given none counts nothing on its hot path.
public final class ServerMetrics: Sendable {
    /// The metrics kept by swift-prometheus. A process may bootstrap swift-metrics with a
    /// `PrometheusMetricsFactory` on it, so that what its libraries record appears beside these.
    public let registry: PrometheusCollectorRegistry
    let loops = LoopCounterSet()
    /// The calls of the gRPC endpoint given these metrics, labelled `transport="grpc"` (the native
    /// port's, counted per loop in `loops`, are `transport="native"`).
    package let grpc = SharedCallCounters()
    private let commitDuration: DurationHistogram
    private let commitChanges: ValueHistogram
    private let publishDuration: DurationHistogram
    private let commitFailures: Counter
    private let connectionsOpen: Gauge
    private let callsInFlight: Gauge
    private let revision: Gauge
    private let ready: Gauge
    private let logHead: Gauge
    private let logLagRevisions: Gauge
    private let logLagSeconds: Gauge
    private let logLastContact: Gauge
    private let storeAvailable: Gauge
    private let residentMemory: Gauge
    private let openFiles: Gauge
    private let maxFiles: Gauge

    /// Store commits from 100 µs (memory) to 10 s (a disk that stalls).
    static let commitBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(10),
    ]
    /// Publishing a snapshot copies a few references: microseconds, more at millions of assignments.
    static let publishBuckets: [Duration] = [
        .microseconds(1), .microseconds(5), .microseconds(10), .microseconds(50), .microseconds(100),
        .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50),
    ]
    /// Group commit gathers every change that arrived while the previous batch was written.
    static let changeBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        func name(_ namespace: String, _ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: namespace, metricName: metric, unitName: unit, helpText: help)
        }
        self.registry = registry
        self.commitDuration = registry.makeDurationHistogram(
            descriptor: name(
                "portico", "store_commit", "seconds", "Time to make one batch of changes durable (group commit)."),
            buckets: Self.commitBuckets)
        self.commitChanges = registry.makeValueHistogram(
            descriptor: name("portico", "store_commit", "changes", "Changes in each batch the store committed."),
            buckets: Self.changeBuckets)
        self.publishDuration = registry.makeDurationHistogram(
            descriptor: name(
                "portico", "snapshot_publish", "seconds",
                "Time from a batch being durable to its snapshot answering checks."),
            buckets: Self.publishBuckets)
        self.commitFailures = registry.makeCounter(
            descriptor: name(
                "portico", "store_commit_failures", "total",
                "Batches the store failed to commit (their writes were answered UNAVAILABLE)."))
        self.connectionsOpen = registry.makeGauge(
            descriptor: name(
                "portico", "connections", "open", "Connections holding a place (open, or closed with calls running)."))
        self.callsInFlight = registry.makeGauge(
            descriptor: name(
                "portico", "calls", "in_flight", "Calls whose work has left the event loop and not finished."))
        self.revision = registry.makeGauge(
            descriptor: name("portico", "revision", "", "The revision of the snapshot checks are answered from."))
        self.ready = registry.makeGauge(
            descriptor: name("portico", "ready", "", "1 while the server serves (loaded, not draining), else 0."))
        self.logHead = registry.makeGauge(
            descriptor: name(
                "portico", "log_head", "revision",
                "The newest revision the change log is known to hold (shared log: as last heard from it)."))
        self.logLagRevisions = registry.makeGauge(
            descriptor: name(
                "portico", "log_lag", "revisions", "Revisions the log holds that this node has not applied yet."))
        self.logLagSeconds = registry.makeGauge(
            descriptor: name(
                "portico", "log_lag", "seconds",
                "How long this node has known of revisions it has not applied yet; 0 when caught up."))
        self.logLastContact = registry.makeGauge(
            descriptor: name(
                "portico", "log_last_contact", "seconds",
                "Seconds since this node last heard from its store (commit, notification, poll); -1 before the first."))
        self.storeAvailable = registry.makeGauge(
            descriptor: name(
                "portico", "store", "available", "1 while the store answers, 0 since its last failure."))
        self.residentMemory = registry.makeGauge(
            descriptor: name("process", "resident_memory", "bytes", "Resident memory of the process."))
        self.openFiles = registry.makeGauge(descriptor: name("process", "open", "fds", "Open file descriptors."))
        self.maxFiles = registry.makeGauge(descriptor: name("process", "max", "fds", "The limit of open files."))
    }

    /// Records one batch the store committed and its snapshot published.
    func committed(changes: Int, storeTime: Duration, publishTime: Duration) {
        self.commitDuration.record(storeTime)
        self.commitChanges.record(Double(changes))
        self.publishDuration.record(publishTime)
    }

    func commitFailed() {
        self.commitFailures.increment()
    }

    /// The page `/metrics` serves for `server` (the server this object was given to), read now.
    public func scrape(_ server: PorticoServer) async -> String {
        await self.scrape(server.scrapedState)
    }

    /// The whole exposition: every loop's counters summed (each asked on its own loop) beside the gRPC
    /// endpoint's, then the gauges read now and what the registry holds.
    func scrape(_ state: ScrapedState) async -> String {
        let figures = await self.loops.sum()
        let grpc = self.grpc.figures
        self.connectionsOpen.set(to: Double(state.connections))
        self.callsInFlight.set(to: Double(state.callsInFlight))
        self.revision.set(to: Double(state.revision))
        self.ready.set(to: state.ready ? 1 : 0)
        if let log = state.log {
            self.logHead.set(to: Double(log.headRevision))
            self.logLagRevisions.set(to: Double(log.headRevision - min(log.headRevision, log.appliedRevision)))
            self.logLagSeconds.set(to: Double(log.lag.nanoseconds) / 1e9)
            self.logLastContact.set(to: log.sinceLastContact.map { Double($0.nanoseconds) / 1e9 } ?? -1)
            self.storeAvailable.set(to: log.storeAvailable ? 1 : 0)
        }
        let process = ProcessFigures.current()
        if let rss = process.residentBytes { self.residentMemory.set(to: Double(rss)) }
        if let open = process.openFiles { self.openFiles.set(to: Double(open)) }
        if let limit = process.fileLimit { self.maxFiles.set(to: Double(limit)) }
        var text = Exposition.render(native: figures, grpc: grpc)
        text += self.registry.emitToString()
        return text
    }

    /// The native port's counted figures, summed over the loops, for tests and benchmarks.
    var callFigures: CallFigures {
        get async { await self.loops.sum() }
    }
}

/// What a scrape reads from the server at that moment.
struct ScrapedState: Sendable {
    var connections: Int
    var callsInFlight: Int
    var revision: UInt64
    var ready: Bool
    /// The node's store and log, once its core has loaded.
    var log: LogStatus?
}

/// The counters of each event loop that has served a connection, made on first use on that loop.
final class LoopCounterSet: Sendable {
    private let loops = Mutex<[(loop: any EventLoop, counters: NIOLoopBound<LoopCounters>)]>([])

    /// The counters of `eventLoop`; call on that loop (a connection does, once, when it is set up).
    func counters(for eventLoop: any EventLoop) -> LoopCounters {
        self.loops.withLock { loops in
            if let known = loops.first(where: { $0.loop === eventLoop }) { return known.counters.value }
            let counters = LoopCounters()
            loops.append((eventLoop, NIOLoopBound(counters, eventLoop: eventLoop)))
            return counters
        }
    }

    /// Every loop's figures, each copied on its own loop, summed. A loop that has shut down counts as
    /// nothing rather than failing the scrape.
    func sum() async -> CallFigures {
        let loops = self.loops.withLock { $0 }
        var total = CallFigures()
        for entry in loops {
            let counters = entry.counters
            if let figures = try? await entry.loop.submit({ counters.value.figures }).get() {
                total.add(figures)
            }
        }
        return total
    }
}
