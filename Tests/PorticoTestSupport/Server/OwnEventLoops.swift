import NIOCore
public import NIOPosix

/// Runs `body` with two event loop groups of its own, one thread each, for a server and its clients;
/// shuts them down once `body` returns or throws. For a test whose timing must not depend on what other
/// tests do meanwhile on the shared loops (a 4 MiB body decoded there holds one for seconds).
public func withOwnEventLoops<Value>(
    _ body: (_ server: MultiThreadedEventLoopGroup, _ client: MultiThreadedEventLoopGroup) async throws -> Value
) async throws -> Value {
    let server = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let client = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let result: Result<Value, any Error>
    do {
        result = .success(try await body(server, client))
    } catch {
        result = .failure(error)
    }
    try? await client.shutdownGracefully()
    try? await server.shutdownGracefully()
    return try result.get()
}
