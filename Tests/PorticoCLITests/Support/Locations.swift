import Foundation
import Testing

/// Where the repository and the built `portico` are.
enum Locations {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The folder of the build products: the test bundle's, where SwiftPM put `portico` beside it.
    /// - Throws: when `portico` is not there, naming where it looked.
    static func products() throws -> URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        for folder in candidates
        where FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("portico").path) {
            return folder.standardizedFileURL
        }
        throw Missing(what: "the portico executable", looked: candidates.map(\.path))
    }

    static func portico() throws -> String { try Self.products().appendingPathComponent("portico").path }

    struct Missing: Error, CustomStringConvertible {
        let what: String
        let looked: [String]
        var description: String { "\(self.what) is not built: looked in \(self.looked.joined(separator: ", "))" }
    }
}

/// A scratch directory, removed when the value goes.
final class Scratch: Sendable {
    let url: URL

    init(_ name: String) throws {
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent("portico-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    var path: String { self.url.path }
    func file(_ name: String) -> String { self.url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: self.url) }
}
