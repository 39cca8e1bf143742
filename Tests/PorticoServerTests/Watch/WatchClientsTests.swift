import Foundation
import PorticoCore
import PorticoServer
import PorticoTestSupport
import Testing

/// Watch through the Python client, against a live server.
@Suite("Watch: the Python client")
struct WatchClientsTests {
    @Test("the Python client's watch(): history, live, filter, cancel, a refused revision, a deadline")
    func python() async throws {
        let (python, _) = try await ClientInteropTests.prepare()
        defer { try? FileManager.default.removeItem(at: python.deletingLastPathComponent()) }
        try await TestServer.with { server in
            let (status, output) = try await ClientInteropTests.run(
                "/usr/bin/python3",
                [
                    ClientInteropTests.root.appendingPathComponent("clients/python/tests/watch.py").path,
                    "--port", "\(server.port)", "--key", server.operatorKey,
                ],
                environment: ["PYTHONPATH": python.path]
            )
            #expect(status == 0, "\(output)")
            #expect(output.contains("watch: ok"), "\(output)")
            #expect(
                try await eventually {
                    server.server.statistics.callsInFlight == 0 && server.portico.revisionWaiters == 0
                })
        }
    }
}
