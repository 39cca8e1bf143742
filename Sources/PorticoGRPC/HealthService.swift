import GRPCCore
import PorticoReasons
import PorticoServer
import PorticoWire
import Synchronization

/// gRPC's standard health service (`grpc.health.v1.Health`, proto/grpc/health/v1/health.proto), so that
/// Kubernetes' gRPC probes, grpc_health_probe and load balancers can ask about the endpoint.
///
/// It knows the server as a whole (`""`) and `portico.v1.Portico`: both SERVING while the endpoint
/// takes calls, NOT_SERVING from the start of a shutdown, so that a balancer stops sending before the
/// connections drain. Check and Watch need no credential, as probes carry none.
struct HealthService: RegistrableRPCService {
    static let name = "grpc.health.v1.Health"
    /// The services the health service answers about.
    static let services: Set<String> = ["", PorticoService.name]

    let status: ServingState

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let status = self.status
        router.registerHandler(
            forMethod: MethodDescriptor(fullyQualifiedService: Self.name, method: "Check"),
            deserializer: WireDeserializer<HealthCheckRequest>(),
            serializer: WireSerializer<HealthCheckResponse>()
        ) { request, _ in
            do {
                let asked = try await Self.single(request.messages)
                guard Self.services.contains(asked.service) else {
                    throw RPCError(code: .notFound, message: "unknown service '\(asked.service.prefix(256))'")
                }
                return StreamingServerResponse(
                    single: ServerResponse(message: HealthCheckResponse(status: status.current)))
            } catch {
                return StreamingServerResponse(error: Self.rpcError(error))
            }
        }
        router.registerHandler(
            forMethod: MethodDescriptor(fullyQualifiedService: Self.name, method: "Watch"),
            deserializer: WireDeserializer<HealthCheckRequest>(),
            serializer: WireSerializer<HealthCheckResponse>()
        ) { request, context in
            let asked: HealthCheckRequest
            do {
                asked = try await Self.single(request.messages)
            } catch {
                return StreamingServerResponse(error: Self.rpcError(error))
            }
            return StreamingServerResponse { writer in
                guard Self.services.contains(asked.service) else {
                    // The protocol's answer for a service unknown now: say so, and keep the call open.
                    try await writer.write(HealthCheckResponse(status: .serviceUnknown))
                    try await context.cancellation.cancelled
                    return [:]
                }
                let updates = status.updates()
                try await withRPCCancellationHandler {
                    for await current in updates.stream {
                        try await writer.write(HealthCheckResponse(status: current))
                    }
                } onCancelRPC: {
                    updates.stop()
                }
                return [:]
            }
        }
    }

    private static func single(_ messages: RPCAsyncSequence<HealthCheckRequest, any Error>) async throws
        -> HealthCheckRequest
    {
        var iterator = messages.makeAsyncIterator()
        guard let message = try await iterator.next(), try await iterator.next() == nil else {
            throw RPCError(code: .invalidArgument, message: "a health call carries one request message")
        }
        return message
    }

    private static func rpcError(_ error: any Error) -> RPCError {
        if let error = error as? RPCError { return error }
        return CallFailure(any: error).rpcError
    }
}

/// The serving status the health service reports, and the watchers to tell when it changes.
final class ServingState: Sendable {
    private struct State {
        var current = HealthCheckResponse.ServingStatus.serving
        var watchers: [Int: AsyncStream<HealthCheckResponse.ServingStatus>.Continuation] = [:]
        var nextWatcher = 0
    }

    private let state = Mutex(State())

    /// The status now.
    var current: HealthCheckResponse.ServingStatus { self.state.withLock { $0.current } }

    /// Sets the status, and tells every watcher if it changed.
    func set(_ status: HealthCheckResponse.ServingStatus) {
        let watchers = self.state.withLock { state -> [AsyncStream<HealthCheckResponse.ServingStatus>.Continuation] in
            guard state.current != status else { return [] }
            state.current = status
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// The status now, then each change, until ``Updates/stop()``. A watcher that reads slowly sees the
    /// newest status, never a backlog: each holds at most one status not yet read.
    func updates() -> Updates {
        let (stream, continuation) = AsyncStream.makeStream(
            of: HealthCheckResponse.ServingStatus.self,
            bufferingPolicy: .bufferingNewest(1)
        )
        let id = self.state.withLock { state in
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = continuation
            continuation.yield(state.current)
            return state.nextWatcher
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
        }
        return Updates(stream: stream, continuation: continuation)
    }

    struct Updates: Sendable {
        let stream: AsyncStream<HealthCheckResponse.ServingStatus>
        let continuation: AsyncStream<HealthCheckResponse.ServingStatus>.Continuation

        func stop() { self.continuation.finish() }
    }
}
