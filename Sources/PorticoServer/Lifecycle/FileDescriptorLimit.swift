#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files (RLIMIT_NOFILE), which bounds connections: each is a file.
///
/// Under `ulimit -n 1024` a server allowing 1,024 connections met EMFILE first: accept failed, the
/// clients over the limit got no answer at all, and the server retried accept in a busy loop. So
/// `portico serve` raises the soft limit to the hard one at start-up, and the server keeps its
/// connection limit below what the files it may open allow, leaving room for its own.
public enum FileDescriptorLimit {
    /// Files the server needs besides its connections: standard streams, the listener, the store's
    /// database and journal files, the event loops' epoll and wake-up descriptors, the log, and
    /// connections being refused (each open for a moment to carry its GOAWAY).
    public static func headroom(eventLoops: Int) -> Int { 64 + 4 * eventLoops }

    /// The soft limit now; nil where it cannot be read or is unlimited.
    public static var current: Int? {
        var limit = rlimit()
        // RLIM_INFINITY is all bits set (C's cast of -1, which Swift does not import).
        guard getrlimit(Self.resource, &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    /// Raises the soft limit to the hard one. - Returns: the soft limit in force afterwards (nil if unlimited).
    @discardableResult
    public static func raiseToHardLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(Self.resource, &raised)
        }
        return Self.current
    }

    /// The connections the server can hold when `limit` files may be open: `configured`, or fewer.
    static func connections(configured: Int, limit: Int?, eventLoops: Int) -> Int {
        guard let limit else { return configured }
        return min(configured, max(1, limit - Self.headroom(eventLoops: eventLoops)))
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
