import Testing

/// A page of Prometheus's text format (what `/metrics` serves), read strictly: every line a comment or
/// `series value`.
public struct Exposition {
    public var values: [String: Double] = [:]
    private var order: [String] = []

    public init(_ text: String) throws {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let space = try #require(line.lastIndex(of: " "), "not a sample: \(line)")
            let series = String(line[..<space])
            let value = try #require(Double(line[line.index(after: space)...]), "not a value: \(line)")
            #expect(self.values[series] == nil, "\(series) twice")
            self.values[series] = value
            self.order.append(series)
        }
    }

    public func sum(prefix: String) -> Double {
        self.values.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +)
    }

    /// The values of the series starting with `prefix`, in the page's order.
    public func series(prefix: String) -> [Double] {
        self.order.filter { $0.hasPrefix(prefix) }.map { self.values[$0]! }
    }
}
