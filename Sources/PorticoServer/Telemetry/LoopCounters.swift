import NIOCore
import PorticoReasons
import PorticoWire

/// The call figures of one event loop: calls by method and status, their latency by method, checks by
/// decision reason, authentication failures by reason, connections refused.
///
/// Counted on the hot path, so counted where no other core looks: each event loop has its own block,
/// touched only on that loop, with plain loads and stores (no lock, no atomic, no cache line shared
/// with another core). A scrape asks each loop for a copy of its block, on the loop, and sums the
/// copies (``ServerMetrics``).
final class LoopCounters {
    /// The latency histogram's upper bounds, in nanoseconds: 1 µs to 10 s. A check answered from the
    /// snapshot takes a few microseconds of the loop; a durable write a few milliseconds.
    static let latencyBounds: [Int64] = [
        1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000, 250_000_000,
        500_000_000, 1_000_000_000, 2_500_000_000, 5_000_000_000, 10_000_000_000,
    ]

    /// Why a connection was refused before its first call.
    enum Refusal: Int, CaseIterable {
        case connectionLimit
        case addressLimit
        case shuttingDown

        var label: String {
            switch self {
            case .connectionLimit: "connections"
            case .addressLimit: "connections_per_address"
            case .shuttingDown: "shutting_down"
            }
        }
    }

    // Touched only on its loop, several times per call: the runtime's exclusivity checks would only add cost.
    @exclusivity(unchecked) private(set) var figures = CallFigures()

    /// Counts one answered call. - Parameter nanoseconds: from the frame taken to the answer written.
    func called(_ method: Method, _ status: StatusCode, nanoseconds: Int64) {
        let row = CallFigures.row(of: method)
        self.figures.calls[row * CallFigures.statusCount + Int(status.rawValue)] &+= 1
        var bucket = 0
        let bounds = Self.latencyBounds
        while bucket < bounds.count, nanoseconds > bounds[bucket] { bucket &+= 1 }
        self.figures.latency[row * CallFigures.bucketCount + bucket] &+= 1
        self.figures.latencySum[row] &+= nanoseconds
    }

    /// Counts the decisions a read answered with: one for a check, one per check of a batch; nothing
    /// for any other answer. In the router's code specialized for each RPC, the casts are decided when
    /// it is compiled.
    @inline(__always)
    func countDecisions<Response: WireMessage>(in response: Response) {
        if let check = response as? CheckPermissionResponse {
            self.figures.decisions[Int(check.reason.rawValue)] &+= 1
        } else if let batch = response as? BatchCheckPermissionsResponse {
            for result in batch.results { self.figures.decisions[Int(result.reason.rawValue)] &+= 1 }
        }
    }

    /// Counts one credential refused.
    func authenticationFailed(_ reason: String) {
        self.figures.authFailures[CallFigures.authFailureIndex[reason] ?? CallFigures.authFailureOther] &+= 1
    }

    func refused(_ refusal: Refusal) {
        self.figures.refusals[refusal.rawValue] &+= 1
    }
}

@available(*, unavailable)
extension LoopCounters: Sendable {}

/// The figures of one loop, or the sum of every loop's: a value, copied off a loop by the scrape.
struct CallFigures: Sendable, Equatable {
    /// Every method of the protocol, in order; a call of a method this server does not know counts as
    /// `unspecified` (it is answered UNIMPLEMENTED).
    static let methods = Method.allCases
    static let statusCount = StatusCode.allCases.count
    static let bucketCount = LoopCounters.latencyBounds.count + 1
    /// The reasons an authentication can fail with, then one for any other.
    static let authFailureReasons: [ErrorReason] =
        ErrorReason.allCases.filter { $0.status == .unauthenticated }
        + [.onBehalfOfNotAllowed]
    static let authFailureIndex: [String: Int] = Dictionary(
        uniqueKeysWithValues: authFailureReasons.enumerated().map { ($1.rawValue, $0) })
    static let authFailureOther = authFailureReasons.count

    /// A method's row: its place in `methods`, found by its raw value in one load.
    static func row(of method: Method) -> Int { Self.rows[Int(method.rawValue)] }
    private static let rows: [Int] = {
        var rows = [Int](repeating: 0, count: Int(Method.allCases.map(\.rawValue).max()!) + 1)
        for (row, method) in Method.allCases.enumerated() { rows[Int(method.rawValue)] = row }
        return rows
    }()

    /// Calls by method (row) and status code (column).
    var calls = [Int](repeating: 0, count: methods.count * statusCount)
    /// Latency by method (row) and bucket (column, not cumulative; the last is above every bound).
    var latency = [Int](repeating: 0, count: methods.count * bucketCount)
    /// Latency summed by method, in nanoseconds.
    var latencySum = [Int64](repeating: 0, count: methods.count)
    /// Checks by decision reason (the wire enum's raw value).
    var decisions = [Int](repeating: 0, count: Int(DecisionReason.allCases.map(\.rawValue).max()!) + 1)
    var authFailures = [Int](repeating: 0, count: authFailureReasons.count + 1)
    var refusals = [Int](repeating: 0, count: LoopCounters.Refusal.allCases.count)

    mutating func add(_ other: CallFigures) {
        Self.add(&self.calls, other.calls)
        Self.add(&self.latency, other.latency)
        Self.add(&self.latencySum, other.latencySum)
        Self.add(&self.decisions, other.decisions)
        Self.add(&self.authFailures, other.authFailures)
        Self.add(&self.refusals, other.refusals)
    }

    private static func add<T: FixedWidthInteger>(_ sum: inout [T], _ other: [T]) {
        for index in sum.indices { sum[index] &+= other[index] }
    }

    /// Calls of `method` answered with `status`.
    func calls(_ method: Method, _ status: StatusCode) -> Int {
        self.calls[Self.row(of: method) * Self.statusCount + Int(status.rawValue)]
    }
}
