import PorticoCore

/// What the operations endpoint reads from the server.
extension PorticoServer {
    /// The figures a scrape reports beside the counted ones, read now.
    var scrapedState: ScrapedState {
        ScrapedState(
            connections: self.environment.registry.count,
            callsInFlight: self.environment.calls.inFlight,
            revision: self.environment.gate.dispatcher?.portico.snapshot.revision ?? 0,
            ready: self.phase == .serving,
            log: self.environment.gate.dispatcher?.portico.status
        )
    }
}
