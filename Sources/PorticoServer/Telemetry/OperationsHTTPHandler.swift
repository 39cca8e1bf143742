import NIOCore
import NIOHTTP1

/// Answers the requests of one connection to the operations endpoint, one at a time (NIO's pipelining
/// handler holds a pipelined request back until the answer before it has ended). Request bodies are
/// dropped as they arrive, never kept.
final class OperationsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let endpoint: OperationsEndpoint
    private var request: HTTPRequestHead?

    init(endpoint: OperationsEndpoint) {
        self.endpoint = endpoint
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
        case .body:
            break
        case .end:
            guard let head = self.request else { return }
            self.request = nil
            self.answer(head, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let endpoint = self.endpoint
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let method = head.method
        let keepAlive = head.isKeepAlive
        let version = head.version
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: (HTTPResponseStatus, String, String).self)
        promise.completeWithTask { await endpoint.respond(method: method, path: path) }
        promise.futureResult.whenSuccess { status, contentType, text in
            let context = bound.value
            var body = context.channel.allocator.buffer(capacity: text.utf8.count)
            body.writeString(text)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: "\(body.readableBytes)")
            headers.add(name: "Cache-Control", value: "no-store")
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            let head = HTTPResponseHead(version: version, status: status, headers: headers)
            context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
            if method != .HEAD {
                context.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            }
            let ended = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
            if !keepAlive {
                ended.whenComplete { _ in bound.value.close(promise: nil) }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension OperationsHTTPHandler: Sendable {}
