import Foundation
public import NIOSSL

/// The TLS files of a listener, as `portico serve` takes them (`--tls-cert`, `--tls-key`,
/// `--tls-client-ca`): one type, read one way, for every listener of the server.
public struct TLSFiles: Sendable, Hashable {
    /// PEM: the server's certificate, then any intermediate certificates.
    public var certificateChain: String
    /// PEM: the private key of the first certificate.
    public var privateKey: String
    /// PEM: the certificate authorities a client's certificate must chain to. With it, every client
    /// must present a valid certificate (mutual TLS); without it, none is asked for.
    public var clientCertificateAuthorities: String?

    public init(certificateChain: String, privateKey: String, clientCertificateAuthorities: String? = nil) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.clientCertificateAuthorities = clientCertificateAuthorities
    }

    /// Whether clients must present a certificate.
    public var requiresClientCertificates: Bool { self.clientCertificateAuthorities != nil }

    /// The files read into a server configuration of swift-nio-ssl: TLS 1.2 or later (HTTP/2 asks no
    /// less), the given ALPN protocols, and with client authorities, a certificate required of every
    /// client and verified against them (no host name: a client's certificate names a client).
    ///
    /// Every file is read and parsed here, and the key checked against the certificate, so that a bad
    /// file stops the server at start-up, named, rather than failing each handshake.
    /// - Throws: ``TLSFilesError`` naming the file at fault.
    public func serverConfiguration(applicationProtocols: [String] = []) throws -> TLSConfiguration {
        let chain = try Self.read("certificate", self.certificateChain) { try NIOSSLCertificate.fromPEMFile($0) }
        guard !chain.isEmpty else {
            throw TLSFilesError("the certificate file \(self.certificateChain) holds no PEM certificate")
        }
        let key = try Self.read("private key", self.privateKey) { try NIOSSLPrivateKey(file: $0, format: .pem) }
        var configuration: TLSConfiguration
        if let authorities = self.clientCertificateAuthorities {
            let roots = try Self.read("client CA", authorities) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !roots.isEmpty else {
                throw TLSFilesError("the client CA file \(authorities) holds no PEM certificate")
            }
            configuration = .makeServerConfigurationWithMTLS(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(key),
                trustRoots: .certificates(roots)
            )
        } else {
            configuration = .makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(key)
            )
        }
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = applicationProtocols
        do {
            // Builds the context once: BoringSSL checks here that the key belongs to the certificate.
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFilesError(
                "the private key \(self.privateKey) does not go with the certificate \(self.certificateChain)"
                    + " (\(error))"
            )
        }
        return configuration
    }

    private static func read<T>(_ what: String, _ path: String, _ parse: (String) throws -> T) throws -> T {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSFilesError("cannot read the \(what) file \(path)")
        }
        do {
            return try parse(path)
        } catch {
            throw TLSFilesError("the \(what) file \(path) is not valid PEM (\(error))")
        }
    }
}

/// A TLS file that cannot be used, named in the message.
public struct TLSFilesError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
