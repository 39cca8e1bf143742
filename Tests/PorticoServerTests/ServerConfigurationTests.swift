import PorticoServer
import Testing

@Suite("Server configuration")
struct ServerConfigurationTests {
    @Test("defaults listen on loopback on the standard port")
    func defaults() {
        let configuration = ServerConfiguration()
        #expect(configuration.host == "127.0.0.1" && configuration.port == 7700)
    }
}
