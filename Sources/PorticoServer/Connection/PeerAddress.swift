import NIOCore

/// A connection's peer as the per-address limits count it: an IPv4 address, or the /64 of an IPv6
/// address (one host is commonly given a whole /64, so counting single IPv6 addresses would let it
/// open connections without end). An IPv4 address mapped into IPv6 counts as that IPv4 address.
struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    private enum Value: Hashable {
        case v4(UInt32)
        case v6(prefix: UInt64)
        /// Unix domain sockets and addresses not known: all one peer.
        case other
    }

    private let value: Value

    init(_ address: SocketAddress?) {
        switch address {
        case .v4(let ipv4):
            // sockaddr_in: family and port (4 bytes), then the address in network order.
            let bytes = withUnsafeBytes(of: ipv4.address) { Array($0[4..<8]) }
            self.value = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case .v6(let ipv6):
            // sockaddr_in6: family and port (4 bytes), flow information (4), then the 16-byte address.
            let bytes = withUnsafeBytes(of: ipv6.address) { Array($0[8..<24]) }
            let mappedV4 = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            if mappedV4 {
                self.value = .v4(bytes[12..<16].reduce(0) { $0 << 8 | UInt32($1) })
            } else {
                self.value = .v6(prefix: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) })
            }
        default:
            self.value = .other
        }
    }

    var description: String {
        switch self.value {
        case .v4(let address):
            (0..<4).reversed().map { String(address >> (8 * UInt32($0)) & 0xFF) }.joined(separator: ".")
        case .v6(let prefix):
            (0..<4).reversed().map { String(prefix >> (16 * UInt64($0)) & 0xFFFF, radix: 16) }.joined(separator: ":")
                + "::/64"
        case .other:
            "local"
        }
    }
}
