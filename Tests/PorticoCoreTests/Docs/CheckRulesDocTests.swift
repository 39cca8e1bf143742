import Foundation
import PorticoCore
import Testing

/// docs/model.md's table of the check's rules, against the check itself: each row's rule comes where
/// explain says it does, and each reason the row lists is the one the check gives when that rule decides.
@Suite("docs/model.md: the check's rules, in order, with their reasons")
struct CheckRulesDocTests {
    /// One row of the table: the rule, where it is tried, and the reasons it answers.
    struct Row {
        let rule: String
        let triedOn: String
        let denies: [String]
        let allows: [String]

        init(_ cells: [String]) throws {
            try #require(cells.count == 5, "a check-rules row has 5 cells: \(cells)")
            self.rule = String(cells[1].split { $0 == " " || $0 == ":" }.first ?? "")
            self.triedOn = cells[2]
            self.denies = ModelDoc.items(cells[3].isEmpty ? "—" : cells[3])
            self.allows = ModelDoc.items(cells[4].isEmpty ? "—" : cells[4])
        }

        /// Whether the row is tried on a check of this kind.
        func applies(token: Bool, partner: Bool) -> Bool {
            switch self.triedOn {
            case "every check": true
            case "token checks": token
            case "an own asset": !partner
            case "a partner's asset": partner
            default: false
            }
        }
    }

    static func rows() throws -> [Row] { try ModelDoc.table("check-rules").map(Row.init) }

    @Test("every row says where it is tried, in the page's words")
    func vocabulary() throws {
        for row in try Self.rows() {
            #expect(
                ["every check", "token checks", "an own asset", "a partner's asset"].contains(row.triedOn),
                "\(row.triedOn)")
            #expect(Explanation.Rule.allCases.map(\.name).contains(row.rule), "\(row.rule) is not a rule explain names")
        }
    }

    @Test("the reasons in the table are every reason a check gives")
    func everyReason() throws {
        let listed = Set(try Self.rows().flatMap { $0.denies + $0.allows })
        #expect(listed == Set(DecisionReason.allCases.map(\.name)))
    }

    @Test("a check that passes every rule takes them in the table's order", arguments: [false, true], [false, true])
    func order(token: Bool, partner: Bool) async throws {
        let world = try await CheckWorld.make()
        // An EMPLOYEE allowed by its assignment goes through every rule that applies.
        let explanation =
            switch (token, partner) {
            case (false, false): world.explain(principal: world.ownEmployee, world.ownAsset, .analyze)
            case (true, false): world.explain(token: world.ownEmployeeToken, world.ownAsset, .analyze)
            case (false, true): world.explain(principal: world.partnerEmployee, world.sharedAsset, .analyze)
            case (true, true): world.explain(token: world.partnerEmployeeToken, world.sharedAsset, .analyze)
            }
        #expect(explanation.decision.allowed)
        let expected = try Self.rows().filter { $0.applies(token: token, partner: partner) }.map(\.rule)
        #expect(explanation.steps.map(\.rule.name) == expected)
    }

    @Test("each reason comes from the rule whose row lists it", arguments: DecisionReason.allCases.map(\.name))
    func reason(_ name: String) async throws {
        let world = try await CheckWorld.make()
        let situation = try #require(world.situations[name], "no situation that answers \(name)")
        let explanation = situation.explanation
        #expect(explanation.decision.reason.name == name)
        let decided = try #require(explanation.steps.last)
        let rows = try Self.rows().filter {
            $0.rule == decided.rule.name && $0.applies(token: situation.token, partner: situation.partner)
        }
        let row = try #require(
            rows.first { $0.denies.contains(name) || $0.allows.contains(name) },
            "no row of rule \(decided.rule.name) lists \(name)")
        #expect(row.allows.contains(name) == explanation.decision.allowed)
    }
}
