public import PorticoReasons

/// A domain error: a transport-neutral code, a message, and optionally a machine-readable reason and
/// Meta's error code/subcode. The server maps `code` to a wire status in one place.
public struct PorticoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The canonical code (gRPC's names), kept open for additions by hiding the enum.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case invalidArgument = "INVALID_ARGUMENT"
            case notFound = "NOT_FOUND"
            case alreadyExists = "ALREADY_EXISTS"
            case permissionDenied = "PERMISSION_DENIED"
            case failedPrecondition = "FAILED_PRECONDITION"
            case resourceExhausted = "RESOURCE_EXHAUSTED"
            case unauthenticated = "UNAUTHENTICATED"
            case unavailable = "UNAVAILABLE"
            case deadlineExceeded = "DEADLINE_EXCEEDED"
            case `internal` = "INTERNAL"
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        public static let invalidArgument = Code(.invalidArgument)
        public static let notFound = Code(.notFound)
        public static let alreadyExists = Code(.alreadyExists)
        public static let permissionDenied = Code(.permissionDenied)
        public static let failedPrecondition = Code(.failedPrecondition)
        public static let resourceExhausted = Code(.resourceExhausted)
        public static let unauthenticated = Code(.unauthenticated)
        public static let unavailable = Code(.unavailable)
        public static let deadlineExceeded = Code(.deadlineExceeded)
        public static let `internal` = Code(.internal)

        /// The gRPC spelling, e.g. `PERMISSION_DENIED`.
        public var name: String { wrapped.rawValue }

        public var description: String { name }
    }

    /// Meta's numeric error code and subcode, where Meta defines one.
    public struct MetaCode: Hashable, Sendable {
        public var code: Int
        public var subcode: Int?

        public init(_ code: Int, subcode: Int? = nil) {
            self.code = code
            self.subcode = subcode
        }

        static let invalidTask = MetaCode(100, subcode: 1_752_129)
        static let invalidParameter = MetaCode(100)
        static let permission = MetaCode(200)
        static let tokenExpired = MetaCode(190, subcode: 463)
        static let tokenInvalid = MetaCode(190, subcode: 467)
    }

    public var code: Code
    public var message: String
    /// The machine-readable reason, from the one list of reasons (`ErrorReason`, docs/errors.md).
    public var errorReason: ErrorReason

    /// The reason's spelling, e.g. `SYSTEM_USER_LIMIT`.
    public var reason: String { errorReason.rawValue }

    /// Meta's code and subcode, as the list of reasons gives them for this one.
    public var meta: MetaCode? { errorReason.meta.map { MetaCode(Int($0.code), subcode: $0.subcode.map(Int.init)) } }

    /// - Parameter meta: what the caller expects Meta's code to be; the list of reasons decides it, and a
    ///   call site that disagrees with it (or a code that is not the reason's status) is a programming error.
    public init(_ code: Code, _ message: String, reason: ErrorReason, meta: MetaCode? = nil) {
        self.code = code
        self.message = message
        self.errorReason = reason
        assert(code.name == reason.status.name, "\(reason) is sent as \(reason.status.name), not \(code.name)")
        assert(meta == nil || meta == self.meta, "\(reason) has Meta code \(String(describing: self.meta))")
    }

    public var description: String {
        "\(code.name): \(message) [\(reason)]"
    }
}

extension PorticoError {
    static func notFound(_ what: String) -> PorticoError {
        PorticoError(.notFound, "\(what) does not exist", reason: .notFound, meta: .invalidParameter)
    }

    static func denied(_ message: String) -> PorticoError {
        PorticoError(.permissionDenied, message, reason: .permissionDenied, meta: .permission)
    }

    static func invalid(_ message: String, reason: ErrorReason = .invalidArgument) -> PorticoError {
        PorticoError(.invalidArgument, message, reason: reason, meta: .invalidParameter)
    }

    static func invalidTasks(_ tasks: TaskSet, for type: AssetType) -> PorticoError {
        PorticoError(.invalidArgument, "task combination not supported: \(tasks) on \(type.name)",
                     reason: .invalidTask, meta: .invalidTask)
    }

    static func precondition(_ message: String, reason: ErrorReason) -> PorticoError {
        PorticoError(.failedPrecondition, message, reason: reason)
    }
}
