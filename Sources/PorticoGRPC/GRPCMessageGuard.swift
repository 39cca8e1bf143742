import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import PorticoReasons
import PorticoServer
import PorticoWire

/// Answers, with a gRPC status, the request messages grpc-swift's transport would only reset the stream
/// for (RST_STREAM CANCEL, which a client reads as CANCELLED): a message longer than the limit
/// (RESOURCE_EXHAUSTED, `FRAME_TOO_LARGE`, as on the native port) and a compressed one, which no
/// agreed encoding allows (INTERNAL, as gRPC's protocol asks).
///
/// It sits first in each HTTP/2 stream's pipeline and reads only the 5-byte prefix of each message as
/// DATA frames pass (a flag and a length, split across frames or not); everything else passes
/// unchanged. On a violation it writes the trailers-only answer, closes the stream and drops what
/// follows, so no byte of the oversized message is buffered anywhere.
final class GRPCMessageGuard: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let maxBytes: Int
    /// Bytes of the current message's prefix read so far.
    private var prefix: [UInt8] = []
    /// Bytes of the current message still to pass before the next prefix.
    private var remaining = 0
    private var refused = false
    /// Whether the request is gRPC at all; a request that is not is the transport's to answer (HTTP 415).
    private var isGRPC = false

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
        self.prefix.reserveCapacity(5)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.refused else { return }
        switch Self.unwrapInboundIn(data) {
        case .headers(let headers):
            self.isGRPC = headers.headers.first(name: "content-type")?.hasPrefix("application/grpc") ?? false
        case .data(let payload):
            if self.isGRPC, case .byteBuffer(let buffer) = payload.data, let violation = self.scan(buffer) {
                self.refuse(context: context, violation)
                return
            }
        default:
            break
        }
        context.fireChannelRead(data)
    }

    /// Walks the message prefixes in `buffer`; returns the first violation.
    private func scan(_ buffer: ByteBuffer) -> (status: Int, message: String, detail: ErrorDetail?)? {
        var index = buffer.readerIndex
        let end = buffer.writerIndex
        while index < end {
            if self.remaining > 0 {
                let skipped = min(self.remaining, end - index)
                self.remaining -= skipped
                index += skipped
                continue
            }
            self.prefix.append(buffer.getInteger(at: index, as: UInt8.self)!)
            index += 1
            guard self.prefix.count == 5 else { continue }
            let length = self.prefix[1...].reduce(0) { $0 << 8 | Int($1) }
            let compressed = self.prefix[0] != 0
            self.prefix.removeAll(keepingCapacity: true)
            if compressed {
                return (13, "a compressed message, but no grpc-encoding was agreed: send messages uncompressed", nil)
            }
            guard length <= self.maxBytes else {
                let failure = CallFailure(
                    .resourceExhausted,
                    "a message of \(length) bytes exceeds the limit of \(self.maxBytes)",
                    reason: .frameTooLarge
                )
                return (Int(failure.code.rawValue), failure.message, failure.detail)
            }
            self.remaining = length
        }
        return nil
    }

    /// Answers the call with `violation` in trailers only, then closes the stream.
    private func refuse(
        context: ChannelHandlerContext, _ violation: (status: Int, message: String, detail: ErrorDetail?)
    ) {
        self.refused = true
        var headers: HPACKHeaders = [
            ":status": "200", "content-type": "application/grpc", "grpc-status": "\(violation.status)",
            "grpc-message": Self.percentEncoded(violation.message),
        ]
        if let detail = violation.detail, let bytes = try? detail.encoded() {
            headers.add(name: GRPCMetadataKeys.errorDetail, value: Data(bytes).base64EncodedString())
        }
        let answer = HTTP2Frame.FramePayload.headers(.init(headers: headers, endStream: true))
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(Self.wrapOutboundOut(answer)).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }

    /// gRPC's percent-encoding of `grpc-message`: printable ASCII but `%` as is, every other byte `%XX`.
    static func percentEncoded(_ message: String) -> String {
        var out = ""
        for byte in message.utf8 {
            if (0x20...0x7e).contains(byte), byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

@available(*, unavailable)
extension GRPCMessageGuard: Sendable {}
