import PorticoCore
import PorticoWire
import Testing

/// The server maps the core's enums to the wire's by position; these tests hold the two lists together.
@Suite("Domain and wire enums line up")
struct WireMappingTests {
    @Test("every task of the core is the wire task of the same name, and back")
    func tasks() {
        #expect(PorticoCore.AssetTask.allCases.count == PorticoWire.AssetTask.allCases.count - 1)
        for task in PorticoCore.AssetTask.allCases {
            let wire = PorticoWire.AssetTask(rawValue: Int32(task.rawValue) + 1)
            #expect(wire?.protoValueName == "ASSET_TASK_" + task.name)
        }
    }

    @Test("every asset type lines up")
    func assetTypes() {
        #expect(PorticoCore.AssetType.allCases.count == PorticoWire.AssetType.allCases.count - 1)
        for type in PorticoCore.AssetType.allCases {
            #expect(
                PorticoWire.AssetType(rawValue: Int32(type.rawValue) + 1)?.protoValueName == "ASSET_TYPE_" + type.name)
        }
    }

    @Test("every scope lines up")
    func scopes() {
        #expect(PorticoCore.Scope.allCases.count == PorticoWire.Scope.allCases.count - 1)
        for scope in PorticoCore.Scope.allCases {
            #expect(
                PorticoWire.Scope(rawValue: Int32(scope.rawValue) + 1)?.protoValueName == "SCOPE_"
                    + scope.name.uppercased())
        }
    }

    @Test("every decision reason of the core has a wire reason")
    func reasons() {
        // The wire names differ for one reason only: TASK_NOT_VALID_FOR_ASSET is spelled out with _TYPE.
        let wireNames = Set(PorticoWire.DecisionReason.allCases.map(\.protoValueName))
        for reason in PorticoCore.DecisionReason.allCases {
            let name = reason == .taskNotValidForAsset ? "TASK_NOT_VALID_FOR_ASSET_TYPE" : reason.name
            #expect(wireNames.contains("DECISION_REASON_" + name), "\(reason.name)")
        }
        #expect(wireNames.count == PorticoCore.DecisionReason.allCases.count + 1)
    }
}
