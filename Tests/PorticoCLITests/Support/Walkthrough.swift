import Foundation
import Testing

/// The commands of a page as written: each fenced block after a `<!-- walkthrough: NAME -->` line.
struct Walkthrough {
    let page: String
    let blocks: [String: String]

    init(_ page: String) throws {
        self.page = page
        let text = try String(contentsOf: Locations.repository.appendingPathComponent(page), encoding: .utf8)
        var blocks: [String: String] = [:]
        var name: String?
        var body: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("<!-- walkthrough: "), line.hasSuffix(" -->") {
                name = String(line.dropFirst("<!-- walkthrough: ".count).dropLast(" -->".count))
            } else if line.hasPrefix("```"), let current = name {
                if let lines = body {
                    blocks[current] = lines.joined(separator: "\n") + "\n"
                    name = nil
                    body = nil
                } else {
                    body = []
                }
            } else if body != nil {
                body?.append(line)
            }
        }
        self.blocks = blocks
    }

    /// The block marked `name`.
    func block(_ name: String) throws -> String {
        guard let block = self.blocks[name] else { throw Missing(page: self.page, name: name) }
        return block
    }

    /// The block with each `from` replaced by its `to`, all at once (a replacement is never replaced again).
    func block(_ name: String, replacing substitutions: [(String, String)]) throws -> String {
        var text = try self.block(name)
        let marks = substitutions.indices.map { "\u{1}\($0)\u{1}" }
        for (index, (from, _)) in substitutions.enumerated() {
            text = text.replacingOccurrences(of: from, with: marks[index])
        }
        for (index, (_, to)) in substitutions.enumerated() {
            text = text.replacingOccurrences(of: marks[index], with: to)
        }
        return text
    }

    /// A script that runs `commands` as a shell would, stopping at the first failure, and stopping any
    /// background job it started when it ends.
    static func script(_ commands: String) -> String {
        "set -e\ntrap 'status=$?; set +e; kill $(jobs -p) 2>/dev/null; wait; exit $status' EXIT\n" + commands
    }

    /// Whether `output` shows the documented lines in order; a `...` line stands for any lines.
    static func shows(_ output: String, _ documented: String) -> Bool {
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false)[...]
        for expected in documented.split(separator: "\n") where expected.trimmingCharacters(in: .whitespaces) != "..." {
            guard let index = lines.firstIndex(of: expected) else { return false }
            lines = lines[(index + 1)...]
        }
        return true
    }

    struct Missing: Error, CustomStringConvertible {
        let page: String
        let name: String
        var description: String { "\(self.page) has no block marked <!-- walkthrough: \(self.name) -->" }
    }
}
