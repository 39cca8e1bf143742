@testable import PorticoCore
import Testing

@Suite("The audit log's compact form")
struct AuditLogTests {
    static func event(_ revision: Revision) -> AuditEvent {
        let callers: [Caller] = [.operator, .service(CredentialID(revision &* 7)),
                                 .service(CredentialID(3), onBehalfOf: PrincipalID(revision << 40)),
                                 .systemUser(TokenID(UInt64.max - revision))]
        return AuditEvent(revision: revision, time: Timestamp(milliseconds: revision % 5 == 0 ? -1 : 1_700_000_000_000),
                          caller: callers[Int(revision % 4)], operation: revision % 3 == 0 ? "assign" : "ünassign",
                          portfolio: revision % 2 == 0 ? nil : PortfolioID(revision), targetKind:
                              AuditEvent.TargetKind.allCases[Int(revision) % AuditEvent.TargetKind.allCases.count],
                          targetID: revision * 1_000_003, target: "principal:\(revision) asset:\(revision + 1)",
                          effects: (0..<Int(revision % 3)).map { "effect \($0) of \(revision)" })
    }

    @Test("every event reads back as written, across chunk boundaries, and a copy keeps what it had")
    func roundTrip() {
        var log = AuditLog()
        var copies: [(AuditLog, Int)] = []
        let total = AuditLog.chunkSize * 3 + 5
        for revision in 1...Revision(total) {
            log.append(Self.event(revision))
            if revision % 97 == 0 { copies.append((log, Int(revision))) }
        }
        #expect(log.count == total)
        for revision in 1...Revision(total) { #expect(log[revision] == Self.event(revision)) }
        #expect(log[0] == nil && log[Revision(total) + 1] == nil)
        for (copy, count) in copies {
            #expect(copy.count == count)
            #expect(copy[Revision(count)] == Self.event(Revision(count)))
            #expect(copy[Revision(count) + 1] == nil)
        }
    }
}
