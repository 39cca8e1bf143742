import GRPCCore
import GRPCNIOTransportHTTP2Posix
import PorticoGRPC
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// TLS and mutual TLS on the gRPC endpoint, with certificates made at test time, and the TLS files
/// refused at start-up, named, when they cannot serve.
@Suite("gRPC endpoint: TLS")
struct GRPCTLSTests {
    /// A client that trusts `certificates`' authority, optionally presenting `identity`.
    static func security(
        trusting certificates: TestCertificates,
        identity: (certificatePEM: String, keyPEM: String)? = nil
    ) -> HTTP2ClientTransport.Posix.TransportSecurity {
        let authority = Array(certificates.authority.utf8)
        guard let identity else {
            return .tls { config in Self.trust(authority, &config) }
        }
        return .mTLS(
            certificateChain: [.bytes(Array(identity.certificatePEM.utf8), format: .pem)],
            privateKey: .bytes(Array(identity.keyPEM.utf8), format: .pem)
        ) { config in Self.trust(authority, &config) }
    }

    private static func trust(_ authority: [UInt8], _ config: inout HTTP2ClientTransport.Posix.TransportSecurity.TLS) {
        config.trustRoots = .certificates([.bytes(authority, format: .pem)])
        config.serverCertificateVerification = .fullVerification
    }

    @Test("TLS: a client that trusts the server's authority calls it; a client in clear cannot")
    func tls() async throws {
        let certificates = try TestCertificates()
        let server = try certificates.leaf("localhost")
        let files = TLSFiles(certificateChain: server.certificate, privateKey: server.key)
        try await GRPCTestEndpoint.with(grpc: GRPCConfiguration(port: 0, tls: files)) { endpoint in
            try await GRPCTestEndpoint.withClient(port: endpoint.port, security: Self.security(trusting: certificates))
            {
                client in
                let info = try await client.call(PorticoService.GetServerInfo.self, GetServerInfoRequest())
                #expect(info.version == PorticoServer.version)
                _ = try await client.call(
                    PorticoService.ListPortfolios.self, ListPortfoliosRequest(), credential: endpoint.operatorKey)
            }
            await #expect(throws: RPCError.self) {
                try await endpoint.withClient { client in
                    try await client.call(PorticoService.Ping.self, PingRequest(), timeout: .seconds(5))
                }
            }
        }
    }

    @Test("mutual TLS: only a client whose certificate chains to the client authority is served")
    func mutualTLS() async throws {
        let certificates = try TestCertificates()
        let clients = try TestCertificates(name: "Portico Client CA")
        let strangers = try TestCertificates(name: "Someone Else's CA")
        let server = try certificates.leaf("localhost")
        let files = TLSFiles(
            certificateChain: server.certificate, privateKey: server.key,
            clientCertificateAuthorities: clients.authorityFile)
        #expect(files.requiresClientCertificates)
        try await GRPCTestEndpoint.with(grpc: GRPCConfiguration(port: 0, tls: files)) { endpoint in
            let member = try clients.leaf("backend")
            let security = Self.security(trusting: certificates, identity: (member.certificatePEM, member.keyPEM))
            try await GRPCTestEndpoint.withClient(port: endpoint.port, security: security) { client in
                _ = try await client.call(PorticoService.Ping.self, PingRequest())
            }
            let stranger = try strangers.leaf("intruder")
            for security in [
                Self.security(trusting: certificates),
                Self.security(trusting: certificates, identity: (stranger.certificatePEM, stranger.keyPEM)),
            ] {
                await #expect(throws: RPCError.self) {
                    try await GRPCTestEndpoint.withClient(port: endpoint.port, security: security) { client in
                        try await client.call(PorticoService.Ping.self, PingRequest(), timeout: .seconds(5))
                    }
                }
            }
        }
    }

    @Test("TLS files that cannot serve are refused at start-up, naming the file")
    func badFiles() throws {
        let certificates = try TestCertificates()
        let server = try certificates.leaf("localhost")
        let other = try certificates.leaf("other")
        let garbage = try certificates.file("garbage.pem", "not a certificate\n")
        let empty = try certificates.file("empty.pem", "")
        let cases: [(TLSFiles, String)] = [
            (
                TLSFiles(certificateChain: "/no/such/cert.pem", privateKey: server.key),
                "cannot read the certificate file /no/such/cert.pem"
            ),
            (
                TLSFiles(certificateChain: server.certificate, privateKey: "/no/such/key.pem"),
                "cannot read the private key file /no/such/key.pem"
            ),
            (TLSFiles(certificateChain: garbage, privateKey: server.key), "the certificate file \(garbage)"),
            (TLSFiles(certificateChain: empty, privateKey: server.key), "the certificate file \(empty)"),
            (TLSFiles(certificateChain: server.certificate, privateKey: garbage), "the private key file \(garbage)"),
            (
                TLSFiles(certificateChain: server.certificate, privateKey: other.key),
                "the private key \(other.key) does not go with the certificate \(server.certificate)"
            ),
            (
                TLSFiles(
                    certificateChain: server.certificate, privateKey: server.key,
                    clientCertificateAuthorities: garbage),
                "the client CA file \(garbage)"
            ),
        ]
        for (files, message) in cases {
            #expect {
                _ = try files.serverConfiguration()
            } throws: { error in
                String(describing: error).hasPrefix(message)
            }
        }
        _ = try TLSFiles(certificateChain: server.certificate, privateKey: server.key).serverConfiguration()
    }
}
