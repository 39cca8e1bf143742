#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Gives memory back to the system after clients made the server hold a lot of it.
///
/// glibc's allocator keeps the pages it has freed for later use: after a storm of connections or many
/// clients that did not read, the server's resident memory stayed at its high-water mark (30 MB at rest,
/// 70 MB during a soak of hostile clients, still 70 MB a minute after they left). `malloc_trim` returns
/// those pages (back to 32 MB in the same soak). It is called only after such an episode, at most once
/// per period, off the event loops.
struct MemoryTrim {
    /// Connections given back since the last trim that make one worth it.
    static let connectionsReleased = 200
    /// Output held for slow clients at some moment since the last trim that makes one worth it.
    static let outputHeld = 4 * 1024 * 1024

    private var releasedAtLastTrim = 0

    /// Whether to trim now, given the connections released so far and the most output held since the
    /// last check; records the trim if so.
    mutating func shouldTrim(released: Int, outputPeakSinceLastCheck: Int) -> Bool {
        let manyReleased = released - self.releasedAtLastTrim >= Self.connectionsReleased
        guard manyReleased || outputPeakSinceLastCheck >= Self.outputHeld else { return false }
        self.releasedAtLastTrim = released
        return true
    }

    /// Whether there is an allocator to ask (glibc's).
    static var isAvailable: Bool { Self.mallocTrim != nil }

    /// Returns the allocator's free pages to the system (glibc only; elsewhere nothing to do).
    static func trim() {
        _ = Self.mallocTrim?(0)
    }

    /// glibc's `malloc_trim`, looked up once: it is declared in malloc.h, which the Glibc module does not
    /// import, and a libc other than glibc (musl) has none.
    private static let mallocTrim: (@convention(c) (UInt) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") else { return nil }
        // Safe: the symbol is glibc's `int malloc_trim(size_t pad)`, and size_t is UInt on every Linux.
        return unsafeBitCast(symbol, to: (@convention(c) (UInt) -> Int32).self)
        #else
        return nil
        #endif
    }()
}
