import NIOCore
import PorticoWire

#if canImport(Glibc)
    import Glibc
#endif

/// A Portico connection on a plain blocking socket, driven from the main thread: the thread whose
/// instructions the callgrind script leaves out, so that what it counts is the server's alone.
///
/// A round writes its frames in one `send` (the server reads them in one read, as it does under load
/// with calls in flight) and reads until every answer is in.
final class BlockingConnection {
    private let socket: Int32
    private var input: [UInt8] = []
    private var nextCallID: UInt64 = 1
    private let arena = WireArena()

    init(port: Int) throws {
        self.socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard self.socket >= 0 else { throw Failure("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(self.socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure("connect to 127.0.0.1:\(port): errno \(errno)") }
        var one: Int32 = 1
        setsockopt(self.socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        try self.send(WirePreface.bytes)
    }

    deinit { close(self.socket) }

    /// The bytes of one request frame, with a fresh call id.
    func frame(method: PorticoWire.Method, body: [UInt8], credential: String) throws -> [UInt8] {
        let header = FrameHeader.request(callID: self.nextCallID, method: method, credential: credential)
        self.nextCallID += 1
        var buffer = ByteBuffer()
        try Frame(header: header, body: ByteBuffer(bytes: body)).write(into: &buffer, arena: self.arena)
        return buffer.readBytes(length: buffer.readableBytes)!
    }

    /// Sends `frames` in one write and reads one answer per frame.
    /// - Returns: the answers' headers and bodies, in the order they came.
    /// - Throws: when the server closes the connection or answers with a status other than OK.
    func round(_ frames: [UInt8], answers: Int) throws -> [(FrameHeader, [UInt8])] {
        try self.send(frames)
        var received: [(FrameHeader, [UInt8])] = []
        while received.count < answers {
            if let answer = try self.nextFrame() {
                guard answer.0.statusCode == .ok else {
                    throw Failure(
                        "call \(answer.0.callID): \(answer.0.statusCode.protoValueName) \(answer.0.statusMessage)")
                }
                received.append(answer)
                continue
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(self.socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Failure("the server closed the connection (errno \(errno))") }
            self.input.append(contentsOf: chunk[0..<count])
        }
        return received
    }

    private func nextFrame() throws -> (FrameHeader, [UInt8])? {
        guard self.input.count >= 8 else { return nil }
        let length = self.input[0..<4].reduce(0) { $0 << 8 | Int($1) }
        let headerLength = self.input[4..<8].reduce(0) { $0 << 8 | Int($1) }
        guard self.input.count >= 4 + length else { return nil }
        let header = try FrameHeader(decoding: self.input[8..<8 + headerLength])
        let body = Array(self.input[8 + headerLength..<4 + length])
        self.input.removeFirst(4 + length)
        return (header, body)
    }

    private func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(self.socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Failure("send: errno \(errno)") }
            sent += count
        }
    }
}

/// A failure of the measuring tool itself, said in words.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
