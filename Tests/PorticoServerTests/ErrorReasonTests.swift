import Foundation
import PorticoReasons
import PorticoWire
import Testing

/// The one list of error reasons: docs/errors.md shows exactly it, every status it names is a wire
/// status, and no reason is written as a string anywhere else in the sources.
@Suite("Error reasons")
struct ErrorReasonTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The table docs/errors.md must hold between its markers, made from the list.
    static func table() -> String {
        var lines = ["| reason | status | Meta code | Meta subcode | when |", "|---|---|---|---|---|"]
        for reason in ErrorReason.allCases {
            let code = reason.meta.map { String($0.code) } ?? ""
            let subcode = reason.meta?.subcode.map { String($0) } ?? ""
            lines.append(
                "| `\(reason.rawValue)` | `\(reason.status.name)` (\(reason.status.rawValue)) | "
                    + "\(code) | \(subcode) | \(reason.meaning) |"
            )
        }
        return lines.joined(separator: "\n")
    }

    @Test("docs/errors.md lists every reason with its status and Meta code, as the code has them")
    func documented() throws {
        let page = try String(contentsOf: Self.root.appendingPathComponent("docs/errors.md"), encoding: .utf8)
        let begin = try #require(page.range(of: "<!-- reasons: begin -->\n"))
        let end = try #require(page.range(of: "<!-- reasons: end -->", range: begin.upperBound..<page.endIndex))
        let documented = String(page[begin.upperBound..<end.lowerBound]).trimmingCharacters(in: .newlines)
        #expect(
            documented == Self.table(),
            "docs/errors.md differs from ErrorReason; the table should read:\n\(Self.table())")
    }

    @Test("each reason's status is the wire status of the same number and name")
    func statuses() throws {
        for reason in ErrorReason.allCases {
            let wire = try #require(StatusCode(rawValue: reason.status.rawValue))
            #expect(wire.protoValueName == "STATUS_CODE_" + reason.status.name, "\(reason)")
        }
        #expect(Set(ErrorReason.allCases.map(\.rawValue)).count == ErrorReason.allCases.count)
    }

    @Test("no source writes a reason as a string literal: each comes from ErrorReason")
    func noLiteralReasons() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }
            .filter {
                $0.pathExtension == "swift" && !$0.path.contains("/Generated/") && !$0.path.contains("/PorticoReasons/")
            }
        #expect(files.count > 50)
        let literal = try Regex(#"(reason: |invalidArgument\(\s*)"[A-Z][A-Z0-9_]+""#)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: literal) {
                Issue.record("\(file.lastPathComponent): \(text[match.range]) (use ErrorReason)")
            }
        }
    }
}
