import ArgumentParser
import Foundation
import PorticoCore
import PorticoStore

#if canImport(Glibc)
    import Glibc
#endif

/// Progress of an export or import on standard output: on a terminal one line rewritten in place
/// (several a second), otherwise a line every five seconds, as a log would want them.
final class TransferProgress {
    private let terminal = isatty(STDOUT_FILENO) == 1
    private var meter: ProgressMeter!
    private var wrote = false

    init(_ what: String) {
        meter = ProgressMeter("portico: \(what)", interval: terminal ? .milliseconds(200) : .seconds(5)) {
            [unowned self] line in
            if self.terminal {
                FileHandle.standardOutput.write(Data(("\r" + line + "\u{1B}[K").utf8))
                self.wrote = true
            } else {
                say(line)
            }
        }
    }

    func update(_ done: Int, _ total: Int) { meter.update(done, total) }

    /// Ends the rewritten line, so that the next output starts on its own.
    func end() {
        if wrote { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
}

/// `portico export FILE`: a consistent snapshot of the data directory's whole state, for backups and moves.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the whole state at one revision to FILE (protobuf, proto/portico/v1/export.proto).",
        discussion: """
            Reads DATA_DIR/portico.sqlite directly, in one read transaction: it may run while the server
            is serving, and the file shows one revision. The file holds token digests, never tokens.
            """
    )

    @Argument(help: "The export file to write (replaced if it exists).")
    var file: String

    @Option(name: .customLong("data-dir"), help: "The server's data directory (env PORTICO_DATA_DIR).")
    var dataDirectory: String = ProcessInfo.processInfo.environment["PORTICO_DATA_DIR"] ?? "./data"

    func run() async throws {
        do {
            let progress = TransferProgress("exporting")
            let revision = try await SQLiteStore.export(
                directory: self.dataDirectory, to: self.file, now: SystemClock().now(),
                progress: progress.update)
            progress.end()
            say("portico: exported revision \(revision) to \(self.file)")
        } catch let error as StoreError {
            throw ValidationError("export failed: \(error)")
        }
    }
}

/// `portico import FILE`: restores an export into an empty data directory.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Restore an export FILE into an empty data directory.",
        discussion: """
            The changes are checked and replayed before anything is written; the database appears only
            once complete. Start the server on the directory afterwards. The operator key is not part of
            an export: the server creates a new one, or give it with --operator-key.
            """
    )

    @Argument(help: "The export file to read.")
    var file: String

    @Option(
        name: .customLong("data-dir"),
        help: "The data directory to restore into; it must hold no database (env PORTICO_DATA_DIR).")
    var dataDirectory: String = ProcessInfo.processInfo.environment["PORTICO_DATA_DIR"] ?? "./data"

    func run() async throws {
        do {
            let progress = TransferProgress("importing")
            let revision = try await SQLiteStore.importing(
                self.file, into: self.dataDirectory, progress: progress.update)
            progress.end()
            say("portico: imported revision \(revision) into \(self.dataDirectory)")
        } catch let error as StoreError {
            throw ValidationError("import failed: \(error)")
        } catch let error as PorticoError {
            throw ValidationError("import failed: the file does not replay: \(error)")
        }
    }
}
