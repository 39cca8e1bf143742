import PorticoCore
import PorticoPostgres
import PorticoReasons
import PorticoTestSupport
import Testing

/// An idempotency key sent to two nodes at once: the key travels in the change it made, which the
/// second node reads (and validates its own queued changes against) under the log head's lock, in the
/// transaction that would append its copy; so the change is applied once and both answer the same.
@Suite("Idempotency keys across nodes on one PostgreSQL log", .serialized)
struct IdempotencyAcrossNodesTests {
    /// Neither node follows the log, so each validates its copy without knowing of the other's: every
    /// round is a real race, settled only under the head's lock.
    @Test("the same keyed change sent to two nodes at once applies once, and both answers are equal")
    func sameKeyTwoNodes() async throws {
        let location = try await freshLog("idemtwo")
        let a = try await Node(location, follow: false)
        let b = try await Node(location, follow: false)
        defer { stopping(a, b) }
        let fixture = try await Fixture.make(a.portico)
        let rounds = 12
        for round in 0..<rounds {
            let commands: [Command] = [
                .createPortfolio(name: "P\(round)", tier: .standard),
                .generateToken(fixture.bot, app: fixture.app, scopes: ScopeSet(.businessManagement), expiry: .never),
            ]
            let command = commands[round % 2]
            let caller: Caller = round % 2 == 0 ? .operator : fixture.admin
            let key = "round-\(round)"
            async let first = a.portico.execute(command, as: caller, idempotencyKey: key)
            async let second = b.portico.execute(command, as: caller, idempotencyKey: key)
            let (one, two) = try await (first, second)
            #expect(one.revision == two.revision, "round \(round): one revision")
            #expect(one.createdID == two.createdID && one.secret == two.secret, "round \(round): the same answer")
            #expect(one.replayed != two.replayed, "round \(round): one applied, the other answered again")
        }
        let log = try await a.log.load()
        #expect(log.map(\.revision) == Array(1...Revision(log.count)), "dense")
        let portfolios = log.filter { if case .createPortfolio = $0.command { true } else { false } }
        let tokens = log.filter { if case .generateToken = $0.command { true } else { false } }
        #expect(portfolios.count == 1 + rounds / 2, "the fixture's and one per even round")
        #expect(tokens.count == 1 + rounds / 2, "the fixture's and one per odd round")
    }

    @Test("the same key with another body on the other node is refused, as on one node")
    func sameKeyOtherBody() async throws {
        let location = try await freshLog("idemother")
        let a = try await Node(location, follow: false)
        let b = try await Node(location, follow: false)
        defer { stopping(a, b) }
        _ = try await a.portico.execute(.createPortfolio(name: "Seed", tier: .standard), as: .operator)
        async let first = Result(catching: {
            try await a.portico.execute(
                .createPortfolio(name: "One", tier: .standard), as: .operator, idempotencyKey: "k")
        })
        async let second = Result(catching: {
            try await b.portico.execute(
                .createPortfolio(name: "Two", tier: .standard), as: .operator, idempotencyKey: "k")
        })
        let results = await [first, second]
        let applied = results.compactMap { try? $0.get() }
        #expect(applied.count == 1, "exactly one is applied")
        for case .failure(let error) in results {
            #expect((error as? PorticoError)?.errorReason == .idempotencyKeyReused, "\(error)")
        }
        let names = try await a.log.load().compactMap { change -> String? in
            if case .createPortfolio(let name, _, _) = change.command { name } else { nil }
        }
        #expect(names.filter { $0 == "One" || $0 == "Two" }.count == 1)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
