/// Where the check writes the path it took; generic so the plain check specialises to nothing.
protocol CheckTrace {
    mutating func step(_ text: @autoclosure () -> String)
}

/// The hot path's trace: records nothing, and after specialisation costs nothing.
struct NoTrace: CheckTrace {
    @inline(__always)
    mutating func step(_ text: @autoclosure () -> String) {}
}

/// Explain mode's trace.
struct StepTrace: CheckTrace {
    var steps: [String] = []

    mutating func step(_ text: @autoclosure () -> String) { steps.append(text()) }
}
