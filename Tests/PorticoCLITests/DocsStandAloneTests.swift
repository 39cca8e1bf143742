import Foundation
import Testing

/// The pages a user reads stand alone: they point at nothing outside the repository, at no internal
/// note or issue, and every file and section they cite exists.
@Suite("docs stand alone")
struct DocsStandAloneTests {
    /// README.md, docs/*.md and the proto files, whose comments cite the docs.
    static var pages: [String] {
        let docs =
            (try? FileManager.default.contentsOfDirectory(
                atPath: Locations.repository.appendingPathComponent("docs").path)) ?? []
        let protos =
            (try? FileManager.default.contentsOfDirectory(
                atPath: Locations.repository.appendingPathComponent("proto/portico/v1").path)) ?? []
        return ["README.md", "docs/clients.md"] + docs.filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
            + protos.filter { $0.hasSuffix(".proto") }.map { "proto/portico/v1/" + $0 }
    }

    /// Paths the pages name that the build generates rather than the repository holds.
    static let generated: Set<String> = ["clients/python/portico/v1"]

    static func text(_ page: String) throws -> String {
        try String(contentsOf: Locations.repository.appendingPathComponent(page), encoding: .utf8)
    }

    @Test("no reference to notes outside the repository, nor to issues", arguments: Set(pages).sorted())
    func noOutsideReferences(_ page: String) throws {
        let text = try Self.text(page)
        for needle in ["shared/", "MODEL.md", "ARCHITECTURE.md", "STYLE.md", "SCALE-OUT.md", "the team"] {
            #expect(!text.contains(needle), "\(page) mentions \(needle)")
        }
        #expect(text.firstMatch(of: #/(?i)\bissues?\s+\#?\d+/#) == nil, "\(page) cites an issue number")
        #expect(text.firstMatch(of: /\]\(\.\.\/\.\.\//) == nil, "\(page) links outside the repository")
    }

    @Test("every repository path a page cites exists", arguments: Set(pages).sorted())
    func citedPathsExist(_ page: String) throws {
        let text = try Self.text(page)
        let folders = "Sources|Tests|proto|docs|clients|Benchmarks"
        let pattern = try Regex("`((?:\(folders))/[A-Za-z0-9_./+-]*[A-Za-z0-9_/])`")
        for match in text.matches(of: pattern) {
            guard let cited = match.output[1].substring.map(String.init) else { continue }
            let path = cited.hasSuffix("/") ? String(cited.dropLast()) : cited
            // A glob or a placeholder is not a file, nor is what `make python-client` generates.
            if path.contains("*") || path.contains("<") || Self.generated.contains(path) { continue }
            #expect(
                FileManager.default.fileExists(atPath: Locations.repository.appendingPathComponent(path).path),
                "\(page) cites \(cited), which does not exist")
        }
    }

    @Test(
        "every section a page cites as (docs/page.md, \"Section\") is a heading of that page",
        arguments: Set(pages).sorted())
    func citedSectionsExist(_ page: String) throws {
        let text = try Self.text(page)
        for match in text.matches(of: #/(docs/[a-z-]+\.md), "([^"]+)"/#) {
            let (cited, section) = (String(match.output.1), String(match.output.2))
            let target = try Self.text(cited)
            let headings = target.split(separator: "\n").filter { $0.hasPrefix("#") }
                .map { $0.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces) }
            #expect(
                headings.contains { $0.hasPrefix(section) },
                "\(page) cites \(cited), \"\(section)\", which has no such heading")
        }
    }
}
