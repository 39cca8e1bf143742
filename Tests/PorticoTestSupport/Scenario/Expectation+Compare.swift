/// The comparisons every runner makes alike, whatever its answers are made of: each returns the
/// differences between an answer and the expectation, as text for a mismatch (empty: as expected).
extension Expectation {
    /// A step's outcome when it may have failed: `failure` is the error's status name, reason and
    /// description, nil when the step succeeded. Returns the differences from `error` and `reason`
    /// when an error is expected, or from "succeeds" when it is not; nil when the step succeeded as
    /// expected and its answer is still to be compared.
    public func differences(failure: (code: String, reason: String?, description: String)?) -> [String]? {
        if let code = self.error {
            guard let failure else { return ["expected \(code), but it succeeded"] }
            var differences: [String] = []
            if failure.code != code { differences.append("expected \(code), got \(failure.description)") }
            if let reason = self.reason, failure.reason != reason {
                differences.append("expected reason \(reason), got \(failure.description)")
            }
            return differences
        }
        return failure.map { ["unexpected error \($0.description)"] }
    }

    /// A decision, given as whether it allows and its reason's name, against `allowed` and `reason`.
    public static func differences(allowed: Bool, reason: String, expected: Bool?, _ expectedReason: String?)
        -> [String]
    {
        var differences: [String] = []
        if let expected, allowed != expected {
            differences.append("allowed \(allowed) (reason \(reason)), expected \(expected)")
        }
        if let expectedReason, reason != expectedReason {
            differences.append("reason \(reason), expected \(expectedReason)")
        }
        return differences
    }

    /// A page's next token (nil: the last page) against `next`; `resolve` turns a reference into its id.
    public func differences(next: UInt64?, resolve: (Reference) throws -> UInt64) rethrows -> [String] {
        switch self.next {
        case nil:
            return []
        case .none?:
            return next == nil ? [] : ["next page token \(next!), expected none"]
        case .id(let reference)?:
            let want = try resolve(reference)
            return next == want ? [] : ["next page token \(next.map(String.init) ?? "none"), expected \(want)"]
        }
    }

    /// The ids a get or list answered, and for share requests the owners it told (0: not told).
    public func differences(ids: [UInt64], owners: [UInt64]?, resolve: (Reference) throws -> UInt64) rethrows
        -> [String]
    {
        var differences: [String] = []
        if let expected = self.ids {
            let want = try expected.map(resolve)
            if ids != want { differences.append("ids \(ids), expected \(want)") }
        }
        if let expected = self.owners {
            let want = try expected.map(resolve)
            if owners != want { differences.append("owners \(owners ?? []), expected \(want)") }
        }
        return differences
    }

    /// A change's revision and whether it showed a secret.
    public func differences(revision: UInt64?, secretShown: Bool) -> [String] {
        var differences: [String] = []
        if let expected = self.revision, revision != expected {
            differences.append("revision \(revision ?? 0), expected \(expected)")
        }
        if let expected = self.secretShown, secretShown != expected {
            differences.append("secret shown: \(secretShown), expected \(expected)")
        }
        return differences
    }
}
