import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The data directory, held by one process at a time: an exclusive `flock` on `portico.lock` inside it,
/// taken when this value is made and kept until `release()` or the end of the process.
///
/// Two servers on one directory would each serve their own copy of the state (the second a stale one
/// forever, accepting a token the first revoked); an import into a served directory would replace the
/// database under the server. `flock` rather than `fcntl` locks: an `fcntl` lock belongs to the process,
/// so a second open in the same process would succeed and a close of any descriptor of the file would
/// drop it; a `flock` lock belongs to the open file description, so a second `DataDirectory` conflicts
/// even in the same process, and the kernel drops the lock when the process dies, however it dies.
public final class DataDirectory: Sendable {
    /// The lock file's name inside the data directory; it holds the holder's process id, for messages.
    public static let lockFileName = "portico.lock"

    /// The directory.
    public let path: String
    /// What an operator should know about the directory, e.g. that other users can read it.
    public let warnings: [String]
    // The lock's descriptor, -1 once released; Mutex makes release safe from any thread.
    private let descriptor: Mutex<Int32>

    /// Takes the directory, creating it (mode 0700) when missing.
    /// - Parameter create: false to refuse a directory that does not exist.
    /// - Throws: `StoreError` `.locked` naming the holder's process id when another holder has it,
    ///   `.cannotOpen` when the directory or the lock file cannot be made.
    public init(path: String, create: Bool = true) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard create else { throw StoreError(.cannotOpen, "no data directory at \(path)") }
            try Self.makeDirectory(path)
        } else if !isDirectory.boolValue {
            throw StoreError(.cannotOpen, "\(path) is not a directory")
        }
        var info = stat()
        var warnings: [String] = []
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            let mode = String(info.st_mode & 0o777, radix: 8)
            warnings.append(
                "the data directory \(path) is open to other users (mode \(mode)); its files are "
                    + "created 0600, but `chmod 700 \(path)` keeps them from listing it too")
        }
        self.warnings = warnings
        let lockPath = (path as NSString).appendingPathComponent(Self.lockFileName)
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw StoreError(.cannotOpen, "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard Self.lock(fd) else {
            let failure = errno
            let holder = Self.holder(fd)
            close(fd)
            guard failure == EWOULDBLOCK else {
                throw StoreError(.cannotOpen, "cannot lock \(lockPath): \(String(cString: strerror(failure)))")
            }
            throw StoreError(
                .locked,
                "the data directory \(path) is in use by another Portico process "
                    + "(pid \(holder.map(String.init) ?? "unknown"), holding \(lockPath)); stop it first")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = Mutex(fd)
    }

    deinit { release() }

    /// A path inside the directory.
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Lets another process take the directory. Idempotent.
    public func release() {
        let fd = descriptor.withLock { fd in
            defer { fd = -1 }
            return fd
        }
        if fd >= 0 { close(fd) }
    }

    /// Whether this value still holds the lock.
    public var isHeld: Bool { descriptor.withLock { $0 >= 0 } }

    /// Takes the lock without waiting, except when this process's own id is in the lock file: then the
    /// holder is most likely a child this process is starting, which holds a copy of a descriptor from
    /// fork until exec closes it (O_CLOEXEC), so a lock just released here may still be held there for a
    /// moment. That case is retried for up to a second; another process is refused at once.
    private static func lock(_ fd: Int32) -> Bool {
        for attempt in 0..<50 {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
            let failure = errno
            guard failure == EWOULDBLOCK, attempt < 49, holder(fd) == getpid() else {
                errno = failure
                return false
            }
            usleep(20_000)
        }
        return false
    }

    /// The process id the holder wrote into the lock file, if it wrote one yet.
    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Creates `path` with mode 0700 (its missing parents with the process's defaults).
    private static func makeDirectory(_ path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        do {
            if !parent.isEmpty {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            }
        } catch {
            throw StoreError(.cannotOpen, "cannot create \(parent): \(error.localizedDescription)")
        }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw StoreError(
                .cannotOpen, "cannot create the data directory \(path): \(String(cString: strerror(errno)))")
        }
    }
}
