import PorticoCore

extension CoreScenarioRunner {
    /// Compares a step's outcome with its expectation (no expectation: "succeeds") and returns every
    /// difference; empty when the outcome is as expected.
    func verify(_ outcome: Result<Outcome, PorticoError>, _ expect: Expectation?) throws -> [String] {
        let expect = expect ?? Expectation.succeeds
        let value: Outcome
        switch outcome {
        case .failure(let error):
            return expect.differences(failure: (error.code.name, error.reason, "\(error)")) ?? []
        case .success(let success):
            if let differences = expect.differences(failure: nil) { return differences }
            value = success
        }
        var differences: [String] = []
        switch value {
        case .decision(let decision):
            differences += Self.compare(decision, allowed: expect.allowed, reason: expect.reason)
        case .explanation(let explanation):
            differences += Self.compare(explanation.decision, allowed: expect.allowed, reason: expect.reason)
            if let rules = expect.rules {
                let got = explanation.steps.map { ($0.passed ? "" : "!") + $0.rule.name }
                if got != rules { differences.append("explain rules \(got), expected \(rules)") }
            }
        case .decisions(let decisions):
            let expected = expect.decisions ?? []
            if decisions.count != expected.count {
                differences.append("batch of \(decisions.count), expected \(expected.count)")
            }
            for (index, (decision, item)) in zip(decisions, expected).enumerated() {
                differences += Self.compare(decision, allowed: item.allowed, reason: item.reason)
                    .map { "check \(index + 1): \($0)" }
            }
            if Set(decisions.map(\.revision)).count > 1 { differences.append("a batch answered at two revisions") }
        case .assets(let page):
            if let expected = expect.assets {
                let got = page.items.map(\.asset.rawValue)
                let want = try expected.map { try self.id($0) }
                if got != want { differences.append("assets \(got), expected \(want)") }
            }
            if let tasks = expect.tasks, page.items.map(\.tasks.names) != tasks {
                differences.append("asset tasks \(page.items.map(\.tasks.names)), expected \(tasks)")
            }
            differences += try expect.differences(next: page.nextPageToken, resolve: self.id)
        case .principals(let page):
            if let expected = expect.principals {
                let got = page.items.map(\.principal.rawValue)
                let want = try expected.map { try self.id($0.principal) }
                if got != want { differences.append("principals \(got), expected \(want)") }
                for (item, wanted) in zip(page.items, expected) {
                    if let tasks = wanted.tasks, item.tasks.names != tasks {
                        differences.append(
                            "tasks of principal \(item.principal): \(item.tasks.names), expected \(tasks)")
                    }
                }
            }
            differences += try expect.differences(next: page.nextPageToken, resolve: self.id)
        case .audit(let page):
            if let count = expect.count, page.items.count != count {
                differences.append("\(page.items.count) audit events, expected \(count)")
            }
            if let operations = expect.operations, page.items.map(\.operation) != operations {
                differences.append("audit operations \(page.items.map(\.operation)), expected \(operations)")
            }
            if let effects = expect.effectsOfLast, page.items.last?.effects.count != effects {
                differences.append("effects of last event \(page.items.last?.effects ?? []), expected \(effects)")
            }
            if let targets = expect.targets {
                let got = page.items.map { "\($0.targetKind.name):\($0.targetID)" }
                let want = try targets.map { text in
                    let (kind, reference) = try Expectation.target(text)
                    return "\(kind):\(try self.id(reference))"
                }
                if got != want { differences.append("audit targets \(got), expected \(want)") }
            }
            if let portfolios = expect.portfolios {
                let got = page.items.map { $0.portfolio?.rawValue ?? 0 }
                let want = try portfolios.map { try self.id($0) }
                if got != want { differences.append("audit portfolios \(got), expected \(want)") }
            }
        case .partners(let page):
            if let expected = expect.partners {
                let got = page.items.map { [$0.portfolio.rawValue, $0.partner.rawValue] }
                let want = try expected.map { [try self.id($0.portfolio), try self.id($0.partner)] }
                if got != want { differences.append("partners \(got), expected \(want)") }
            }
        case .caller(let caller):
            if let expected = expect.caller {
                let want = try self.caller(expected)
                if caller != want { differences.append("caller \(caller), expected \(want)") }
            }
        case .ids(let ids, let owners):
            differences += try expect.differences(ids: ids, owners: owners, resolve: self.id)
        case .done(let result):
            differences += expect.differences(revision: result?.revision, secretShown: result?.secret != nil)
            differences += try self.differences(result, sameAs: expect.sameAs)
        case .preview(let preview):
            differences += try self.differences(preview, expect)
        case .swept(let results):
            if let count = expect.count, results.count != count {
                differences.append("the sweep made \(results.count) changes, expected \(count)")
            }
        }
        return differences
    }

    private static func compare(_ decision: Decision, allowed: Bool?, reason: String?) -> [String] {
        Expectation.differences(allowed: decision.allowed, reason: decision.reason.name, expected: allowed, reason)
    }
}

extension Expectation {
    /// The expectation of a step without `expect`: it succeeds.
    public static let succeeds = Expectation()

    private init() {}
}
