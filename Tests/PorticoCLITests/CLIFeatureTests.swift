import Foundation
import Testing

/// External ids, expiring assignments, idempotency keys and previews through the `portico` command.
@Suite("portico: external ids, expiry, idempotency keys, preview")
struct CLIFeatureTests {
    @Test("external ids are given, looked up and checked; a preview prints a diff and applies nothing")
    func externalIDsAndPreview() async throws {
        let server = try await CLIServerTests.populated()
        for command in [
            ["asset", "add", "--portfolio", "1", "--type", "PAGE", "--name", "Page", "--external-id", "page-77"],  // 6
            ["person", "add", "--portfolio", "1", "--name", "Ann", "--external-id", "crm:user:42"],  // 7
            [
                "asset", "assign", "--asset", "6", "--person", "7", "--task", "MANAGE",
                "--expires-at", "2999-01-01T00:00:00Z",
            ],
        ] {
            let outcome = try await server.portico(command)
            try #require(outcome.status == 0, "\(command): \(outcome)")
        }
        let found = try await server.portico([
            "external-id", "lookup", "--kind", "ASSET", "--portfolio", "1", "--external-id", "page-77",
        ])
        #expect(found.status == 0 && found.stdout.contains("id: 6"), "\(found)")
        let set = try await server.portico([
            "external-id", "set", "--kind", "ASSET", "--id", "4", "--external-id", "act_1",
        ])
        #expect(set.status == 0, "\(set)")
        let again = try await server.portico([
            "external-id", "set", "--kind", "ASSET", "--id", "4", "--external-id", "act_2",
        ])
        #expect(again.status != 0 && again.stderr.contains("EXTERNAL_ID_IMMUTABLE"), "\(again)")
        let assignments = try await server.portico(["asset", "assignments", "--person", "7"])
        #expect(assignments.stdout.contains("2999-01-01T00:00:00Z"), "\(assignments)")

        let preview = try await server.portico([
            "preview", "--change", "unassign person=7 asset=6", "--change", "remove-person id=7",
        ])
        #expect(preview.status == 0, "\(preview)")
        #expect(preview.stdout.contains("1 change(s) in access"), "\(preview)")
        #expect(preview.stdout.contains("person 7 (portfolio 1) asset 6: -MANAGE"), "\(preview)")
        let still = try await server.portico(["check", "--person", "7", "--asset", "6", "--task", "MANAGE"])
        #expect(still.status == 0, "the preview applied nothing: \(still)")
        let refused = try await server.portico(["preview", "--change", "unassign person=7 asset=999"])
        #expect(refused.status != 0, "\(refused)")
        let malformed = try await server.portico(["preview", "--change", "frobnicate id=1"])
        #expect(malformed.status == 64, "\(malformed)")
    }

    @Test("--idempotency-key: the same change twice makes one person and answers the same id")
    func idempotencyKey() async throws {
        let server = try await CLIServerTests.populated()
        let command = [
            "person", "add", "--portfolio", "1", "--name", "Bo", "--idempotency-key", "cli-add-bo", "--json",
        ]
        let first = try await server.portico(command)
        let second = try await server.portico(command)
        #expect(first.status == 0 && second.status == 0)
        #expect(first.stdout == second.stdout, "\(first) \(second)")
        let other = try await server.portico([
            "person", "add", "--portfolio", "1", "--name", "Cy", "--idempotency-key", "cli-add-bo",
        ])
        #expect(other.status != 0 && other.stderr.contains("IDEMPOTENCY_KEY_REUSED"), "\(other)")
    }
}
