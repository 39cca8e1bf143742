import Foundation
import PorticoWire

/// Prints answers: readable text built from the message's own fields, or JSON.
enum Render {
    static func json(_ message: some WireMessage) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(message), as: UTF8.self)
    }

    /// `key: value` lines for the message's fields, and a table for each list of messages.
    static func text(_ message: Any) -> String {
        var lines: [String] = []
        for child in Mirror(reflecting: message).children {
            guard let label = child.label else { continue }
            if let rows = child.value as? [Any], let first = rows.first, Self.isMessage(first) {
                lines.append("\(label):")
                lines.append(Self.table(rows))
            } else if let rows = child.value as? [Any], rows.isEmpty, !(child.value is [any WireEnum]) {
                lines.append("\(label): (none)")
            } else {
                lines.append("\(label): \(Self.cell(child.value))")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func isMessage(_ value: Any) -> Bool { value is any WireMessage }

    static func table(_ rows: [Any]) -> String {
        let columns = Mirror(reflecting: rows[0]).children.compactMap(\.label)
        let cells = rows.map { row in Mirror(reflecting: row).children.map { Self.cell($0.value) } }
        let widths = columns.indices.map { index in max(columns[index].count, cells.map { $0[index].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(columns)] + cells.map(line)).map { "  " + $0 }.joined(separator: "\n")
    }

    /// One value as a table cell or after `key:`.
    static func cell(_ value: Any) -> String {
        if let value = value as? any WireEnum { return Self.shortName(value) }
        if let values = value as? [Any] { return values.isEmpty ? "-" : values.map(Self.cell).joined(separator: ",") }
        if let value = value as? Bool { return value ? "yes" : "no" }
        if let value = value as? String { return value.isEmpty ? "-" : value }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return "-" }
            return Self.cell(wrapped)
        }
        if value is any WireMessage {
            return mirror.children.compactMap { child in child.label.map { "\($0)=\(Self.cell(child.value))" } }.joined(separator: " ")
        }
        if mirror.displayStyle == .enum, let associated = mirror.children.first {
            return "\(associated.label ?? "")=\(Self.cell(associated.value))"
        }
        return "\(value)"
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
        var snake = ""
        for (index, character) in last.enumerated() {
            if character.isUppercase && index > 0 { snake += "_" }
            snake += character.uppercased()
        }
        return snake + "_"
    }
}
