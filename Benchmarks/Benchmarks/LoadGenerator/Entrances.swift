import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOSSL
import PorticoClient
import PorticoCore
import PorticoGRPC
import PorticoServer

/// The other ways into the generator's server that the suite measures against the native port in
/// clear, in the same rounds: the native protocol over TLS (a second server on the same core and event
/// loops, with a CA and a certificate for 127.0.0.1 made at start), and the gRPC endpoint serving the
/// first server's handlers, as `portico serve --grpc-address` does.
struct Entrances: Sendable {
    let tlsPort: Int
    /// The generator's side: the CA made at start as its only trusted root.
    let tlsContext: NIOSSLContext
    let grpcPort: Int
    private let tasks: [Task<Void, any Error>]
    private let folder: String

    /// Starts both entrances on `portico`. Call before the plain server is made: the core reports its
    /// commits to the server made last, which should be the plain one.
    static func start(
        portico: Portico,
        key: String,
        configuration: ServerConfiguration,
        logger: Logger,
        group: any EventLoopGroup
    ) async throws -> Entrances {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("portico-bench-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Self.makeCertificates(in: folder)
        let tlsServer = PorticoServer(
            configuration: configuration, portico: portico, operatorKey: key,
            tls: TLSFiles(certificateChain: "\(folder)/server.pem", privateKey: "\(folder)/server.key"),
            logger: logger, eventLoopGroup: group)
        let tlsTask = Task { try await tlsServer.run() }
        // The gRPC endpoint's handlers answer from the same core as the plain server's.
        let endpoint = PorticoGRPCServer(
            configuration: GRPCConfiguration(host: "127.0.0.1", port: 0, limitsOf: configuration),
            handlers: PorticoHandlers(portico: portico, operatorKey: key, configuration: configuration),
            logger: logger, eventLoopGroup: group)
        let grpcTask = Task { try await endpoint.run() }
        return Entrances(
            tlsPort: try await tlsServer.localAddress.port!,
            tlsContext: try ClientTLS(certificateAuthorities: "\(folder)/ca.pem").makeContext(),
            grpcPort: try await endpoint.localAddress.port!,
            tasks: [tlsTask, grpcTask],
            folder: folder
        )
    }

    private init(tlsPort: Int, tlsContext: NIOSSLContext, grpcPort: Int, tasks: [Task<Void, any Error>], folder: String) {
        self.tlsPort = tlsPort
        self.tlsContext = tlsContext
        self.grpcPort = grpcPort
        self.tasks = tasks
        self.folder = folder
    }

    /// A CA, and a server certificate for IP 127.0.0.1 that it signs (P-256, as the TLS tests make
    /// theirs), by the openssl command, valid for a day.
    private static func makeCertificates(in folder: String) throws {
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: "\(folder)/san.ext", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
             "-subj", "/CN=portico-bench CA", "-keyout", "ca.key", "-out", "ca.pem"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "server.key", "-out", "server.csr"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
             "-extfile", "san.ext", "-out", "server.pem"],
        ]
        for step in steps {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + step
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ValidationError("the TLS workload needs the openssl command: openssl \(step.joined(separator: " ")): \(text)")
            }
        }
    }

    func stop() async {
        for task in self.tasks.reversed() {
            task.cancel()
            _ = await task.result
        }
        try? FileManager.default.removeItem(atPath: self.folder)
    }
}
