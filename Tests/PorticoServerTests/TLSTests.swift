import Foundation
import PorticoClient
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// TLS and mutual TLS on the native port, with a CA and certificates made at test time: the clients
/// that may call are served, every other one is refused, and the server goes on serving.
@Suite("Native port: TLS and mutual TLS")
struct TLSTests {
    /// Calls Ping through `client` and returns the status it failed with, or nil if it was answered.
    static func pingStatus(_ client: PorticoClient) async -> StatusCode? {
        do {
            _ = try await client.call(PorticoService.Ping.self, PingRequest(), options: CallOptions())
            return nil
        } catch let error as PorticoStatusError {
            return error.code
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test("TLS: a client trusting the server's CA is served; a client in clear and one trusting another CA are refused")
    func tls() async throws {
        let ca = try TestCertificates()
        let server = try ca.leaf("server")
        let other = try TestCertificates(name: "Another CA")
        try await TestServer.with(tls: TLSFiles(certificateChain: server.certificate, privateKey: server.key)) {
            server in
            let trusting = server.client(tls: ClientTLS(certificateAuthorities: ca.authorityFile))
            #expect(await Self.pingStatus(trusting) == nil)
            let fixture = try await ServerFixture.build(trusting)
            let checked = try await trusting.call(
                PorticoService.CheckPermission.self,
                CheckPermissionRequest(
                    assetID: fixture.adAccount, task: .advertise, subject: .systemUserID(fixture.worker)),
                options: CallOptions())
            #expect(checked.allowed)

            // A client in clear sends its preface to a TLS handshake: refused, not answered, not hung.
            let clear = server.client(timeout: .seconds(10))
            do {
                _ = try await clear.call(PorticoService.Ping.self, PingRequest(), options: CallOptions())
                Issue.record("a client in clear was answered by a TLS server")
            } catch let error as PorticoStatusError {
                #expect(error.code == .unavailable)
                #expect(error.message.contains("speaks TLS"), "\(error)")
            }
            let doubting = server.client(
                timeout: .seconds(10), tls: ClientTLS(certificateAuthorities: other.authorityFile))
            #expect(await Self.pingStatus(doubting) == .unavailable)
            // The server goes on serving.
            #expect(await Self.pingStatus(trusting) == nil)
        }
    }

    @Test(
        "mutual TLS: only a client whose certificate chains to the client CA, and is valid now, is served",
        arguments: ["none", "other CA", "expired"])
    func mutualTLS(refused: String) async throws {
        let ca = try TestCertificates()
        let clients = try TestCertificates(name: "Client CA")
        let other = try TestCertificates(name: "Another CA")
        let server = try ca.leaf("server")
        let files = TLSFiles(
            certificateChain: server.certificate, privateKey: server.key,
            clientCertificateAuthorities: clients.authorityFile)
        try await TestServer.with(tls: files) { server in
            let good = try clients.leaf("good")
            let accepted = server.client(
                tls: ClientTLS(
                    certificateAuthorities: ca.authorityFile, certificateChain: good.certificate,
                    privateKey: good.key))
            #expect(await Self.pingStatus(accepted) == nil)

            let bad: ClientTLS
            switch refused {
            case "none":
                bad = ClientTLS(certificateAuthorities: ca.authorityFile)
            case "other CA":
                let leaf = try other.leaf("stranger")
                bad = ClientTLS(
                    certificateAuthorities: ca.authorityFile, certificateChain: leaf.certificate,
                    privateKey: leaf.key)
            default:
                let leaf = try clients.leaf("expired", expired: true)
                bad = ClientTLS(
                    certificateAuthorities: ca.authorityFile, certificateChain: leaf.certificate,
                    privateKey: leaf.key)
            }
            let refusedClient = server.client(timeout: .seconds(10), tls: bad)
            #expect(await Self.pingStatus(refusedClient) == .unavailable, "\(refused)")
            #expect(await Self.pingStatus(accepted) == nil)
        }
    }

    @Test("a server whose certificate has expired is refused by the client")
    func expiredServer() async throws {
        let ca = try TestCertificates()
        let server = try ca.leaf("server", expired: true)
        try await TestServer.with(tls: TLSFiles(certificateChain: server.certificate, privateKey: server.key)) {
            server in
            let client = server.client(timeout: .seconds(10), tls: ClientTLS(certificateAuthorities: ca.authorityFile))
            #expect(await Self.pingStatus(client) == .unavailable)
        }
    }

    @Test("reloadTLS: connections accepted afterwards get the new certificate; open ones keep theirs")
    func reload() async throws {
        let first = try TestCertificates(name: "First CA")
        let second = try TestCertificates(name: "Second CA")
        let old = try first.leaf("server")
        // The server's files, overwritten in place later, as a renewal does.
        let certificate = try first.file("live.pem", old.certificatePEM)
        let key = try first.file("live.key", old.keyPEM)
        try await TestServer.with(tls: TLSFiles(certificateChain: certificate, privateKey: key)) { server in
            let before = server.client(tls: ClientTLS(certificateAuthorities: first.authorityFile))
            #expect(await Self.pingStatus(before) == nil)

            let renewed = try second.leaf("server")
            _ = try first.file("live.pem", renewed.certificatePEM)
            _ = try first.file("live.key", renewed.keyPEM)
            try server.server.reloadTLS()

            // The open connection goes on; new ones present the new certificate.
            #expect(await Self.pingStatus(before) == nil)
            let trustingNew = server.client(tls: ClientTLS(certificateAuthorities: second.authorityFile))
            #expect(await Self.pingStatus(trustingNew) == nil)
            let trustingOld = server.client(
                timeout: .seconds(10), tls: ClientTLS(certificateAuthorities: first.authorityFile))
            #expect(await Self.pingStatus(trustingOld) == .unavailable)

            // A reload from broken files fails, naming them, and keeps the certificate in use.
            _ = try first.file("live.key", "not a key")
            #expect(throws: TLSFilesError.self) { try server.server.reloadTLS() }
            let stillNew = server.client(tls: ClientTLS(certificateAuthorities: second.authorityFile))
            #expect(await Self.pingStatus(stillNew) == nil)
        }
    }

    @Test("the Python client calls over mutual TLS with the ssl module; without a certificate it is refused")
    func python() async throws {
        let (python, _) = try await ClientInteropTests.prepare()
        defer { try? FileManager.default.removeItem(at: python.deletingLastPathComponent()) }
        let ca = try TestCertificates()
        let clients = try TestCertificates(name: "Client CA")
        let server = try ca.leaf("server")
        let client = try clients.leaf("client")
        let files = TLSFiles(
            certificateChain: server.certificate, privateKey: server.key,
            clientCertificateAuthorities: clients.authorityFile)
        let script = """
            import ssl, sys
            from portico import Client
            port, key, ca, cert, private = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
            context = ssl.create_default_context(cafile=ca)
            context.load_cert_chain(cert, private)
            with Client("127.0.0.1", port, credential=key, tls=context) as portico:
                print("served over TLS, revision", portico.get_server_info().revision)
            try:
                Client("127.0.0.1", port, credential=key, tls=ssl.create_default_context(cafile=ca),
                       timeout=10).get_server_info()
                print("served without a certificate")
            except Exception as error:
                print("refused without a certificate:", type(error).__name__)
            """
        try await TestServer.with(tls: files) { server in
            let (status, output) = try await ClientInteropTests.run(
                "/usr/bin/python3",
                ["-c", script, "\(server.port)", server.operatorKey, ca.authorityFile, client.certificate, client.key],
                environment: ["PYTHONPATH": python.path]
            )
            #expect(status == 0, "\(output)")
            #expect(output.contains("served over TLS, revision 0"), "\(output)")
            #expect(output.contains("refused without a certificate"), "\(output)")
        }
    }
}
