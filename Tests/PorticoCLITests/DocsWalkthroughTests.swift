import Foundation
import Testing

/// The README walk-through and docs/clients.md's commands, taken from the pages when the test runs and
/// run as written, on a fresh data directory and free ports. The only changes are these substitutions:
///
/// - the server's default address 127.0.0.1:7700 becomes a free port, through `PORTICO_PORT=0` for
///   `make run` and `PORTICO_ADDRESS` for the commands (and a literal `7700` or `7701` in a command
///   becomes a free port too);
/// - `./data` is a scratch directory: the README's commands run in it (as "the same directory" the
///   server was started from), `PORTICO_DATA_DIR` points `make run` there, and docs/clients.md's literal
///   `./data` is replaced by it;
/// - `.build/debug`, where the pages say `portico` is, becomes the folder the tests' build put it in;
/// - `python3` is Debian's, which the page asks for (with python3-protobuf): /usr/bin comes first on
///   the PATH, before a Python of the machine's own that may lack the protobuf runtime;
/// - `make build` and `make run` get `SWIFTPM_FLAGS=--ignore-lock`: `swift test` holds the build
///   folder's lock while these tests run, and the build they make changes nothing.
@Suite("README and docs/clients.md, run as written", .serialized)
struct DocsWalkthroughTests {
    static let bash = "/bin/bash"

    @Test("the README: make run, the walk-through with its documented output, then export, import and serve the copy")
    func readme() async throws {
        let page = try Walkthrough("README.md")
        let here = try Scratch("readme")
        let data = here.file("data")

        // Terminal 1, in the repository.
        let server = try BackgroundProgram(
            [Self.bash, "-c", try page.block("server")],
            environment: ["PORTICO_PORT": "0", "PORTICO_DATA_DIR": data, "SWIFTPM_FLAGS": "--ignore-lock"],
            in: Locations.repository
        )
        do {
            // make run builds first: a no-op after the tests' own build, but slow on a loaded machine.
            try await server.waitFor(line: "portico: ready", limit: .seconds(900))
            // Port 0: the server took a free one and says which.
            let listening = server.stdout.split(separator: "\n").first { $0.hasPrefix("portico: listening on ") }
            let port = try #require(listening.flatMap { Int($0.split(separator: ":").last ?? "") }, "\(server.stdout)")
            try await Self.terminalTwo(page, port: port, in: here)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// The README's commands, in the directory the server keeps `./data` in.
    static func terminalTwo(_ page: Walkthrough, port: Int, in here: Scratch) async throws {
        let products = try Locations.products().path
        // Terminal 2.
        let environment: [String: String?] = ["PORTICO_ADDRESS": "127.0.0.1:\(port)"]
        let commands = try page.block("commands", replacing: [("$PWD/.build/debug", products)])
        let walk = try await Program.run(
            Self.bash, ["-c", Walkthrough.script(commands)], environment: environment,
            in: here.url)
        #expect(walk.status == 3, "the last check is documented to deny with exit status 3: \(walk)")
        #expect(walk.stderr.isEmpty, "\(walk)")
        #expect(
            Walkthrough.shows(walk.stdout, try page.block("output")),
            "the documented output is not what it prints: \(walk)")

        // The same terminal afterwards: its PATH holds portico now.
        let restorePort = try Program.freePort()
        let restore = try page.block("restore", replacing: [("7701", "\(restorePort)")])
        var path = environment
        path["PATH"] = products + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let restored = try await Program.run(
            Self.bash, ["-c", Walkthrough.script(restore)], environment: path, in: here.url)
        #expect(restored.status == 0, "\(restored)")
        #expect(restored.stdout.contains(#""Acme""#), "the restored server does not list the portfolio: \(restored)")
        #expect(FileManager.default.fileExists(atPath: here.file("restored/operator.key")))
    }

    @Test("docs/clients.md: build, serve in the background, wait-ready, then the Python walk-through")
    func clients() async throws {
        let page = try Walkthrough("docs/clients.md")
        let data = try Scratch("clients")
        let port = try Program.freePort()
        let commands = try page.block(
            "commands",
            replacing: [
                (".build/debug", try Locations.products().path), ("7700", "\(port)"), ("./data", data.file("data")),
            ])
        let outcome = try await Program.run(
            Self.bash, ["-c", Walkthrough.script(commands)],
            environment: [
                "SWIFTPM_FLAGS": "--ignore-lock",
                "PATH": "/usr/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/bin"),
            ],
            in: Locations.repository, limit: .seconds(900)
        )
        #expect(outcome.status == 0, "\(outcome)")
        #expect(
            Walkthrough.shows(outcome.stdout, try page.block("output")),
            "the documented output is not what it prints: \(outcome)")
        #expect(outcome.stdout.contains("portico: ready"))
    }

    @Test("docs/clients.md, gRPC: serve with --grpc-address, stubs from grpcio-tools, the stubs' check")
    func grpcClients() async throws {
        let page = try Walkthrough("docs/clients.md")
        let data = try Scratch("grpc-clients")
        let port = try Program.freePort()
        let grpcPort = try Program.freePort()
        let commands = try page.block(
            "grpc-commands",
            replacing: [
                (".build/debug", try Locations.products().path), ("7700", "\(port)"), ("7701", "\(grpcPort)"),
                ("./data", data.file("data")),
            ])
        let outcome = try await Program.run(
            Self.bash, ["-c", Walkthrough.script(commands)], environment: ["SWIFTPM_FLAGS": "--ignore-lock"],
            in: Locations.repository, limit: .seconds(900)
        )
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("portico: grpc listening on 127.0.0.1:\(grpcPort)"), "\(outcome)")
        #expect(
            Walkthrough.shows(outcome.stdout, try page.block("grpc-output")),
            "the documented output is not what it prints: \(outcome)")
    }
}
