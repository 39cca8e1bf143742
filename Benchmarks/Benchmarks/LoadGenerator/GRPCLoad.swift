import ArgumentParser
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import PorticoWire

/// Sends a request body encoded once, as it is: the gRPC generator spends no more on encoding than the
/// native one, which writes the same bodies.
struct PreEncodedSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: ByteBuffer) throws -> Bytes {
        Bytes(message.readableBytesView)
    }
}

/// Reads an answer no further than its size: the native generator too reads only call id and status.
struct AnswerSizeDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Int {
        serializedMessageBytes.withUnsafeBytes { $0.count }
    }
}

/// Closed-loop load on the gRPC endpoint from grpc-swift 2's client: `connections` clients (an HTTP/2
/// connection each, on the generator's event loops), each with `depth` calls in flight, a new call the
/// moment one is answered. Calls started inside the window count, with their latency from start to
/// answer, as the native generator counts them.
func runGRPCLoad(
    group: any EventLoopGroup, address: (host: String, port: Int), credential: String, calls: [PreparedCall],
    connections: Int, depth: Int, warmUp: Double, seconds: Double, progress: Progress?
) async throws -> (tally: ConnectionTally, seconds: Double) {
    let start = LoadHandler.now() + UInt64(warmUp * 1e9)
    let window = (start: start, end: start + UInt64(seconds * 1e9))
    let descriptors = Dictionary(uniqueKeysWithValues: PorticoService.rpcs.map { rpc in
        (UInt32(rpc.method.rawValue), MethodDescriptor(fullyQualifiedService: rpc.service, method: rpc.name))
    })
    let metadata: Metadata = ["authorization": "Bearer \(credential)"]
    let ticker = progress.map { progress in
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                progress.tick(window: window)
            }
        }
    }
    defer {
        ticker?.cancel()
        progress?.clear()
    }
    let total = try await withThrowingTaskGroup(of: ConnectionTally.self) { clients in
        for index in 0..<connections {
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: address.host, port: address.port), transportSecurity: .plaintext, eventLoopGroup: group)
            clients.addTask {
                try await withGRPCClient(transport: transport) { client in
                    try await withThrowingTaskGroup(of: ConnectionTally.self) { lanes in
                        for lane in 0..<depth {
                            let first = (index &* 7919 &+ lane &* 104_729) % calls.count
                            lanes.addTask {
                                try await grpcLane(client, calls, first: first, descriptors, metadata, window)
                            }
                        }
                        var tally = ConnectionTally()
                        for try await lane in lanes { tally.add(lane) }
                        return tally
                    }
                }
            }
        }
        var tally = ConnectionTally()
        for try await client in clients { tally.add(client) }
        return tally
    }
    return (total, seconds)
}

/// One call in flight at a time, until the window ends.
private func grpcLane(
    _ client: GRPCClient<HTTP2ClientTransport.Posix>,
    _ calls: [PreparedCall],
    first: Int,
    _ descriptors: [UInt32: MethodDescriptor],
    _ metadata: Metadata,
    _ window: (start: UInt64, end: UInt64)
) async throws -> ConnectionTally {
    var tally = ConnectionTally()
    var next = first
    while true {
        let started = LoadHandler.now()
        guard started < window.end else { break }
        let call = calls[next]
        next = next &+ 1 == calls.count ? 0 : next &+ 1
        guard let descriptor = descriptors[call.method] else { throw ValidationError("no RPC has method \(call.method)") }
        var status: UInt32 = 0
        do {
            _ = try await client.unary(
                request: ClientRequest(message: call.body, metadata: metadata),
                descriptor: descriptor,
                serializer: PreEncodedSerializer(),
                deserializer: AnswerSizeDeserializer(),
                options: .defaults
            ) { try $0.message }
        } catch let error as RPCError {
            status = UInt32(error.code.rawValue)
        }
        guard started >= window.start else { continue }
        tally.latency.record(max(1, LoadHandler.now() &- started))
        tally.calls += 1
        if status != 0 {
            tally.errors += 1
            tally.errorCodes[status, default: 0] += 1
        } else {
            tally.checks += call.checks
            if call.isWrite { tally.writes += 1 }
        }
    }
    return tally
}
