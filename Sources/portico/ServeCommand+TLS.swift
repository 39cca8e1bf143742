import ArgumentParser
import Foundation
import Logging
import PorticoServer
import UnixSignals

/// TLS in `portico serve`: the files checked before anything starts, a warning for a listener in clear
/// on the network, and the files read again on SIGHUP.
extension ServeCommand {
    /// Fails at once, naming the file, when the TLS files cannot serve; warns when a listener that is not
    /// on loopback serves in clear.
    func checkTLS(logger: Logger) throws {
        if let files = self.tls.files {
            do {
                _ = try files.serverConfiguration()
            } catch {
                throw CommandFailure("cannot serve TLS: \(error)")
            }
            return
        }
        let listeners = [self.host] + (self.grpcEndpoint.map { [$0.host] } ?? [])
        for host in listeners where !Self.isLoopback(host) {
            let warning =
                "listening on \(host) without TLS: operator keys, credentials and tokens cross the network in clear, "
                + "readable and replayable by anyone on the path; give --tls-cert and --tls-key"
            logger.warning("\(warning)")
            FileHandle.standardError.write(Data("portico: warning: \(warning)\n".utf8))
        }
    }

    /// Whether `host` is a loopback address, which never leaves the machine.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Reads the TLS files again at each SIGHUP, for every listener; a failed reload keeps the
    /// certificate in use and says why. Nil, and SIGHUP left alone, when the server serves no TLS.
    func reloadTLSOnHangUp(_ reloads: [@Sendable () throws -> Void], logger: Logger) -> Task<Void, Never>? {
        guard self.tls.files != nil else { return nil }
        return Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                do {
                    for reload in reloads { try reload() }
                    logger.info("TLS files read again on SIGHUP: new connections get them")
                } catch {
                    logger.error("TLS files not reloaded, the certificate in use stays: \(error)")
                }
            }
        }
    }
}
