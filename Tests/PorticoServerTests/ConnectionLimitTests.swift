import NIOCore
import NIOEmbedded
import PorticoClient
import PorticoCore
import PorticoWire
import Testing

@testable import PorticoServer
import PorticoTestSupport

/// Connection places against clients that hold them: trickling bytes, never calling, opening many.
@Suite("Connection places and time limits")
struct ConnectionLimitTests {
    /// Short time limits, each alone (the other long), and 3 places per address.
    static func tight(firstCall: Duration = .seconds(60), frame: Duration = .seconds(60)) -> ServerConfiguration {
        ServerConfiguration(
            maxConnections: 100, maxConnectionsPerAddress: 3, firstCallTimeout: firstCall, frameTimeout: frame)
    }

    @Test("a frame trickled a byte at a time is cut off at the frame timeout with GOAWAY")
    func slowLoris() async throws {
        try await TestServer.with(configuration: Self.tight(frame: .seconds(1))) { server in
            let client = try await WireClient.connect(port: server.port, first: WirePreface.bytes)
            // Sends may fail once the server has closed: the outcome below is what counts.
            let ping = try Wire.ping(1)
            // A byte every 100 ms: each read would reset an idle timeout; it cannot reset this one.
            for byte in ping.prefix(ping.count - 1) where !client.received.closed {
                try? await client.send([byte])
                try await Task.sleep(for: .milliseconds(100))
            }
            let (frames, closed) = try await client.wait(limit: .seconds(10))
            #expect(closed)
            #expect(frames.map(\.header.kind) == [.goaway])
            #expect(frames.first?.header.statusCode == .deadlineExceeded)
        }
    }

    @Test("a connection that sends no preface, or trickles it, is closed at the frame timeout")
    func prefaceTimeout() async throws {
        try await TestServer.with(configuration: Self.tight(frame: .seconds(1))) { server in
            let silent = try await WireClient.connect(port: server.port)
            let trickling = try await WireClient.connect(port: server.port)
            for byte in WirePreface.bytes.prefix(5) where !trickling.received.closed {
                try? await trickling.send([byte])
                try await Task.sleep(for: .milliseconds(150))
            }
            for client in [silent, trickling] {
                let (frames, closed) = try await client.wait(limit: .seconds(10))
                #expect(closed)
                #expect(frames.first?.header.statusCode == .deadlineExceeded)
            }
        }
    }

    @Test("a connection that never calls is closed at the first-call timeout; one that calls stays")
    func firstCallTimeout() async throws {
        try await TestServer.with(configuration: Self.tight(firstCall: .seconds(3))) { server in
            let working = try await WireClient.connect(port: server.port, first: WirePreface.bytes + Wire.ping(1))
            let idle = try await WireClient.connect(port: server.port)
            try? await idle.send(WirePreface.bytes)
            let (frames, closed) = try await idle.wait(limit: .seconds(10))
            #expect(closed)
            #expect(frames.map(\.header.kind) == [.goaway] && frames.first?.header.statusCode == .unavailable)
            // The one that called is still served, well past the first-call timeout.
            try await working.send(Wire.ping(2))
            let answered = try await working.wait { $0.count >= 2 }
            #expect(!answered.closed && answered.frames.map(\.header.callID) == [1, 2])
            await working.close()
        }
    }

    @Test("one address may hold only its share of places: over it GOAWAY RESOURCE_EXHAUSTED; a place freed is reusable")
    func perAddressLimit() async throws {
        try await TestServer.with(configuration: Self.tight()) { server in
            var held: [WireClient] = []
            for call in 1...3 {
                let client = try await WireClient.connect(port: server.port)
                try await client.send(WirePreface.bytes + Wire.ping(UInt64(call)))
                #expect(try await client.wait { $0.count >= 1 }.frames.first?.header.statusCode == .ok)
                held.append(client)
            }
            let refused = try await WireClient.connect(port: server.port)
            try? await refused.send(WirePreface.bytes + Wire.ping(9))
            let (frames, closed) = try await refused.wait(limit: .seconds(10))
            #expect(closed)
            #expect(frames.map(\.header.kind) == [.goaway] && frames.first?.header.statusCode == .resourceExhausted)
            // One leaves; its place is free again once the server has seen it go.
            await held.removeFirst().close()
            for _ in 0..<1_000 where server.server.connectionCount > 2 { try await Task.sleep(for: .milliseconds(5)) }
            let next = try await WireClient.connect(port: server.port)
            try await next.send(WirePreface.bytes + Wire.ping(10))
            #expect(try await next.wait { $0.count >= 1 }.frames.first?.header.statusCode == .ok)
            for client in held + [next] { await client.close() }
        }
    }

    @Test("the registry keeps room for other addresses, counts an IPv6 /64 as one, and never exceeds the total")
    func registry() throws {
        let registry = ConnectionRegistry(limit: 6, perAddressLimit: 2)
        let a = try SocketAddress(ipAddress: "10.0.0.1", port: 1000)
        let b = try SocketAddress(ipAddress: "10.0.0.2", port: 1000)
        let v6a = try SocketAddress(ipAddress: "2001:db8:1:2::1", port: 1)
        let v6b = try SocketAddress(ipAddress: "2001:db8:1:2:ffff::9", port: 2)
        let v6c = try SocketAddress(ipAddress: "2001:db8:1:2:abcd::5", port: 3)
        let mapped = try SocketAddress(ipAddress: "::ffff:10.0.0.1", port: 3)
        func admit(_ address: SocketAddress) -> ConnectionSlot? {
            if case .admitted(let slot) = registry.admit(EmbeddedChannel(), peer: address) { return slot }
            return nil
        }
        let first = try #require(admit(a))
        #expect(admit(a) != nil)
        #expect(admit(a) == nil)  // a has its two
        #expect(admit(mapped) == nil)  // the same IPv4 address, mapped into IPv6
        #expect(admit(b) != nil)  // b is still welcome
        #expect(admit(v6a) != nil)
        #expect(admit(v6b) != nil)
        #expect(admit(v6c) == nil)  // a third in the same /64
        #expect(registry.count == 5)
        #expect(admit(try SocketAddress(ipAddress: "10.0.0.3", port: 1)) != nil)
        #expect(admit(try SocketAddress(ipAddress: "10.0.0.4", port: 1)) == nil)  // the total of 6
        registry.release(first)
        registry.release(first)  // a second release changes nothing
        #expect(registry.count == 5)
        #expect(admit(a) != nil)
        #expect(PeerAddress(v6b).description == "2001:db8:1:2::/64")
        #expect(PeerAddress(mapped).description == "10.0.0.1")
    }
}
