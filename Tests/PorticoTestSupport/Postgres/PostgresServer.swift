import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL server of the tests' own: initialised in a temporary directory, run as an
/// unprivileged user (PostgreSQL refuses to run as root, which sessions and CI are), listening on
/// 127.0.0.1 at a free port, with trust authentication for the user `portico`.
///
/// It stops when the test process ends, however it ends: a small supervisor shell holds the read end
/// of a pipe whose write end only this process has; when this process exits (even killed), `read`
/// returns and the supervisor stops the server and removes the directory.
///
/// Missing programs are a failure naming them, never a skip: `make test` installs Debian's
/// `postgresql` package.
public final class PostgresServer: Sendable {
    /// What is missing or failed, in words for the test report.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    public let port: Int
    /// The temporary directory: the cluster in `data/`, the server's log in `server.log`.
    public let directory: String
    public let binaries: String
    public static let user = "portico"
    // Held open for the life of the server: closing it (at exit) makes the supervisor clean up.
    private let keepAlive: FileHandle
    private let options: String

    /// The server most tests share, started at the first use; each test takes a database of its own.
    public static func shared() throws -> PostgresServer { try sharedServer.get() }
    private static let sharedServer = Result { try PostgresServer.start() }

    /// Starts a server of its own (a test that stops or restarts it must not share it).
    /// - Parameter fsync: off by default: tests never crash the machine, only processes.
    public static func start(fsync: Bool = false) throws -> PostgresServer {
        let binaries = try findBinaries()
        var unprivileged: [String] = []
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("portico-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if geteuid() == 0 {
            // nobody's own directory, so that the server (running as nobody) can write it.
            guard chown(directory, 65534, 65534) == 0 else {
                throw Unavailable(description: "cannot give \(directory) to the user nobody")
            }
            unprivileged = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        }
        let data = directory + "/data"
        try run(
            unprivileged + [
                "\(binaries)/initdb", "-D", data, "-U", user, "--auth=trust", "-E", "UTF8",
                "--no-sync", "--no-instructions",
            ], what: "initdb")
        // max_files_per_process counts the files the server inherits: a server started while the test
        // process held ~950 sockets found room for 43 and refused to start ("we need at least 58").
        let options =
            "-c listen_addresses=127.0.0.1 -k \(directory) -c max_connections=400 -c max_files_per_process=10000"
            + " -c fsync=\(fsync ? "on" : "off") -c full_page_writes=\(fsync ? "on" : "off")"

        // The supervisor: waits for this process to end, then stops the server and removes the folder.
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw Unavailable(description: "pipe() failed") }
        // The write end stays in this process alone: no child (pg_ctl, the server) may keep it open.
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        let script = """
            read _ ; \(unprivileged.joined(separator: " ")) "\(binaries)/pg_ctl" -D "\(data)" stop -m immediate \
            >/dev/null 2>&1 ; rm -rf "\(directory)"
            """
        _ = try spawn(["/bin/sh", "-c", script], stdin: ends[0], output: nil, what: "the supervisor shell")
        close(ends[0])
        let keepAlive = FileHandle(fileDescriptor: ends[1], closeOnDealloc: false)

        var lastError = ""
        for _ in 0..<5 {
            let port = try freePort()
            do {
                let server = PostgresServer(
                    port: port, directory: directory, binaries: binaries, keepAlive: keepAlive,
                    options: options, unprivileged: unprivileged)
                try server.startServer()
                return server
            } catch {
                lastError = "\(error)"
            }
        }
        throw Unavailable(description: "PostgreSQL did not start: \(lastError)")
    }

    private let unprivileged: [String]

    private init(
        port: Int, directory: String, binaries: String, keepAlive: FileHandle, options: String,
        unprivileged: [String]
    ) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
        self.keepAlive = keepAlive
        self.options = options
        self.unprivileged = unprivileged
    }

    /// A URL for `database` on this server.
    public func url(database: String) -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Creates a database of its own for a test and returns its URL.
    public func createDatabase(_ prefix: String = "t") throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try sql("CREATE DATABASE \(name)", database: "postgres")
        return url(database: name)
    }

    /// Runs `statement` through psql; returns what it printed (unaligned, tuples only).
    @discardableResult
    public func sql(_ statement: String, database: String) throws -> String {
        try Self.run(
            [
                "\(binaries)/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", "\(port)", "-U", Self.user, "-d", database, "-c", statement,
            ], what: "psql")
    }

    /// Stops the server: `fast` ends sessions cleanly, `immediate` is a crash (recovery at the next start).
    public func stop(mode: String = "fast") throws {
        try Self.run(
            unprivileged + ["\(binaries)/pg_ctl", "-D", directory + "/data", "stop", "-m", mode, "-w"],
            what: "pg_ctl stop")
    }

    /// Starts the server again on the same port, after `stop`.
    public func restart() throws { try startServer() }

    /// Starts the server and waits until it takes connections: up to 300 s, as a full test run on a
    /// loaded 2-core machine saw a restart take over a minute. A failure carries the server's log.
    private func startServer() throws {
        do {
            try Self.run(
                unprivileged + [
                    "\(binaries)/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log",
                    "-o", "\(options) -p \(port)", "-w", "-t", "300", "start",
                ], what: "pg_ctl start")
        } catch {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            throw Unavailable(description: "\(error); the server's log ends: \(log.suffix(2_000))")
        }
    }

    // MARK: - Helpers

    /// The directory of initdb, pg_ctl and psql: Debian's /usr/lib/postgresql/N/bin, newest first.
    private static func findBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions {
            let bin = "\(root)/\(version)/bin"
            if ["initdb", "pg_ctl", "postgres", "psql"].allSatisfy({
                FileManager.default.isExecutableFile(atPath: "\(bin)/\($0)")
            }) {
                return bin
            }
        }
        throw Unavailable(
            description: """
                PostgreSQL's server programs (initdb, pg_ctl, postgres, psql in /usr/lib/postgresql/N/bin) are \
                missing: install Debian's postgresql package (`make deps` does)
                """)
    }

    /// A port on 127.0.0.1 that nothing listens on now, drawn from 20000-29999: below the kernel's
    /// ephemeral range (32768 and up), so that it is never the port another test just got for port 0
    /// and expects to stay closed (seen: a client test's "refused connection" reached this server).
    private static func freePort() throws -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20000...29999)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Unavailable(description: "socket() failed") }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bind(fd, socketAddress, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if bound { return port }
        }
        throw Unavailable(description: "no free port in 20000-29999 after 50 tries")
    }

    /// Runs a program to its end and returns what it printed (stdout and stderr). posix_spawn and
    /// waitpid, not Foundation's `Process`, whose `waitUntilExit` was seen here never returning for a
    /// child that had exited (pg_ctl, left a zombie) while another child (the supervisor) ran.
    @discardableResult
    private static func run(_ arguments: [String], what: String) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "portico-pg-out-\(UUID().uuidString)"
        ).path
        defer { unlink(output) }
        let pid = try spawn(arguments, stdin: nil, output: output, what: what)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS, spelled out: Swift does not import the macros.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw Unavailable(description: "\(what) failed (wait status \(status)): \(text)")
        }
        return text
    }

    /// Starts `arguments` with `stdin` (a descriptor, or /dev/null) and output to the file `output`
    /// (or /dev/null). No other descriptor of this process reaches it: a pipe or socket another test
    /// holds open would otherwise stay open in PostgreSQL for the whole run. Public for the
    /// benchmark that starts `portico serve` nodes beside this server (`portico-bench postgres`).
    public static func spawn(_ arguments: [String], stdin: Int32?, output: String?, what: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin {
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        guard ChildProcess.closeFrom(&actions, 3) == 0 else {
            throw Unavailable(description: "\(what): posix_spawn cannot close this process's descriptors")
        }
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let result = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard result == 0 else {
            throw Unavailable(description: "\(what) (\(arguments[0])) cannot run: \(String(cString: strerror(result)))")
        }
        return pid
    }
}
