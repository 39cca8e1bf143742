public import NIOSSL
import Synchronization

/// The TLS of one listener: the context each new connection handshakes with, built from the listener's
/// files and built again from them on ``reload()`` (SIGHUP), so that a renewed certificate is served
/// without a restart. A connection keeps the context it started with, so a reload drops none.
public final class ServerTLS: Sendable {
    public let files: TLSFiles
    private let applicationProtocols: [String]
    // One lock per accepted connection to read a reference; a reload swaps it.
    private let current: Mutex<NIOSSLContext>

    /// - Parameter applicationProtocols: the ALPN protocols offered (gRPC: `h2`); none for the native port.
    /// - Throws: ``TLSFilesError`` naming the file at fault.
    public init(files: TLSFiles, applicationProtocols: [String] = []) throws {
        self.files = files
        self.applicationProtocols = applicationProtocols
        self.current = Mutex(try Self.context(files, applicationProtocols))
    }

    /// The context a connection accepted now handshakes with.
    public var context: NIOSSLContext { self.current.withLock { $0 } }

    /// Reads the files again and serves them to the connections accepted from now on.
    /// - Throws: ``TLSFilesError`` naming the file at fault; the context in use then stays.
    public func reload() throws {
        let context = try Self.context(self.files, self.applicationProtocols)
        self.current.withLock { $0 = context }
    }

    private static func context(_ files: TLSFiles, _ protocols: [String]) throws -> NIOSSLContext {
        let configuration = try files.serverConfiguration(applicationProtocols: protocols)
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFilesError("cannot serve TLS with \(files.certificateChain) and \(files.privateKey): \(error)")
        }
    }
}
