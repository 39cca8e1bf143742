import Foundation
import PorticoWire
import Testing

@Suite("JSON")
struct JSONTests {
    private static func object(_ message: some WireMessage) throws -> [String: Any] {
        let data = try JSONEncoder().encode(message)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("fields use proto3 JSON names, enums their value names, a oneof its member's name")
    func checkRequest() throws {
        let json = try Self.object(
            CheckPermissionRequest(assetID: 42, task: .analyze, explain: true, subject: .token("ptk_1_x")))
        #expect(json["assetId"] as? Int == 42)
        #expect(json["task"] as? String == "ASSET_TASK_ANALYZE")
        #expect(json["explain"] as? Bool == true)
        #expect(json["token"] as? String == "ptk_1_x")
        #expect(json["personId"] == nil && json["systemUserId"] == nil)
    }

    @Test("repeated and nested messages encode as arrays and objects")
    func nested() throws {
        let response = ListPeopleResponse(
            people: [Person(id: 1, portfolioID: 2, name: "Ana", role: .admin)], nextPageToken: "1")
        let json = try Self.object(response)
        let people = try #require(json["people"] as? [[String: Any]])
        #expect(people.count == 1)
        #expect(people[0]["portfolioId"] as? Int == 2)
        #expect(people[0]["role"] as? String == "ROLE_ADMIN")
        #expect(json["nextPageToken"] as? String == "1")
    }
}
