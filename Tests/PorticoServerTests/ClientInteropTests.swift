import Foundation
import PorticoClient
import PorticoServer
import PorticoTestSupport
import PorticoWire
import Testing

/// Clients generated from the proto files in other languages, against a live server: the Python
/// client (protoc --python_out) and the C example (protoc-c), answering as the Swift client does.
@Suite("Python and C clients against a live server")
struct ClientInteropTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs a program to its end in the repository's root; returns its exit status and output.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (
        Int32, String
    ) {
        try await ChildProgram.run(executable, arguments, environment: environment, directory: Self.root)
    }

    /// Generates the Python messages and builds the C example into a scratch folder, as `make
    /// python-client c-client` does, so the test needs nothing prepared.
    static func prepare() async throws -> (python: URL, checker: String) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "portico-interop-\(UUID().uuidString)")
        let python = scratch.appendingPathComponent("python")
        try FileManager.default.createDirectory(at: python, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Self.root.appendingPathComponent("clients/python/portico"),
            to: python.appendingPathComponent("portico")
        )
        let protos = try FileManager.default.contentsOfDirectory(
            atPath: Self.root.appendingPathComponent("proto/portico/v1").path
        )
        .filter { $0.hasSuffix(".proto") }.sorted().map { "proto/portico/v1/" + $0 }
        let (protoc, protocOutput) = try await Self.run(
            "/usr/bin/env", ["protoc", "-Iproto", "--python_out=\(python.path)"] + protos)
        try #require(protoc == 0, "protoc --python_out failed: \(protocOutput)")
        let checker = scratch.appendingPathComponent("portico-check").path
        let sources = ["frame", "checks", "types", "health"].map { "Sources/CPorticoProto/portico/v1/\($0).pb-c.c" }
        let (cc, ccOutput) = try await Self.run(
            "/usr/bin/env",
            ["cc", "-std=c11", "-O2", "-ISources/CPorticoProto/include", "clients/c/portico_check.c"] + sources
                + ["-lprotobuf-c", "-o", checker]
        )
        try #require(cc == 0, "cc failed: \(ccOutput)")
        return (python, checker)
    }

    static func interop(_ python: URL, port: Int, key: String, out: String? = nil) async throws -> (Int32, String) {
        let script = python.appendingPathComponent("portico").deletingLastPathComponent().path
        var arguments = [
            Self.root.appendingPathComponent("clients/python/tests/interop.py").path, "--port", "\(port)", "--key", key,
        ]
        if let out { arguments += ["--out", out] }
        return try await Self.run("/usr/bin/python3", arguments, environment: ["PYTHONPATH": script])
    }

    @Test("the Python client passes the interop suite and answers every check as the Swift and C clients do")
    func pythonAndC() async throws {
        let (python, checker) = try await Self.prepare()
        defer { try? FileManager.default.removeItem(at: python.deletingLastPathComponent()) }
        try await TestServer.with { server in
            let answersFile = python.appendingPathComponent("answers.json").path
            let (status, output) = try await Self.interop(
                python, port: server.port, key: server.operatorKey, out: answersFile)
            #expect(status == 0, "\(output)")
            #expect(output.contains(" passed, 0 failed"), "\(output)")

            struct Answers: Decodable {
                struct Check: Decodable {
                    let subject: [String: AnyID]
                    let asset: UInt64
                    let task: String
                    let allowed: Bool
                    let reason: String
                }
                let checks: [Check]
            }
            let answers = try JSONDecoder().decode(
                Answers.self, from: Data(contentsOf: URL(fileURLWithPath: answersFile)))
            #expect(answers.checks.count >= 15)
            let client = server.client()
            for check in answers.checks {
                let subject: CheckPermissionRequest.Subject =
                    switch (check.subject.keys.first!, check.subject.values.first!) {
                    case ("person_id", .number(let id)): .personID(id)
                    case ("system_user_id", .number(let id)): .systemUserID(id)
                    case (_, .text(let token)): .token(token)
                    default: .personID(0)
                    }
                let task = try #require(AssetTask(protoValueName: check.task))
                let swift = try await client.checkPermission(.init(assetID: check.asset, task: task, subject: subject))
                #expect(
                    swift.allowed == check.allowed && swift.reason.protoValueName == "DECISION_REASON_" + check.reason,
                    "\(check.subject) \(check.task)")

                // The C example asks the principal checks too.
                guard case .number(let id) = check.subject.values.first!, check.subject.keys.first != nil else {
                    continue
                }
                let kind = check.subject.keys.first == "person_id" ? "person" : "system-user"
                let (cStatus, cOutput) = try await Self.run(
                    checker,
                    [
                        "127.0.0.1", "\(server.port)", server.operatorKey, "check", kind, "\(id)", "\(check.asset)",
                        String(check.task.dropFirst("ASSET_TASK_".count)),
                    ]
                )
                #expect(cStatus == 0, "\(cOutput)")
                #expect(cOutput.hasPrefix("\(check.allowed ? "allowed" : "denied") \(check.reason) "), "C: \(cOutput)")
            }
            let (pingStatus, pong) = try await Self.run(checker, ["127.0.0.1", "\(server.port)", "", "ping"])
            #expect(pingStatus == 0 && pong == "pong\n")
        }
    }

    @Test("the Python example runs the README walk-through")
    func walkthrough() async throws {
        let (python, _) = try await Self.prepare()
        defer { try? FileManager.default.removeItem(at: python.deletingLastPathComponent()) }
        try await TestServer.with { server in
            let (status, output) = try await Self.run(
                "/usr/bin/python3",
                [
                    Self.root.appendingPathComponent("clients/python/examples/walkthrough.py").path, "--port",
                    "\(server.port)", "--key", server.operatorKey,
                ],
                environment: ["PYTHONPATH": python.path]
            )
            #expect(status == 0, "\(output)")
            #expect(output.contains("ANALYZE allowed (ASSIGNED)"), "\(output)")
            #expect(output.contains("MANAGE  denied ("), "\(output)")
            #expect(output.contains("an admin token cannot create portfolios: PERMISSION_DENIED"), "\(output)")
            // The secret is shown truncated, never whole.
            #expect(output.contains("admin token (shown once): ptk_"), "\(output)")
        }
    }

    @Test("Python, C and Swift clients at once: interleaved writes and checks stay consistent")
    func mixedClients() async throws {
        let (python, checker) = try await Self.prepare()
        defer { try? FileManager.default.removeItem(at: python.deletingLastPathComponent()) }
        try await TestServer.with { server in
            let client = server.client(connections: 2)
            let fixture = try await ServerFixture.build(client)
            // Two Python processes build and check their own portfolios while Swift writes and C checks.
            async let first = Self.interop(python, port: server.port, key: server.operatorKey)
            async let second = Self.interop(python, port: server.port, key: server.operatorKey)
            let swiftWrites = Task {
                for index in 0..<30 {
                    let asset = try await client.addAsset(
                        .init(portfolioID: fixture.portfolio, type: .page, name: "page \(index)")
                    ).asset!.id
                    _ = try await client.assignTasks(
                        .init(
                            principal: Principal(kind: .systemUser, id: fixture.worker), assetID: asset,
                            tasks: [.analyze])
                    )
                    let answer = try await client.checkPermission(
                        .init(assetID: asset, task: .analyze, subject: .systemUserID(fixture.worker)))
                    guard answer.allowed else {
                        throw PorticoStatusError(code: .internal, message: "a fresh assignment did not allow")
                    }
                }
            }
            for _ in 0..<20 {
                let (status, output) = try await Self.run(
                    checker,
                    [
                        "127.0.0.1", "\(server.port)", server.operatorKey, "check", "system-user", "\(fixture.worker)",
                        "\(fixture.adAccount)", "ANALYZE",
                    ]
                )
                #expect(status == 0 && output.hasPrefix("allowed ASSIGNED "), "\(output)")
            }
            try await swiftWrites.value
            let (firstStatus, firstOutput) = try await first
            let (secondStatus, secondOutput) = try await second
            #expect(firstStatus == 0, "\(firstOutput)")
            #expect(secondStatus == 0, "\(secondOutput)")
            // After everything, the Swift client sees every write it made.
            let listed = try await client.listAssignmentsByPrincipal(
                .init(principal: Principal(kind: .systemUser, id: fixture.worker), pageSize: 1000)
            )
            #expect(listed.assignments.count == 31)
        }
    }
}

/// A JSON value that is an id or a token secret.
enum AnyID: Decodable {
    case number(UInt64)
    case text(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            self = .number(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }
}
