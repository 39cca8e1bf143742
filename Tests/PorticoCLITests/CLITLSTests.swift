import Foundation
import PorticoTestSupport
import Testing

/// `portico serve --tls-cert --tls-key [--tls-client-ca]` and the client flags, as a person uses them.
@Suite("portico serve and its clients over TLS")
struct CLITLSTests {
    @Test("serve with TLS; ping with --tls-ca; in clear it is told the server speaks TLS; SIGHUP reloads the files")
    func tls() async throws {
        let first = try TestCertificates(name: "First CA")
        let second = try TestCertificates(name: "Second CA")
        let old = try first.leaf("server")
        let certificate = try first.file("live.pem", old.certificatePEM)
        let key = try first.file("live.key", old.keyPEM)
        let server = try await ServerProcess.start(arguments: ["--tls-cert", certificate, "--tls-key", key])
        let trusted = try await server.portico(["ping", "--tls-ca", first.authorityFile])
        #expect(trusted.status == 0, "\(trusted)")
        let viaEnvironment = try await server.portico(["ping"], environment: ["PORTICO_TLS_CA": first.authorityFile])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment)")
        let clear = try await server.portico(["ping"])
        #expect(clear.status != 0, "\(clear)")
        #expect(clear.stderr.contains("speaks TLS"), "\(clear)")

        // A renewed certificate from another CA, read again on SIGHUP.
        let renewed = try second.leaf("server")
        _ = try first.file("live.pem", renewed.certificatePEM)
        _ = try first.file("live.key", renewed.keyPEM)
        kill(server.program.process.processIdentifier, SIGHUP)
        var reloaded = false
        for _ in 0..<100 where !reloaded {
            reloaded = try await server.portico(["ping", "--tls-ca", second.authorityFile]).status == 0
            if !reloaded { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(reloaded, "\(server.program.stderr)")
        #expect(try await server.portico(["ping", "--tls-ca", first.authorityFile]).status != 0)
        #expect(server.program.process.isRunning)
        await server.stop()
        #expect(server.program.process.terminationStatus == 0, "\(server.program.stderr)")
    }

    @Test("mutual TLS: a client certificate by --tls-cert and --tls-key is served; none is refused")
    func mutualTLS() async throws {
        let ca = try TestCertificates()
        let clients = try TestCertificates(name: "Client CA")
        let leaf = try ca.leaf("server")
        let client = try clients.leaf("client")
        let server = try await ServerProcess.start(
            arguments: [
                "--tls-cert", leaf.certificate, "--tls-key", leaf.key, "--tls-client-ca", clients.authorityFile,
            ])
        let served = try await server.portico(
            [
                "portfolio", "list", "--tls-ca", ca.authorityFile, "--tls-cert", client.certificate, "--tls-key",
                client.key,
            ])
        #expect(served.status == 0, "\(served)")
        let refused = try await server.portico(["portfolio", "list", "--tls-ca", ca.authorityFile])
        #expect(refused.status != 0, "\(refused)")
        let halfGiven = try await server.portico([
            "ping", "--tls-ca", ca.authorityFile, "--tls-cert", client.certificate,
        ])
        #expect(halfGiven.status == 64, "\(halfGiven)")
        await server.stop()
    }

    @Test("listening beyond loopback in clear prints a warning naming the risk; with TLS it does not")
    func plaintextWarning() async throws {
        let server = try await ServerProcess.start(arguments: ["--host", "0.0.0.0"])
        await server.stop()
        #expect(server.program.stderr.contains("listening on 0.0.0.0 without TLS"), "\(server.program.stderr)")
        #expect(server.program.stderr.contains("in clear"))
        let loopback = try await ServerProcess.start()
        await loopback.stop()
        #expect(!loopback.program.stderr.contains("without TLS"), "\(loopback.program.stderr)")
    }
}
