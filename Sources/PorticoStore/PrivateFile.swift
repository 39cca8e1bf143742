import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files readable by their owner only from their first byte: created with `O_CREAT | O_EXCL` and mode
/// 0600, never created with the default mode and narrowed afterwards (a reader could open it in between
/// and keep the descriptor), and replaced by renaming a complete, synced temporary file.
public enum PrivateFile {
    /// The mode of every file Portico creates in the data directory.
    static let mode: mode_t = 0o600

    /// Creates `path`, which must not exist, holding `bytes`, synced to disk.
    /// - Throws: `StoreError` `.cannotOpen` (with the system's reason, e.g. that the file exists).
    public static func create(_ path: String, bytes: some Collection<UInt8>) throws {
        let fd = try openNew(path)
        do {
            try writeAll(fd, Array(bytes), path: path)
            try syncFile(fd, path: path)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        close(fd)
    }

    /// Opens a new file at `path` for writing, mode 0600; it must not exist.
    public static func openNew(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot create", path) }
        return fd
    }

    /// Writes all of `bytes` at the descriptor's position.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { throw failure("cannot write", path) }
                offset += written
            }
        }
    }

    /// Flushes the file's data to the disk.
    public static func syncFile(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw failure("cannot sync", path) }
    }

    /// Makes a rename or a new file in `directory` durable (the directory's entry, not the file's data).
    public static func syncDirectory(_ directory: String) throws {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot sync", directory) }
    }

    /// Narrows an existing file to mode 0600 when its group or others may use it (a file an older
    /// Portico created). - Returns: whether it changed the mode.
    @discardableResult
    public static func restrict(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o077 != 0 else { return false }
        return chmod(path, mode) == 0
    }

    private static func failure(_ what: String, _ path: String) -> StoreError {
        StoreError(.cannotOpen, "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
