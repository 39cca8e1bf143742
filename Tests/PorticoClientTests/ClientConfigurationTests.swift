import PorticoClient
import Testing

@Suite("Client configuration")
struct ClientConfigurationTests {
    @Test("defaults point at a local server on the standard port")
    func defaults() {
        let configuration = ClientConfiguration()
        #expect(configuration.host == "127.0.0.1" && configuration.port == 7700 && configuration.connections == 1)
    }
}
