#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's resident memory and open files, read from /proc when scraped (Linux; nil elsewhere).
struct ProcessFigures {
    var residentBytes: Int?
    var openFiles: Int?
    var fileLimit: Int?

    static func current() -> ProcessFigures {
        ProcessFigures(
            residentBytes: Self.residentBytes(),
            openFiles: Self.openFiles(),
            fileLimit: FileDescriptorLimit.current
        )
    }

    /// /proc/self/statm's second field (resident pages) times the page size.
    static func residentBytes() -> Int? {
        let descriptor = open("/proc/self/statm", O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let fields = bytes[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The entries of /proc/self/fd, less the one the listing itself holds open.
    static func openFiles() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let dot = withUnsafeBytes(of: entry.pointee.d_name) { $0.first == UInt8(ascii: ".") }
            if !dot { count += 1 }
        }
        return max(0, count - 1)
    }
}
