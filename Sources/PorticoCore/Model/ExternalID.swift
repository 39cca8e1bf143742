import PorticoReasons

/// The kinds of entity that take an external id: the caller's own id for it.
public enum ExternalKind: UInt8, CaseIterable, Hashable, Sendable, Codable {
    case portfolio
    case person
    case systemUser
    case app
    case asset

    /// The audit target kind of the same entity.
    public var targetKind: AuditEvent.TargetKind {
        switch self {
        case .portfolio: .portfolio
        case .person: .person
        case .systemUser: .systemUser
        case .app: .app
        case .asset: .asset
        }
    }

    /// The spelling of the wire's `TargetKind` for the kind, e.g. `SYSTEM_USER`.
    public var name: String { targetKind.name }

    /// The kind of a principal.
    public init(_ kind: PrincipalKindTag) {
        self = kind == .person ? .person : .systemUser
    }
}

/// External ids: what a caller may use as its own id for an entity (docs/model.md, "External ids").
///
/// 1 to 128 characters from A-Z a-z 0-9 and `.` `_` `-` `:`: enough for an ad account's `act_1234567890`,
/// a Page's numeric id, a UUID or a URN-like `crm:user:42`, and ASCII only, so that an id compares as
/// bytes (Swift's `String ==` would equate, say, U+212A KELVIN SIGN with `K`) and spells the same in
/// every client, shell and log.
public enum ExternalID {
    /// Computed, not a stored `static let`: a lookup reads it without a `swift_once` call.
    @inlinable
    public static var maxLength: Int { 128 }

    /// Whether `text` is a well-formed external id. Allocates nothing: a check by external id runs it.
    @inlinable
    public static func isValid(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
            for byte in bytes where !isAllowed(byte) { return false }
            return true
        }
    }

    @inlinable
    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"),
            UInt8(ascii: ":"):
            true
        default:
            false
        }
    }

    /// Fails unless `text` is a well-formed external id.
    /// - Throws: INVALID_ARGUMENT (`INVALID_EXTERNAL_ID`).
    static func validate(_ text: String) throws {
        guard isValid(text) else {
            throw PorticoError.invalid(
                "an external id has 1 to \(maxLength) characters from A-Z a-z 0-9 . _ - :, not \"\(printable(text))\"",
                reason: .invalidExternalID)
        }
    }

    /// `text` cut short and with anything but printable ASCII escaped, for an error message.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(maxLength + 8) {
            out += (0x20..<0x7F).contains(scalar.value) ? String(scalar) : scalar.escaped(asASCII: true)
        }
        return out
    }
}
