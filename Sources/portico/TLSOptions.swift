import ArgumentParser
import PorticoServer

/// `--tls-cert`, `--tls-key` and `--tls-client-ca`: the TLS files of every listener of `portico serve`
/// (the native port and the gRPC endpoint alike), each flag with its environment variable.
struct TLSOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-cert"),
        help: ArgumentHelp(
            "PEM file: the server's certificate chain. Default: PORTICO_TLS_CERT.", valueName: "file"))
    var certificate: String?

    @Option(
        name: .customLong("tls-key"),
        help: ArgumentHelp("PEM file: the certificate's private key. Default: PORTICO_TLS_KEY.", valueName: "file"))
    var key: String?

    @Option(
        name: .customLong("tls-client-ca"),
        help: ArgumentHelp(
            """
            PEM file: the authorities a client's certificate must chain to; with it, every client must \
            present one (mutual TLS). Default: PORTICO_TLS_CLIENT_CA.
            """,
            valueName: "file"))
    var clientCA: String?

    /// The files, when TLS is asked for.
    var files: TLSFiles? {
        guard let certificate = self.certificate, let key = self.key else { return nil }
        return TLSFiles(certificateChain: certificate, privateKey: key, clientCertificateAuthorities: self.clientCA)
    }

    mutating func validate() throws {
        self.certificate = try self.certificate ?? PorticoEnvironment.string("PORTICO_TLS_CERT")
        self.key = try self.key ?? PorticoEnvironment.string("PORTICO_TLS_KEY")
        self.clientCA = try self.clientCA ?? PorticoEnvironment.string("PORTICO_TLS_CLIENT_CA")
        switch (self.certificate, self.key) {
        case (nil, nil):
            guard self.clientCA == nil else {
                throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is TLS first")
            }
        case (_?, nil):
            throw ValidationError("--tls-cert needs --tls-key (or PORTICO_TLS_KEY): the certificate's private key")
        case (nil, _?):
            throw ValidationError("--tls-key needs --tls-cert (or PORTICO_TLS_CERT): the certificate it goes with")
        case (_?, _?):
            break
        }
    }
}
