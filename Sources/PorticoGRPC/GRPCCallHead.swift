import GRPCCore
import NIOCore
import PorticoReasons
import PorticoServer
import PorticoWire

/// What a gRPC call's metadata says that the native protocol's frame header says: the caller's
/// credential, the person a service acts for, and the deadline.
struct GRPCCallHead {
    /// The secret of `authorization: Bearer <secret>`; empty without that metadata.
    let credential: String
    /// The person of `portico-on-behalf-of-person-id`; 0 without it.
    let onBehalfOfPersonID: UInt64
    /// When the client stops waiting (`grpc-timeout` from when the call arrived); nil for none.
    let deadline: NIODeadline?
    /// The change's idempotency key (`portico-idempotency-key`); nil for none. The core checks its form.
    let idempotencyKey: String?

    /// - Parameter arrival: when the call's headers were read, which `grpc-timeout` counts from.
    /// - Throws: `CallFailure` UNAUTHENTICATED for an `authorization` that is not one `Bearer` secret,
    ///   INVALID_ARGUMENT for a malformed person id or deadline.
    init(metadata: Metadata, arrival: NIODeadline) throws(CallFailure) {
        self.credential = try Self.credential(metadata[stringValues: GRPCMetadataKeys.authorization])
        self.onBehalfOfPersonID = try Self.person(metadata[stringValues: GRPCMetadataKeys.onBehalfOfPersonID])
        self.deadline = try Self.timeout(metadata[stringValues: GRPCMetadataKeys.timeout]).map { arrival + $0 }
        var keys = metadata[stringValues: GRPCMetadataKeys.idempotencyKey].makeIterator()
        self.idempotencyKey = keys.next()
        guard keys.next() == nil else {
            throw CallFailure(
                .invalidArgument, "a call carries one \(GRPCMetadataKeys.idempotencyKey) at most",
                reason: .malformedHeader)
        }
    }

    private static func credential(_ values: Metadata.StringValues) throws(CallFailure) -> String {
        var iterator = values.makeIterator()
        guard let value = iterator.next() else { return "" }
        guard iterator.next() == nil else {
            throw Self.badAuthorization("the call carries more than one authorization value")
        }
        // RFC 6750: the scheme is case-insensitive; one or more spaces, then the secret, which has none.
        let bytes = Array(value.utf8)
        let scheme = Array("bearer".utf8)
        guard bytes.count > scheme.count, bytes[..<scheme.count].map({ $0 | 0x20 }) == scheme,
            bytes[scheme.count] == UInt8(ascii: " ")
        else {
            throw Self.badAuthorization("the authorization metadata must be 'Bearer <secret>'")
        }
        let secret = bytes[scheme.count...].drop { $0 == UInt8(ascii: " ") }
        guard !secret.isEmpty, !secret.contains(UInt8(ascii: " ")) else {
            throw Self.badAuthorization("the authorization metadata must be 'Bearer <secret>'")
        }
        return String(decoding: secret, as: UTF8.self)
    }

    private static func badAuthorization(_ message: String) -> CallFailure {
        CallFailure(.unauthenticated, message, reason: .credentialInvalid, metaCode: 190)
    }

    private static func person(_ values: Metadata.StringValues) throws(CallFailure) -> UInt64 {
        var iterator = values.makeIterator()
        guard let value = iterator.next() else { return 0 }
        guard iterator.next() == nil, let person = UInt64(value), person != 0 else {
            throw CallFailure(
                .invalidArgument,
                "\(GRPCMetadataKeys.onBehalfOfPersonID) must be one person id in decimal",
                reason: .malformedHeader
            )
        }
        return person
    }

    /// The longest deadline taken as it is; a longer one (8 digits of hours reach 11,000 years, past what
    /// a deadline can hold) is cut to it.
    static let longestTimeout: Int64 = 10 * 365 * 86_400 * 1_000_000_000

    /// gRPC's `grpc-timeout`: at most 8 digits, then H, M, S, m, u or n.
    static func timeout(_ values: Metadata.StringValues) throws(CallFailure) -> TimeAmount? {
        var iterator = values.makeIterator()
        guard let value = iterator.next() else { return nil }
        let digits = value.utf8.dropLast()
        guard iterator.next() == nil, (1...8).contains(digits.count),
            digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let amount = Int64(String(decoding: digits, as: UTF8.self))
        else {
            throw Self.badTimeout(value)
        }
        let nanosecondsPerUnit: Int64
        switch value.utf8.last {
        case UInt8(ascii: "H"): nanosecondsPerUnit = 3_600_000_000_000
        case UInt8(ascii: "M"): nanosecondsPerUnit = 60_000_000_000
        case UInt8(ascii: "S"): nanosecondsPerUnit = 1_000_000_000
        case UInt8(ascii: "m"): nanosecondsPerUnit = 1_000_000
        case UInt8(ascii: "u"): nanosecondsPerUnit = 1_000
        case UInt8(ascii: "n"): nanosecondsPerUnit = 1
        default: throw Self.badTimeout(value)
        }
        let (nanoseconds, overflow) = amount.multipliedReportingOverflow(by: nanosecondsPerUnit)
        return .nanoseconds(overflow ? Self.longestTimeout : min(nanoseconds, Self.longestTimeout))
    }

    private static func badTimeout(_ value: String) -> CallFailure {
        CallFailure(
            .invalidArgument,
            "grpc-timeout must be up to 8 digits and a unit (H, M, S, m, u, n), not '\(value.prefix(32))'",
            reason: .malformedHeader
        )
    }
}
