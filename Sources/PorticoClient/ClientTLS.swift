import Foundation
public import NIOSSL

/// TLS to the server, as the client side of `portico serve --tls-cert` (and `--tls-client-ca`): the
/// authorities to trust, and the client's own certificate when the server asks for one (mutual TLS).
public struct ClientTLS: Sendable, Hashable {
    /// PEM: the authorities the server's certificate must chain to; nil for the system's.
    public var certificateAuthorities: String?
    /// PEM: the client's certificate chain, for mutual TLS.
    public var certificateChain: String?
    /// PEM: the private key of ``certificateChain``.
    public var privateKey: String?

    public init(certificateAuthorities: String? = nil, certificateChain: String? = nil, privateKey: String? = nil) {
        self.certificateAuthorities = certificateAuthorities
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }

    /// The context a connection handshakes with: TLS 1.2 or later, the server's certificate verified
    /// against the authorities and the address connected to (its host name, or its IP address).
    /// - Throws: ``ClientTLSError`` naming the file at fault.
    public func makeContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let authorities = self.certificateAuthorities {
            let roots = try Self.read("CA", authorities) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !roots.isEmpty else { throw ClientTLSError("the CA file \(authorities) holds no PEM certificate") }
            configuration.trustRoots = .certificates(roots)
        }
        switch (self.certificateChain, self.privateKey) {
        case (let chain?, let key?):
            let certificates = try Self.read("certificate", chain) { try NIOSSLCertificate.fromPEMFile($0) }
            configuration.certificateChain = certificates.map { .certificate($0) }
            configuration.privateKey = .privateKey(
                try Self.read("private key", key) { try NIOSSLPrivateKey(file: $0, format: .pem) })
        case (nil, nil):
            break
        default:
            throw ClientTLSError("a client certificate needs its private key, and a key its certificate")
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ClientTLSError("cannot use these TLS files: \(error)")
        }
    }

    private static func read<T>(_ what: String, _ path: String, _ parse: (String) throws -> T) throws -> T {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ClientTLSError("cannot read the \(what) file \(path)")
        }
        do {
            return try parse(path)
        } catch {
            throw ClientTLSError("the \(what) file \(path) is not valid PEM (\(error))")
        }
    }
}

/// A client TLS file that cannot be used, named in the message.
public struct ClientTLSError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
