import PorticoCore
import PorticoStore
import PorticoTestSupport

/// A SQLite store in a fresh data directory, a core open on it, and the fixture portfolio in it.
struct OpenStore {
    let directory: TemporaryDirectory
    let store: SQLiteStore
    let portico: Portico
    let fixture: Fixture

    static func make(_ label: String, clock: ManualClock = ManualClock()) async throws -> OpenStore {
        let directory = TemporaryDirectory(label)
        let store = try SQLiteStore(directory: directory.path)
        let portico = try await Portico.open(store: store, clock: clock)
        return OpenStore(directory: directory, store: store, portico: portico, fixture: try await Fixture.make(portico))
    }
}
