extension PorticoServer {
    /// The server's version, as GetServerInfo answers it; `portico --version` prints the same.
    public static var version: String { Dispatcher.version }
}
