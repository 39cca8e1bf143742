import ArgumentParser
import Foundation
import PorticoCore
import PorticoStore

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
            let revision = try await SQLiteStore.export(directory: self.dataDirectory, to: self.file, now: SystemClock().now())
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

    @Option(name: .customLong("data-dir"), help: "The data directory to restore into; it must hold no database (env PORTICO_DATA_DIR).")
    var dataDirectory: String = ProcessInfo.processInfo.environment["PORTICO_DATA_DIR"] ?? "./data"

    func run() async throws {
        do {
            let revision = try await SQLiteStore.importing(self.file, into: self.dataDirectory)
            say("portico: imported revision \(revision) into \(self.dataDirectory)")
        } catch let error as StoreError {
            throw ValidationError("import failed: \(error)")
        } catch let error as PorticoError {
            throw ValidationError("import failed: the file does not replay: \(error)")
        }
    }
}
