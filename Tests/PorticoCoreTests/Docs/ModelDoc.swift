import Foundation
import PorticoCore
import Testing

struct MissingTable: Error, CustomStringConvertible {
    let marker: String
    var description: String { "docs/model.md has no table marked \(marker)" }
}

/// docs/model.md, read at test time: its tables, each found by the `<!-- table: NAME -->` line above it.
enum ModelDoc {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/model.md")

    static func page() throws -> String {
        try String(contentsOf: Self.path, encoding: .utf8)
    }

    /// The body rows of the table marked `name`, each a list of cells with spaces and backticks removed.
    /// - Throws: when the page has no such table, naming it.
    static func table(_ name: String) throws -> [[String]] {
        let lines = try Self.page().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let marker = "<!-- table: \(name) -->"
        guard let start = lines.firstIndex(of: marker) else { throw MissingTable(marker: marker) }
        let rows = lines[(start + 1)...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
        // The header and the |---| line are not data.
        return rows.dropFirst(2).map(Self.cells)
    }

    static func cells(_ line: String) -> [String] {
        line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map {
            $0.replacingOccurrences(of: "`", with: "").trimmingCharacters(in: .whitespaces)
        }
    }

    /// A list cell (`MANAGE, ADVERTISE`) as its items; "—" is the empty list.
    static func items(_ cell: String) -> [String] {
        cell == "—" ? [] : cell.components(separatedBy: ", ")
    }

    /// Rows as markdown lines, for a failure message that shows what the page should hold.
    static func markdown(_ rows: [[String]]) -> String {
        rows.map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n")
    }

    /// The tasks of `set` by their names, strongest first, as the tables list them.
    static func names(_ set: TaskSet, _ type: AssetType) -> String {
        set.isEmpty ? "—" : ModelTables.ordered(set, type).map { "`\($0.name)`" }.joined(separator: ", ")
    }
}

/// The tables of docs/model.md as the code makes them: what the page must hold.
enum ModelTables {
    /// `| type | valid tasks |`, one row per asset type.
    static var tasks: [[String]] {
        AssetType.allCases.map { ["`\($0.name)`", ModelDoc.names(TaskLattice.validTasks(for: $0), $0)] }
    }

    /// `| type | task | implies directly | implies in all |`, one row per valid task of each type.
    static var implications: [[String]] {
        AssetType.allCases.flatMap { type in
            Self.ordered(TaskLattice.validTasks(for: type), type).map { task in
                let all = Self.implied(task, type)
                return [
                    "`\(type.name)`", "`\(task.name)`", ModelDoc.names(Self.direct(task, type), type),
                    ModelDoc.names(all, type),
                ]
            }
        }
    }

    /// `| scope | asset type | tasks covered |`, one row per scope and type it covers; a scope that covers
    /// no asset task has one row with "—".
    static var scopes: [[String]] {
        Scope.allCases.flatMap { scope -> [[String]] in
            let covered = AssetType.allCases.filter { !scope.covers($0).isEmpty }
            guard !covered.isEmpty else { return [["`\(scope.name)`", "—", "—"]] }
            return covered.map { ["`\(scope.name)`", "`\($0.name)`", ModelDoc.names(scope.covers($0), $0)] }
        }
    }

    /// `| type | task | scopes that cover it |`: which scope a token needs for each task.
    static var scopesByTask: [[String]] {
        AssetType.allCases.flatMap { type in
            Self.ordered(TaskLattice.validTasks(for: type), type).map { task in
                let scopes = Scope.allCases.filter { $0.covers(type).contains(task) }
                let names = scopes.isEmpty ? "—" : scopes.map { "`\($0.name)`" }.joined(separator: ", ")
                return ["`\(type.name)`", "`\(task.name)`", names]
            }
        }
    }

    /// The tasks of `set`, those that imply more first (so a task comes before every task it implies),
    /// then in the order of `AssetTask`.
    static func ordered(_ set: TaskSet, _ type: AssetType) -> [AssetTask] {
        set.tasks.sorted { left, right in
            let (l, r) = (Self.implied(left, type).tasks.count, Self.implied(right, type).tasks.count)
            return l != r ? l > r : left.rawValue < right.rawValue
        }
    }

    /// What `task` implies on `type`, itself excluded.
    static func implied(_ task: AssetTask, _ type: AssetType) -> TaskSet {
        TaskLattice.closure(of: TaskSet(task), for: type).subtracting(TaskSet(task))
    }

    /// The tasks `task` implies without a step between: those no other implied task implies too.
    static func direct(_ task: AssetTask, _ type: AssetType) -> TaskSet {
        let all = Self.implied(task, type)
        let further = all.tasks.reduce(TaskSet()) { $0.union(Self.implied($1, type)) }
        return all.subtracting(further)
    }

    /// Cells as the page compares them: backticks removed.
    static func plain(_ rows: [[String]]) -> [[String]] {
        rows.map { $0.map { $0.replacingOccurrences(of: "`", with: "") } }
    }
}
