import Foundation
public import PorticoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The checkpoint files of a data directory: `checkpoint-<revision, 20 digits>.pcp`, each written under
/// a temporary name (`.partial`), synced, renamed into place, and the directory synced, so that a file
/// with the final name is always whole. The newest `keep` are kept, so that a damaged newest one still
/// leaves its predecessor.
public struct CheckpointFiles: Sendable {
    static let prefix = "checkpoint-"
    static let suffix = ".pcp"

    public let directory: String
    /// How many checkpoints are kept (at least 1).
    public let keep: Int

    public init(directory: String, keep: Int = 2) {
        self.directory = directory
        self.keep = max(1, keep)
    }

    /// The file name of the checkpoint at `revision`.
    static func name(_ revision: Revision) -> String {
        let digits = String(revision)
        return prefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    /// The checkpoints present, newest first.
    public func list() -> [(revision: Revision, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Revision, String)? in
            guard name.hasPrefix(Self.prefix), name.hasSuffix(Self.suffix),
                  let revision = Revision(name.dropFirst(Self.prefix.count).dropLast(Self.suffix.count))
            else { return nil }
            return (revision, (directory as NSString).appendingPathComponent(name))
        }.sorted { $0.0 > $1.0 }
    }

    /// Writes `state` as the checkpoint of its revision, then removes all but the newest `keep`.
    /// - Returns: the file's path and size.
    @discardableResult
    public func write(_ state: AccessState, now: Timestamp) throws -> (path: String, bytes: Int) {
        let final = (directory as NSString).appendingPathComponent(Self.name(state.revision))
        let partial = final + ".partial"
        unlink(partial)
        let fd = try PrivateFile.openNew(partial)
        let size: Int
        do {
            size = try CheckpointWriter.write(state, to: fd, path: partial, now: now)
            try PrivateFile.syncFile(fd, path: partial)
        } catch {
            close(fd)
            unlink(partial)
            throw error
        }
        close(fd)
        guard rename(partial, final) == 0 else {
            let failure = StoreError(.cannotOpen, "cannot rename \(partial): \(String(cString: strerror(errno)))")
            unlink(partial)
            throw failure
        }
        try PrivateFile.syncDirectory(directory)
        prune()
        return (final, size)
    }

    /// Removes all but the newest `keep` checkpoints, and temporary files a crash left.
    func prune() {
        for (_, path) in list().dropFirst(keep) { unlink(path) }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix(Self.prefix) && name.hasSuffix(Self.suffix + ".partial") {
            unlink((directory as NSString).appendingPathComponent(name))
        }
    }

    /// The newest checkpoint that reads whole and is not beyond `revision` (the log's last), with a
    /// line for `report` about each one passed over.
    public func newest(upTo revision: Revision, report: (String) -> Void,
                       progress: (_ done: Int, _ total: Int) -> Void) -> (revision: Revision, state: AccessState)? {
        for (candidate, path) in list() {
            guard candidate <= revision else {
                report("checkpoint \(path) is at revision \(candidate), beyond the log's \(revision): not used")
                continue
            }
            do {
                let state = try CheckpointReader.read(path, progress: progress)
                guard state.revision == candidate else {
                    report("checkpoint \(path) holds revision \(state.revision), not \(candidate): not used")
                    continue
                }
                return (candidate, state)
            } catch {
                report("checkpoint \(path) is damaged (\(error)): using the previous one, or the whole log")
            }
        }
        return nil
    }
}
