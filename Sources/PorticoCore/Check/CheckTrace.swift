/// Where the check writes the path it took; generic so the plain check specialises to nothing.
protocol CheckTrace {
    mutating func step(_ rule: Explanation.Rule, passed: Bool, _ detail: @autoclosure () -> String)
}

/// The hot path's trace: records nothing, and after specialisation costs nothing (the detail is an
/// autoclosure that is never called, so no string is built).
struct NoTrace: CheckTrace {
    @inline(__always)
    mutating func step(_ rule: Explanation.Rule, passed: Bool, _ detail: @autoclosure () -> String) {}
}

/// Explain mode's trace.
struct StepTrace: CheckTrace {
    var steps: [Explanation.Step] = []

    mutating func step(_ rule: Explanation.Rule, passed: Bool, _ detail: @autoclosure () -> String) {
        steps.append(Explanation.Step(rule, passed: passed, detail()))
    }
}
