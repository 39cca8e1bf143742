import Foundation
import NIOSSL
import PostgresNIO

/// Where the shared log lives, from a libpq-style URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require&connect_timeout=SECONDS]`,
/// `postgresql://` alike; `?host=/run/postgresql` for a Unix-domain socket in that directory. User,
/// password and database are percent-decoded; the database defaults to the user's name, the port to
/// 5432 and `sslmode` to `prefer`, as libpq does.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    /// What a URL is missing or gets wrong, in words for the command line.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public let host: String
    public let port: Int
    /// A Unix-domain socket's directory, instead of TCP to `host`.
    public let socketDirectory: String?
    public let user: String
    let password: String?
    public let database: String
    public let tls: TLSMode
    public let connectTimeout: Duration

    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme.lowercased())
        else {
            throw Invalid(description: "not a postgres:// URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { _, last in last }
        let known: Set = ["sslmode", "connect_timeout", "host"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw Invalid(description: "unknown URL parameter '\(unknown)' (known: sslmode, connect_timeout, host)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Invalid(description: "the URL names no user (postgres://USER@HOST/DATABASE)")
        }
        self.user = user
        password = components.password
        socketDirectory = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw Invalid(description: "port \(port) is out of range") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : path
        guard let tls = TLSMode(rawValue: query["sslmode"] ?? "prefer") else {
            throw Invalid(description: "sslmode must be disable, prefer or require")
        }
        self.tls = tls
        let timeout = query["connect_timeout"].map { Int($0) } ?? 10
        guard let timeout, timeout > 0 else {
            throw Invalid(description: "connect_timeout must be a positive number of seconds")
        }
        connectTimeout = .seconds(timeout)
    }

    /// The location without its password, for logs and messages.
    public var description: String {
        let place = socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } ?? "\(host):\(port)"
        return "postgres://\(user)@\(place)/\(database)"
    }

    /// postgres-nio's configuration for a connection to this location.
    func configuration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory {
            configuration = PostgresConnection.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password,
                database: database)
        } else {
            let mode: PostgresConnection.Configuration.TLS
            switch tls {
            case .disable: mode = .disable
            case .prefer: mode = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: mode = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = PostgresConnection.Configuration(
                host: host, port: port, username: user,
                password: password, database: database, tls: mode)
        }
        configuration.options.connectTimeout = .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000)
        return configuration
    }
}
