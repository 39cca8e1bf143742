import Testing

@testable import PorticoCore

@Suite("The external id index and its keyed hash")
struct ExternalIndexTests {
    /// SipHash-2-4 of the bytes 0, 1, ..., n-1 under the key 00 01 ... 0f, for n = 0 to 18: the
    /// reference implementation's `vectors_sip64` (every tail length, one, two and three blocks).
    static let sipHash24Vectors: [UInt64] = [
        0x726F_DB47_DD0E_0E31, 0x74F8_39C5_93DC_67FD, 0x0D6C_8009_D9A9_4F5A, 0x8567_6696_D7FB_7E2D,
        0xCF27_94E0_2771_87B7, 0x1876_5564_CD99_A68D, 0xCBC9_466E_58FE_E3CE, 0xAB02_00F5_8B01_D137,
        0x93F5_F579_9A93_2462, 0x9E00_82DF_0BA9_E4B0, 0x7A5D_BBC5_94DD_B9F3, 0xF4B3_2F46_226B_ADA7,
        0x751E_8FBC_860E_E5FB, 0x14EA_5627_C084_3D90, 0xF723_CA90_8E7A_F2EE, 0xA129_CA61_49BE_45E5,
        0x3F2A_CC7F_57C2_9BDB, 0x699A_E9F5_2CBE_4794, 0x4BC1_B3F0_968D_D39C,
    ]

    static let referenceKey = ExternalHasher(k0: 0x0706_0504_0302_0100, k1: 0x0F0E_0D0C_0B0A_0908)

    @Test("its SipHash rounds, block reads and tail reads give the reference vectors of SipHash-2-4")
    func sipHashVectors() {
        for (length, expected) in Self.sipHash24Vectors.enumerated() {
            let bytes = (0..<length).map { UInt8($0) }
            let hash = bytes.withUnsafeBytes { Self.referenceKey.sip($0, compression: 2, finalisation: 4) }
            #expect(hash == expected, "length \(length)")
        }
    }

    @Test("a string's bytes hash the same wherever they lie: inline (15 bytes or fewer), on the heap, copied")
    func hashIgnoresStorage() {
        let hasher = ExternalHasher.process
        for length in 1...ExternalID.maxLength {
            let text = String(repeating: "ab:9_", count: 26).prefix(length).description
            let inPlace = ExternalIndex.withBytes(text) { hasher.hash(.asset, 7, $0) }
            let copied = Array(text.utf8).withUnsafeBytes { hasher.hash(.asset, 7, $0) }
            #expect(inPlace == copied)
            // The namespace is part of the hash: another kind or portfolio, another hash.
            #expect(Array(text.utf8).withUnsafeBytes { hasher.hash(.person, 7, $0) } != copied)
            #expect(Array(text.utf8).withUnsafeBytes { hasher.hash(.asset, 8, $0) } != copied)
        }
    }

    @Test("two processes' keys hash the same id differently, so no id collides in every process")
    func keyed() {
        let bytes = Array("act_1234567890".utf8)
        let first = bytes.withUnsafeBytes { ExternalHasher(k0: 1, k1: 2).hash(.asset, 1, $0) }
        let second = bytes.withUnsafeBytes { ExternalHasher(k0: 1, k1: 3).hash(.asset, 1, $0) }
        #expect(first != second)
    }

    /// Random inserts, removals and lookups against a dictionary, with ids that share bytes across kinds
    /// and portfolios, prefixes of one another and lengths around the 8-byte words.
    static func agreesWithDictionary(_ hasher: ExternalHasher, steps: Int) -> ExternalIndex {
        var random = SeededGenerator(state: 18)
        var index = ExternalIndex(hasher: hasher)
        var reference: [ExternalIndex.Key: UInt64] = [:]
        let texts = (0..<300).map { number in
            String(repeating: "x", count: number % 17) + "\(number % 150)"
        }
        for step in 0..<steps {
            let key = ExternalIndex.Key(
                ExternalKind.allCases[Int(random.next() % 5)], in: random.next() % 4,
                texts[Int(random.next() % UInt64(texts.count))])
            if random.next() % 3 == 0 {
                index.remove(key)
                reference[key] = nil
            } else {
                index.insert(key, UInt64(step + 1))
                reference[key] = UInt64(step + 1)
            }
            let probe = ExternalIndex.Key(
                ExternalKind.allCases[Int(random.next() % 5)], in: random.next() % 4,
                texts[Int(random.next() % UInt64(texts.count))])
            #expect(index[probe] == reference[probe])
        }
        #expect(index.count == reference.count)
        for (key, id) in reference { #expect(index[key] == id) }
        #expect(Set(index.entries.map(\.key)) == Set(reference.keys))
        return index
    }

    @Test("answers as a dictionary would, through splits, with this process's key")
    func randomized() {
        let index = Self.agreesWithDictionary(.process, steps: 6_000)
        #expect(index.pages <= index.count / 2 + 2, "pages grow with the ids held: \(index.pages)")
    }

    @Test("names whose hashes collide are told apart by kind, portfolio and bytes", arguments: [0, 0b11])
    func collisions(mask: UInt64) {
        // A test key that keeps 0 or 2 bits of every hash: hundreds of names per hash value.
        let index = Self.agreesWithDictionary(ExternalHasher(k0: 5, k1: 6, mask: mask), steps: 3_000)
        #expect(index.count > 300)
        // Growth follows the count, not the collisions: no page split loops on slots it cannot separate.
        #expect(index.pages <= index.count / ExternalIndex.loadLimit + 1)
    }

    @Test("malformed, empty and oversized ids miss, and Unicode-equivalent spellings are not the same id")
    func malformedIDsMiss() {
        var index = ExternalIndex()
        let longest = String(repeating: "a", count: ExternalID.maxLength)
        index.insert(ExternalIndex.Key(.person, in: 1, "K"), 10)
        index.insert(ExternalIndex.Key(.person, in: 1, longest), 11)
        #expect(index.id(.person, in: 1, "K") == 10)
        #expect(index.id(.person, in: 1, longest) == 11)
        #expect(index.id(.person, in: 1, "\u{212A}") == nil, "KELVIN SIGN is canonically K, but not its bytes")
        #expect(index.id(.person, in: 1, "") == nil)
        #expect(index.id(.person, in: 1, longest + "a") == nil)
        #expect(index.id(.person, in: 1, String(repeating: "a", count: 1 << 20)) == nil)
        #expect(index.id(.person, in: 1, "k") == nil)
        #expect(index.id(.person, in: 1, "K ") == nil)
        // Key equality is byte equality too (the scenario runners' dictionaries key by it).
        #expect(ExternalIndex.Key(.person, in: 1, "K") != ExternalIndex.Key(.person, in: 1, "\u{212A}"))
    }

    @Test("a copy keeps its ids while the original grows, splits and loses some (shared pages are copied)")
    func persistent() {
        var index = ExternalIndex()
        for number in 0..<100 { index.insert(ExternalIndex.Key(.asset, in: 3, "act_\(number)"), UInt64(number)) }
        let snapshot = index
        for number in 100..<1_000 {
            index.insert(ExternalIndex.Key(.asset, in: 3, "act_\(number)"), UInt64(number))
        }
        for number in 0..<50 { index.remove(ExternalIndex.Key(.asset, in: 3, "act_\(number)")) }
        #expect(snapshot.count == 100 && index.count == 950)
        for number in 0..<100 {
            #expect(snapshot.id(.asset, in: 3, "act_\(number)") == UInt64(number))
            #expect(index.id(.asset, in: 3, "act_\(number)") == (number < 50 ? nil : UInt64(number)))
        }
        #expect(snapshot.id(.asset, in: 3, "act_500") == nil)
        #expect(snapshot != index)
    }

    @Test("a check by a malformed or oversized external id answers as an unknown one does; a lookup refuses it")
    func malformedInChecksAndLookups() async throws {
        let portico = try await Portico.open(clock: ManualClock())
        let portfolio = PortfolioID(
            try await portico.execute(.createPortfolio(name: "p", tier: .none), as: .operator).createdID!)
        let person = PrincipalID(
            try await portico.execute(.addPerson(portfolio, name: "k", role: .employee, externalID: "K"),
                                      as: .operator).createdID!)
        let asset = AssetID(
            try await portico.execute(.addAsset(portfolio, type: .adAccount, name: "a", externalID: "act_1"),
                                      as: .operator).createdID!)
        try await portico.execute(.assign(person, asset, TaskSet(.advertise)), as: .operator)
        let snapshot = portico.snapshot
        let now = portico.clock.now()
        let good = ExternalName(.asset, in: portfolio.rawValue, "act_1")
        func check(_ principal: String) -> DecisionReason {
            snapshot.check(principal: ExternalName(.person, in: portfolio.rawValue, principal), asset: good,
                           task: .advertise, now: now).reason
        }
        #expect(check("K") == .assigned)
        let oversized = [String(repeating: "K", count: 129), String(repeating: "K", count: 1 << 20)]
        for malformed in ["\u{212A}", "", "K K"] + oversized {
            #expect(check(malformed) == .principalNotFound)
            #expect(snapshot.id(of: ExternalName(.person, in: portfolio.rawValue, malformed)) == 0)
            let error = try #require(throws: PorticoError.self) {
                try snapshot.lookup(ExternalName(.person, in: portfolio.rawValue, malformed), as: .operator, now: now)
            }
            #expect(error.reason == "INVALID_EXTERNAL_ID")
        }
        #expect(snapshot.check(principal: PrincipalID(0), asset: asset, task: .advertise, now: now).reason
            == .principalNotFound)
    }
}
