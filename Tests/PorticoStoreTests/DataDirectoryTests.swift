import Foundation
import PorticoClient
@testable import PorticoCore
@testable import PorticoStore
import PorticoWire
import Testing

#if canImport(Glibc)
import Glibc
import PorticoTestSupport
#endif

/// One process per data directory, and files only their owner can read.
@Suite("Data directory: lock and file modes")
struct DataDirectoryTests {
    /// The permission bits of `path`.
    static func mode(_ path: String) throws -> mode_t {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw StoreError(.cannotOpen, "no file \(path)") }
        return info.st_mode & 0o777
    }

    /// A directory that exists already, with mode 0755, as an operator's `mkdir` leaves it.
    static func openDirectory(_ label: String) -> TemporaryDirectory {
        let directory = TemporaryDirectory(label)
        chmod(directory.path, 0o755)
        return directory
    }

    @Test("a second store on a held directory fails at once, naming the holder's pid; closing frees it")
    func secondOpenInProcess() async throws {
        let directory = TemporaryDirectory("lock")
        let first = try SQLiteStore(directory: directory.path)
        do {
            let second = try SQLiteStore(directory: directory.path)
            await second.close()
            Issue.record("a second store opened a held data directory")
        } catch let error as StoreError {
            #expect(error.code == .locked)
            #expect(error.message.contains("pid \(getpid())"), "\(error)")
        }
        // Import and a second DataDirectory are refused the same way.
        await #expect(throws: StoreError.self) { try await SQLiteStore.importing("/nonexistent", into: directory.path) }
        #expect(throws: StoreError.self) { try DataDirectory(path: directory.path) }
        await first.close()
        let again = try SQLiteStore(directory: directory.path)
        await again.close()
    }

    @Test("an export beside a running store reads it without writing there")
    func exportBesideHolder() async throws {
        let open = try await OpenStore.make("lock-export")
        let (directory, store, portico) = (open.directory, open.store, open.portico)
        let files = TemporaryDirectory("lock-export-file")
        let exported = try await SQLiteStore.export(directory: directory.path, to: files.file("x.portico"),
                                                    now: Timestamp(milliseconds: 0))
        #expect(exported == portico.snapshot.revision)
        #expect(try Self.mode(files.file("x.portico")) == 0o600)
        await store.close()
    }

    @Test("a second server process on the directory exits at once, naming the first's pid")
    func secondServerProcess() throws {
        let directory = TemporaryDirectory("lock-process")
        let key = "pok_" + String(repeating: "a", count: 40)
        let first = try ServerProcess(dataDirectory: directory.path, operatorKey: key)
        defer { first.terminate() }
        do {
            let second = try ServerProcess(dataDirectory: directory.path, operatorKey: key)
            second.terminate()
            Issue.record("a second server started on a held data directory")
        } catch let failure as ServerProcess.Failure {
            #expect(failure.description.contains("pid \(first.pid)"), "\(failure)")
            #expect(failure.description.contains("in use by another Portico process"), "\(failure)")
        }
    }

    @Test("every file a store creates in an existing 0755 directory is 0600; the directory draws a warning")
    func storeFileModes() async throws {
        let directory = Self.openDirectory("modes")
        let held = try DataDirectory(path: directory.path)
        #expect(held.warnings.contains { $0.contains("mode 755") }, "\(held.warnings)")
        let store = try SQLiteStore(dataDirectory: held)
        let portico = try await Portico.open(store: store)
        _ = try await Fixture.make(portico)
        // While the store is open the WAL and shared-memory files exist too.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["portico.lock", "portico.sqlite", "portico.sqlite-shm", "portico.sqlite-wal"])
        for name in names { #expect(try Self.mode(directory.file(name)) == 0o600, "\(name)") }
        await store.close()
        held.release()
        let quiet = TemporaryDirectory("modes-private")
        chmod(quiet.path, 0o700)
        #expect(try DataDirectory(path: quiet.path).warnings.isEmpty)
    }

    @Test("files an older Portico left readable by others are narrowed to 0600 when opened")
    func olderFilesNarrowed() async throws {
        let directory = Self.openDirectory("modes-old")
        let store = try SQLiteStore(directory: directory.path)
        _ = try await Portico.open(store: store)
        await store.close()
        chmod(directory.file(SQLiteStore.fileName), 0o644)
        let reopened = try SQLiteStore(directory: directory.path)
        #expect(try Self.mode(directory.file(SQLiteStore.fileName)) == 0o600)
        await reopened.close()
    }

    @Test("the server creates every file 0600 in an existing 0755 directory, the operator key included, and warns")
    func serverFileModes() async throws {
        let directory = Self.openDirectory("modes-server")
        let path = directory.path
        let server = try await offThePool {
            try ServerProcess(dataDirectory: path, operatorKey: nil, logLevel: "warning")
        }
        #expect(server.output.contains("open to other users (mode 755)"), "\(server.output)")
        let key = try String(contentsOfFile: directory.file("operator.key"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let client = CrashTests.client(port: server.port, key: key)
        do {
            _ = try await client.createPortfolio(.init(name: "modes", systemUserTier: .standard))
        } catch {
            Issue.record("\(error); \(server.status)")
            throw error
        }
        let running = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(Set(running).isSuperset(of: ["operator.key", "portico.lock", "portico.sqlite", "portico.sqlite-wal",
                                             "portico.sqlite-shm"]), "\(running)")
        for name in running { #expect(try Self.mode(directory.file(name)) == 0o600, "\(name)") }
        await client.close()
        server.terminate()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            #expect(try Self.mode(directory.file(name)) == 0o600, "\(name) after shutdown")
        }
    }

    @Test("an operator key another user could read is narrowed to 0600, and the server warns that it may have leaked")
    func readableOperatorKey() throws {
        let directory = TemporaryDirectory("modes-key")
        chmod(directory.path, 0o700)
        let key = "pok_" + String(repeating: "k", count: 43)
        _ = FileManager.default.createFile(
            atPath: directory.file("operator.key"), contents: Data((key + "\n").utf8),
            attributes: [.posixPermissions: 0o644])
        let server = try ServerProcess(dataDirectory: directory.path, operatorKey: nil, logLevel: "warning")
        server.terminate()
        #expect(try Self.mode(directory.file("operator.key")) == 0o600)
        #expect(server.output.contains("was readable by other users and is now 0600"), "\(server.output)")
        #expect(!server.output.contains(key), "the warning must not print the key")
    }
}
