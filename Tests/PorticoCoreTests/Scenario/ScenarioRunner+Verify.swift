import Foundation
import PorticoCore
import Testing

extension ScenarioRunner {
    /// Compares a step's outcome with its expectation; no expectation means "succeeds".
    func verify(_ outcome: Result<Outcome, PorticoError>, _ expect: [String: Any]?, at place: String) throws {
        let expect = expect ?? [:]
        if let code = expect["error"] as? String {
            switch outcome {
            case .success: Issue.record("\(place): expected \(code), but it succeeded")
            case .failure(let error):
                #expect(error.code.name == code, "\(place): \(error)")
                if let reason = expect["reason"] as? String { #expect(error.reason == reason, "\(place): \(error)") }
            }
            return
        }
        let value: Outcome
        switch outcome {
        case .failure(let error):
            Issue.record("\(place): unexpected error \(error)")
            return
        case .success(let success):
            value = success
        }
        switch value {
        case .decision(let decision):
            try compare(decision, expect, place)
        case .explanation(let explanation):
            try compare(explanation.decision, expect, place)
            if let rules = expect["rules"] as? [String] {
                let got = explanation.steps.map { ($0.passed ? "" : "!") + $0.rule.name }
                #expect(got == rules, "\(place): explain rules")
            }
        case .decisions(let decisions):
            let expected = expect["decisions"] as? [[String: Any]] ?? []
            #expect(decisions.count == expected.count, "\(place): batch size")
            for (decision, item) in zip(decisions, expected) { try compare(decision, item, place) }
            #expect(Set(decisions.map(\.revision)).count <= 1, "\(place): one revision per batch")
        case .assets(let page):
            if let expected = expect["assets"] as? [Any] {
                #expect(page.items.map(\.asset.rawValue) == (try expected.map { try id($0) }), "\(place): assets")
            }
            if let tasks = expect["tasks"] as? [[String]] {
                #expect(page.items.map(\.tasks.names) == tasks, "\(place): asset tasks")
            }
            try compareNext(page.nextPageToken, expect, place)
        case .principals(let page):
            if let expected = expect["principals"] as? [[String: Any]] {
                #expect(page.items.map(\.principal.rawValue) == (try expected.map { try id($0["principal"]) }),
                        "\(place): principals")
                for (item, want) in zip(page.items, expected) {
                    if let tasks = want["tasks"] as? [String] {
                        #expect(item.tasks.names == tasks, "\(place): tasks of principal \(item.principal)")
                    }
                }
            }
            try compareNext(page.nextPageToken, expect, place)
        case .audit(let page):
            if let count = expect["count"] as? Int { #expect(page.items.count == count, "\(place): audit count") }
            if let operations = expect["operations"] as? [String] {
                #expect(page.items.map(\.operation) == operations, "\(place): audit operations")
            }
            if let effects = expect["effectsOfLast"] as? Int {
                #expect(page.items.last?.effects.count == effects, "\(place): effects of last event")
            }
            if let targets = expect["targets"] as? [String] {
                let want = try targets.map { target in
                    let (kind, reference) = try splitTarget(target)
                    return "\(kind):\(try id(reference))"
                }
                #expect(page.items.map { "\($0.targetKind.name):\($0.targetID)" } == want, "\(place): audit targets")
            }
            if let portfolios = expect["portfolios"] as? [Any] {
                #expect(page.items.map { $0.portfolio?.rawValue ?? 0 } == (try portfolios.map { try id($0) }),
                        "\(place): audit portfolios")
            }
        case .partners(let page):
            if let expected = expect["partners"] as? [[String: Any]] {
                let got = page.items.map { [$0.portfolio.rawValue, $0.partner.rawValue] }
                let want = try expected.map { [try id($0["portfolio"]), try id($0["partner"])] }
                #expect(got == want, "\(place): partners")
            }
        case .caller(let caller):
            if let expected = expect["caller"] as? String {
                #expect(caller == (try parseCaller(expected)), "\(place): caller")
            }
        case .done(let result):
            if expect["revision"] as? Int != nil {
                #expect(result?.revision == UInt64(expect["revision"] as! Int), "\(place): revision")
            }
            if let shown = expect["secretShown"] as? Bool { #expect((result?.secret != nil) == shown, "\(place)") }
        }
    }

    private func compare(_ decision: Decision, _ expect: [String: Any], _ place: String) throws {
        if let allowed = expect["allowed"] as? Bool {
            #expect(decision.allowed == allowed, "\(place): allowed (reason \(decision.reason.name))")
        }
        if let reason = expect["reason"] as? String { #expect(decision.reason.name == reason, "\(place): reason") }
    }

    private func compareNext(_ next: UInt64?, _ expect: [String: Any], _ place: String) throws {
        guard let want = expect["next"] else { return }
        if want is NSNull { #expect(next == nil, "\(place): no next page") } else {
            #expect(next == (try id(want)), "\(place): next page token")
        }
    }

    /// `KIND:@name` (an audit target in an expectation) as the kind and the id reference.
    func splitTarget(_ text: String) throws -> (String, String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw Failure.malformed("bad audit target \(text)") }
        return (parts[0], parts[1])
    }
}
