import Crypto
public import Foundation
import SwiftASN1
import X509

/// A certificate authority made at test time, and the PEM files of certificates it signs, in a scratch
/// folder removed when the value goes.
public final class TestCertificates {
    public let folder: URL
    /// The authority's certificate, PEM.
    public let authority: String
    private let authorityKey: P256.Signing.PrivateKey
    private let authorityName: DistinguishedName

    public init(name: String = "Portico Test CA") throws {
        self.folder = FileManager.default.temporaryDirectory.appendingPathComponent("portico-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.folder, withIntermediateDirectories: true)
        self.authorityKey = P256.Signing.PrivateKey()
        self.authorityName = try DistinguishedName { CommonName(name) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(self.authorityKey.publicKey),
            notValidBefore: now - 3600,
            notValidAfter: now + 86_400,
            issuer: self.authorityName,
            subject: self.authorityName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(self.authorityKey)
        )
        self.authority = try certificate.serializeAsPEM().pemString
        try self.authority.write(to: self.folder.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: self.folder) }

    public var authorityFile: String { self.folder.appendingPathComponent("ca.pem").path }

    /// A leaf certificate signed by the authority, for 127.0.0.1 and localhost: the paths of its PEM
    /// certificate and key, and their text.
    /// - Parameter expired: valid for an hour that ended a day ago.
    public func leaf(_ name: String, expired: Bool = false) throws -> (
        certificate: String, key: String, certificatePEM: String, keyPEM: String
    ) {
        let key = P256.Signing.PrivateKey()
        let now = Date() - (expired ? 86_400 : 0)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now - 3600,
            notValidAfter: expired ? now : now + 86_400,
            issuer: self.authorityName,
            subject: try DistinguishedName { CommonName(name) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames([
                    .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                ])
            },
            issuerPrivateKey: Certificate.PrivateKey(self.authorityKey)
        )
        let certificatePEM = try certificate.serializeAsPEM().pemString
        let keyPEM = key.pemRepresentation
        let certificatePath = self.folder.appendingPathComponent("\(name).pem").path
        let keyPath = self.folder.appendingPathComponent("\(name).key").path
        try certificatePEM.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        try keyPEM.write(toFile: keyPath, atomically: true, encoding: .utf8)
        return (certificatePath, keyPath, certificatePEM, keyPEM)
    }

    /// A file holding `text`, in the scratch folder.
    public func file(_ name: String, _ text: String) throws -> String {
        let path = self.folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
