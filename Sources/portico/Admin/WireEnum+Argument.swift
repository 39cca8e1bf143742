// Public: the conformances below are as public as the generated enums they extend.
public import ArgumentParser
import Foundation
import PorticoWire

/// A proto enum given on the command line by its value name without the enum's prefix, in any case:
/// `--task analyze` is `ASSET_TASK_ANALYZE`, `--scope ads_management` is `SCOPE_ADS_MANAGEMENT`. The full
/// name is accepted too. A wrong value is a usage error that lists the choices, before anything is sent.
protocol CommandLineEnum: WireEnum, ExpressibleByArgument {}

extension CommandLineEnum {
    init?(argument: String) {
        let name = argument.uppercased().replacingOccurrences(of: "-", with: "_")
        guard let value = Self(protoValueName: Render.enumPrefix(Self.self) + name) ?? Self(protoValueName: name),
            value.rawValue != 0
        else { return nil }
        self = value
    }

    /// Scopes are spelt as the Graph API does (`ads_management`); every other enum in capitals.
    var defaultValueDescription: String {
        let name = Render.shortName(self)
        return Self.self == Scope.self ? name.lowercased() : name
    }

    static var allValueStrings: [String] {
        Self.allCases.filter { $0.rawValue != 0 }.map(\.defaultValueDescription)
    }

    static var allValueDescriptions: [String: String] { [:] }
}

extension AssetTask: ExpressibleByArgument, CommandLineEnum {}
extension AssetType: ExpressibleByArgument, CommandLineEnum {}
extension Role: ExpressibleByArgument, CommandLineEnum {}
extension Scope: ExpressibleByArgument, CommandLineEnum {}
extension SystemUserTier: ExpressibleByArgument, CommandLineEnum {}
extension PortfolioStatus: ExpressibleByArgument, CommandLineEnum {}
extension TokenExpiry: ExpressibleByArgument, CommandLineEnum {}
extension ShareRequestState: ExpressibleByArgument, CommandLineEnum {}
extension TargetKind: ExpressibleByArgument, CommandLineEnum {}
