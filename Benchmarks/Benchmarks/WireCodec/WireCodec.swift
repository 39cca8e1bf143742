import Benchmark
import NIOCore
import PorticoWire

// Encode and decode of the check messages through protobuf-c, with the arena a connection keeps:
// per message, time and mallocs (steady state: the arena's first chunk is reused, so none).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .instructions],
        warmupIterations: 1,
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 50
    )

    let request = CheckPermissionRequest(assetID: 1_234_567, task: .analyze, minRevision: 42, subject: .systemUserID(7_654_321))
    let tokenRequest = CheckPermissionRequest(
        assetID: 1_234_567,
        task: .analyze,
        subject: .token("ptk_4_qQkt8jBNrcNn9YazmYSug4_vIrzKxce7wRV5MBpNW7M")
    )
    let response = CheckPermissionResponse(allowed: true, reason: .assigned, revision: 987_654)
    // Steady state allocates nothing; the one malloc with a token is its Swift String (48 bytes).
    let noMallocs = Benchmark.Configuration(thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])

    Benchmark("Encode CheckPermissionRequest", configuration: noMallocs) { benchmark in
        let arena = WireArena()
        var buffer = ByteBufferAllocator().buffer(capacity: 4096)
        for _ in benchmark.scaledIterations {
            buffer.clear()
            try request.encode(into: &buffer, arena: arena)
        }
        blackHole(buffer.readableBytes)
    }

    Benchmark("Decode CheckPermissionRequest", configuration: noMallocs) { benchmark in
        let arena = WireArena()
        var encoded = ByteBuffer()
        try request.encode(into: &encoded, arena: arena)
        var sum: UInt64 = 0
        for _ in benchmark.scaledIterations {
            sum &+= try CheckPermissionRequest(decoding: encoded, arena: arena).assetID
        }
        blackHole(sum)
    }

    Benchmark("Decode CheckPermissionRequest with a token") { benchmark in
        let arena = WireArena()
        var encoded = ByteBuffer()
        try tokenRequest.encode(into: &encoded, arena: arena)
        var sum: UInt64 = 0
        for _ in benchmark.scaledIterations {
            sum &+= try CheckPermissionRequest(decoding: encoded, arena: arena).assetID
        }
        blackHole(sum)
    }

    Benchmark("Encode CheckPermissionResponse", configuration: noMallocs) { benchmark in
        let arena = WireArena()
        var buffer = ByteBufferAllocator().buffer(capacity: 4096)
        for _ in benchmark.scaledIterations {
            buffer.clear()
            try response.encode(into: &buffer, arena: arena)
        }
        blackHole(buffer.readableBytes)
    }

    Benchmark("Decode CheckPermissionResponse", configuration: noMallocs) { benchmark in
        let arena = WireArena()
        var encoded = ByteBuffer()
        try response.encode(into: &encoded, arena: arena)
        var sum: UInt64 = 0
        for _ in benchmark.scaledIterations {
            sum &+= try CheckPermissionResponse(decoding: encoded, arena: arena).revision
        }
        blackHole(sum)
    }
}
