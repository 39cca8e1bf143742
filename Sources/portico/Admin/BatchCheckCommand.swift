import ArgumentParser
import Foundation
import PorticoWire

/// `portico batch-check`: many checks in one call, answered at one revision.
struct BatchCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch-check",
        abstract: "Ask many checks at once; they are answered at one revision, in the order given.",
        discussion: """
            A check is three words, SUBJECT asset:ID TASK, e.g. `system-user:6 asset:5 ANALYZE`, where \
            SUBJECT is person:ID, system-user:ID or token:SECRET. Give checks with --check (repeat it), in a \
            file with --file (one a line; blank lines and lines starting with # are skipped; `-` reads \
            standard input), or both. One call carries at most max_batch_checks checks (1000 by default; \
            `portico server-info` shows it).

            EXIT STATUS: 0 every check allowed, 3 at least one denied, 1 the checks could not be made (or the \
            file is unreadable or malformed), 64 usage error.
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @Option(
        name: .customLong("check"),
        help: ArgumentHelp(
            "A check: SUBJECT asset:ID TASK, in one argument (quote it); repeat for several.", valueName: "check"))
    var checks: [BatchCheckLine] = []
    @Option(help: ArgumentHelp("A file of checks, one a line; - for standard input.", valueName: "file"))
    var file: String?
    @Flag(help: "Show, for each check, the rules that allowed or denied.") var explain = false
    @Option(help: "Answer at this revision or a newer one.") var minRevision: UInt64 = 0

    func validate() throws {
        guard !self.checks.isEmpty || self.file != nil else { throw ValidationError("give --check or --file") }
    }

    func run() async throws {
        let lines = try self.checks + (self.file.map(BatchCheckLine.read) ?? [])
        guard !lines.isEmpty else { throw CommandFailure("\(self.file ?? "the file") holds no check") }
        let request = BatchCheckPermissionsRequest(
            checks: lines.map(\.item), explain: self.explain, minRevision: self.minRevision)
        let response = try await self.connection.send(PorticoService.BatchCheckPermissions.self, request)
        if self.connection.json {
            self.connection.print(response)
        } else {
            print(Self.text(lines, response))
        }
        if response.results.contains(where: { !$0.allowed }) { throw ExitCode(3) }
    }

    /// The revision, then one row a check; with explain, each check's steps after the table.
    static func text(_ lines: [BatchCheckLine], _ response: BatchCheckPermissionsResponse) -> String {
        let rows = zip(lines, response.results).map { line, result in
            [
                line.subjectText, "\(line.item.assetID)", Render.shortName(line.item.task), Render.cell(result.allowed),
                Render.shortName(result.reason),
            ]
        }
        var text =
            "revision: \(response.revision)\nresults:\n"
            + Render.columns(["subject", "asset", "task", "allowed", "reason"], rows)
        for (index, (line, result)) in zip(lines, response.results).enumerated() where !result.explanation.isEmpty {
            text += "\nexplanation of check \(index + 1) (\(line.text)):\n" + Render.table(result.explanation)
        }
        return text
    }
}

/// One check of a batch, as written on the command line or in a file: `system-user:6 asset:5 ANALYZE`.
struct BatchCheckLine: ExpressibleByArgument {
    let item: CheckItem
    /// The words as given, for the explanation's heading (a token secret shortened to its id).
    let text: String
    let subjectText: String

    init?(argument: String) {
        guard let line = try? Self(parsing: argument) else { return nil }
        self = line
    }

    /// - Throws: `CommandFailure` saying which word is wrong.
    init(parsing text: String) throws {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count == 3 else {
            throw CommandFailure(
                "'\(text)' is not SUBJECT asset:ID TASK (three words, e.g. system-user:6 asset:5 ANALYZE)")
        }
        let subject = words[0]
        let item: CheckItem.Subject
        if let id = Self.id(subject, after: "person:") {
            item = .personID(id)
            self.subjectText = subject
        } else if let id = Self.id(subject, after: "system-user:") {
            item = .systemUserID(id)
            self.subjectText = subject
        } else if subject.hasPrefix("token:"), subject.count > "token:".count {
            let secret = String(subject.dropFirst("token:".count))
            item = .token(secret)
            // Never print a secret back: ptk_4_… names token 4.
            self.subjectText = "token:" + secret.split(separator: "_").prefix(2).joined(separator: "_") + "_…"
        } else {
            throw CommandFailure("'\(subject)' is not a subject: person:ID, system-user:ID or token:SECRET")
        }
        guard let asset = Self.id(words[1], after: "asset:") else {
            throw CommandFailure("'\(words[1])' is not an asset: asset:ID")
        }
        guard let task = AssetTask(argument: words[2]) else {
            throw CommandFailure(
                "'\(words[2])' is not a task: one of \(AssetTask.allValueStrings.joined(separator: ", "))")
        }
        self.item = CheckItem(assetID: asset, task: task, subject: item)
        self.text = [self.subjectText, words[1], words[2]].joined(separator: " ")
    }

    static func id(_ word: String, after prefix: String) -> UInt64? {
        guard word.hasPrefix(prefix) else { return nil }
        return UInt64(word.dropFirst(prefix.count))
    }

    /// The checks of a file (or standard input for `-`).
    /// - Throws: `CommandFailure` naming the file and line of the first malformed check.
    static func read(_ path: String) throws -> [BatchCheckLine] {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw CommandFailure("cannot read \(path): \(ConnectionOptions.describe(error))")
            }
        }
        var lines: [BatchCheckLine] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false
        ).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do {
                lines.append(try BatchCheckLine(parsing: trimmed))
            } catch let failure as CommandFailure {
                throw CommandFailure("\(path == "-" ? "standard input" : path), line \(number + 1): \(failure.message)")
            }
        }
        return lines
    }
}
