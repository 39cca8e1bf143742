public import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A swift-log handler that writes one JSON object per line, for log collectors:
/// `{"timestamp":"2026-01-31T12:00:00.123Z","level":"info","label":"portico","message":"…","fields":{…}}`.
///
/// `timestamp` is UTC with milliseconds; `fields` holds the line's metadata (the handler's, the
/// provider's, then the call's, later ones winning), nested values as JSON arrays and objects. Each line
/// is written with one `write(2)`, so lines from several threads do not interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let sink: @Sendable (String) -> Void

    /// A handler writing to standard error.
    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label) { line in Self.writeAll(line, to: 2) }
    }

    /// A handler handing each line (with its newline) to `write`.
    public init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.sink = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = self.metadata
        if let provided = self.metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let given = event.metadata { fields.merge(given) { $1 } }
        var line = "{\"timestamp\":\""
        line += Self.timestamp()
        line += "\",\"level\":\""
        line += event.level.rawValue
        line += "\",\"label\":"
        Self.appendString(self.label, to: &line)
        line += ",\"message\":"
        Self.appendString(event.message.description, to: &line)
        if !fields.isEmpty {
            line += ",\"fields\":"
            Self.appendObject(fields, to: &line)
        }
        line += "}\n"
        self.sink(line)
    }

    // MARK: JSON

    private static func appendValue(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let string): self.appendString(string, to: &line)
        case .stringConvertible(let convertible): self.appendString(convertible.description, to: &line)
        case .array(let values):
            line += "["
            for (index, value) in values.enumerated() {
                if index > 0 { line += "," }
                self.appendValue(value, to: &line)
            }
            line += "]"
        case .dictionary(let object): self.appendObject(object, to: &line)
        }
    }

    /// Keys in order, so that the same fields always read the same.
    private static func appendObject(_ object: Logger.Metadata, to line: inout String) {
        line += "{"
        for (index, key) in object.keys.sorted().enumerated() {
            if index > 0 { line += "," }
            self.appendString(key, to: &line)
            line += ":"
            self.appendValue(object[key]!, to: &line)
        }
        line += "}"
    }

    /// A JSON string (RFC 8259): quotes, backslashes and control characters escaped; everything else,
    /// non-ASCII included, as it is (the line is UTF-8).
    static func appendString(_ string: String, to line: inout String) {
        line += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: line.unicodeScalars.append(scalar)
            }
        }
        line += "\""
    }

    /// Now, in UTC: `2026-01-31T12:00:00.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
            + ".\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }

    /// Writes the whole line, retrying a short or interrupted write.
    private static func writeAll(_ line: String, to descriptor: Int32) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
