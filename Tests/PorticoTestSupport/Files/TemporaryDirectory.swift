import Foundation

/// A fresh directory under the system's temporary directory, removed when released (the store's and
/// the PostgreSQL store's tests).
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "store") {
        path = (NSTemporaryDirectory() as NSString)
            .appendingPathComponent("portico-\(label)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
