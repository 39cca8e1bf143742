import Foundation
import PorticoWire

/// Prints answers: readable text built from the message's own fields, or JSON.
///
/// Both name fields as the proto files do: JSON with the proto's JSON names (`assetId`, enum values as
/// `ASSET_TASK_ANALYZE`), text with the proto's field names (`asset_id`) and enum values as the command
/// line takes them (`ANALYZE`, `ads_management`). Text quotes names, so that a name with spaces reads
/// as one value, and prints times as UTC dates.
enum Render {
    static func json(_ message: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(message) else { return #"{"error": "the answer cannot be encoded"}"# }
        return String(decoding: data, as: UTF8.self)
    }

    /// `key: value` lines for the message's fields, and a table for each list of messages.
    static func text(_ message: Any) -> String {
        var lines: [String] = []
        for child in Mirror(reflecting: message).children {
            guard let label = child.label else { continue }
            let key = Self.fieldName(label)
            if let rows = child.value as? any MessageList {
                if !rows.messages.isEmpty {
                    lines.append("\(key):")
                    lines.append(Self.table(rows.messages))
                } else if label != "explanation" {
                    // An explanation is there only when asked for; an empty list of anything else is news.
                    lines.append("\(key): (none)")
                }
            } else {
                lines.append("\(key): \(Self.cell(child.value, label: label))")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Rows of messages as columns under their field names, indented by two spaces.
    static func table(_ rows: [Any]) -> String {
        let labels = Mirror(reflecting: rows[0]).children.compactMap(\.label)
        let cells = rows.map { row in
            Mirror(reflecting: row).children.map { Self.cell($0.value, label: $0.label ?? "", nested: true) }
        }
        return Self.columns(labels.map(Self.fieldName), cells)
    }

    /// A header and rows as aligned columns, indented by two spaces.
    static func columns(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { index in
            max(header[index].count, rows.map { $0[index].count }.max() ?? 0)
        }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).map { "  " + $0 }.joined(separator: "\n")
    }

    /// One value as a table cell or after `key:`.
    /// - Parameters:
    ///   - label: the Swift name of the field, which says whether an integer is a time.
    ///   - nested: whether the value is a field of a message in a cell; a message there is in braces.
    static func cell(_ value: Any, label: String = "", nested: Bool = false) -> String {
        if let value = value as? any CommandLineEnum { return value.defaultValueDescription }
        if let value = value as? any WireEnum { return Self.shortName(value) }
        if let values = value as? [Any] {
            return values.isEmpty ? "-" : values.map { Self.cell($0) }.joined(separator: ",")
        }
        if let value = value as? Bool { return value ? "yes" : "no" }
        if let value = value as? String { return value.isEmpty ? "-" : Self.text(value, quoted: label == "name") }
        if let value = value as? Int64, let time = Self.time(value, label: label) { return time }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return "-" }
            return Self.cell(wrapped, label: label, nested: nested)
        }
        if value is any WireMessage {
            // Inside a cell, unset fields (0, empty) are left out: `kind=OPERATOR`, not four columns of zeros.
            let fields = mirror.children.compactMap { child -> String? in
                guard let label = child.label else { return nil }
                let text = Self.cell(child.value, label: label, nested: true)
                return text == "0" || text == "-" ? nil : "\(Self.fieldName(label))=\(text)"
            }
            if fields.isEmpty { return "-" }
            let joined = fields.joined(separator: " ")
            return nested ? "{\(joined)}" : joined
        }
        if mirror.displayStyle == .enum, let associated = mirror.children.first {
            // A oneof: `personID(7)` reads `person_id=7`.
            return "\(Self.fieldName(associated.label ?? ""))=\(Self.cell(associated.value))"
        }
        return "\(value)"
    }

    /// A string as printed: a name in double quotes with JSON's escapes, so that it reads as one value
    /// however many spaces it has; any other string as it is, but for control characters, which are
    /// escaped too so that a terminal never interprets them.
    static func text(_ value: String, quoted: Bool) -> String {
        guard quoted || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return value
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "\"\"" }
        let json = String(decoding: data, as: UTF8.self)
        return quoted ? json : String(json.dropFirst().dropLast())
    }

    /// A `…UnixMicros` or `…UnixMillis` field as an ISO 8601 UTC time; 0 is "never" for an expiry, "-"
    /// otherwise. Nil for any other integer.
    static func time(_ value: Int64, label: String) -> String? {
        let seconds: Double
        if label.hasSuffix("UnixMicros") {
            seconds = Double(value) / 1_000_000
        } else if label.hasSuffix("UnixMillis") {
            seconds = Double(value) / 1_000
        } else {
            return nil
        }
        if value == 0 { return label.hasPrefix("expires") ? "never" : "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    /// The proto field name of a Swift property: `assetID` is `asset_id`, `startedAtUnixMicros` is
    /// `started_at_unix_micros`.
    static func fieldName(_ label: String) -> String {
        var name = ""
        var previous: Character?
        for character in label {
            if character.isUppercase, let before = previous, before.isLowercase || before.isNumber {
                name += "_"
            }
            name += character.lowercased()
            previous = character
        }
        return name
    }

    /// The value's name without its enum's prefix: `ANALYZE` for `ASSET_TASK_ANALYZE`.
    static func shortName(_ value: some WireEnum) -> String {
        let name = value.protoValueName
        let prefix = Self.enumPrefix(type(of: value))
        return name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
    }

    /// `ASSET_TASK_` for `portico.v1.AssetTask`.
    static func enumPrefix<E: WireEnum>(_ type: E.Type) -> String {
        let last = E.protoName.split(separator: ".").last.map(String.init) ?? ""
        return Self.fieldName(last).uppercased() + "_"
    }
}

/// A repeated message field, whatever its element type, even when empty (an empty `[ExplainStep]` is
/// also an `[any WireEnum]` to `as?`, so casts cannot tell).
protocol MessageList {
    var messages: [Any] { get }
}

extension Array: MessageList where Element: WireMessage {
    var messages: [Any] { self }
}
