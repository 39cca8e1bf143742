/// Whether bytes are a string Portico accepts: well-formed UTF-8 (the Unicode standard's table 3-7:
/// no overlong forms, no surrogates, nothing past U+10FFFF) with no NUL, which a C string would cut.
///
/// Checked in place, allocating nothing, eight ASCII bytes at a time: credentials, tokens and names are
/// nearly always ASCII.
enum UTF8Check {
    enum Outcome {
        case valid
        case nul
        case invalid
    }

    private static let highBits: UInt64 = 0x8080_8080_8080_8080
    private static let lowBits: UInt64 = 0x0101_0101_0101_0101

    static func check(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Outcome {
        let raw = UnsafeRawPointer(bytes)
        var index = 0
        while index + 8 <= count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // A byte with its high bit set, or a zero byte (the classic has-zero-byte test, exact for
            // words whose bytes are all below 0x80).
            if word & Self.highBits != 0 || (word &- Self.lowBits) & ~word & Self.highBits != 0 { break }
            index += 8
        }
        while index < count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte == 0 { return .nul }
                index += 1
                continue
            }
            guard let length = Self.sequence(bytes + index, count - index) else { return .invalid }
            index += length
        }
        return .valid
    }

    /// The length of the well-formed multi-byte sequence at `bytes`, or nil.
    @inline(__always)
    private static func sequence(_ bytes: UnsafePointer<UInt8>, _ available: Int) -> Int? {
        let lead = bytes[0]
        func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            offset < available && bytes[offset] >= low && bytes[offset] <= high
        }
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : nil
        case 0xE0:
            return continuation(1, 0xA0) && continuation(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : nil
        case 0xED:
            return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : nil
        case 0xF0:
            return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF4:
            return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : nil
        default:
            return nil
        }
    }
}
