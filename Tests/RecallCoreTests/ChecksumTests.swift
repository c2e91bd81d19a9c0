import Testing

@testable import RecallCore

@Suite struct ChecksumTests {
  /// Reference values from the `xxhash` Python package (the C library's XXH64).
  @Test func matchesTheReferenceXXH64() {
    let long = (0..<3).flatMap { _ in (0...255).map { UInt8($0) } } + Array("xyz".utf8)
    #expect(Checksum.xxh64([]) == 0xEF46_DB37_51D8_E999)
    #expect(Checksum.xxh64(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
    #expect(Checksum.xxh64(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
    #expect(Checksum.xxh64(Array("0123456789abcdef0123456789abcdef".utf8)) == 0x642A_9495_8E71_E6C5)
    #expect(Checksum.xxh64(Array("0123456789abcdef0123456789abcde".utf8)) == 0x1FDF_C63F_EBAC_FDE7)
    #expect(Checksum.xxh64(long) == 0xE921_A1B4_5BD7_79F8)
    #expect(long.withUnsafeBytes { Checksum.xxh64($0, seed: 7) } == 0xB635_55D1_BF05_377F)
  }

  @Test func everySingleBitFlipChangesIt() {
    var bytes = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 37) }
    let original = Checksum.xxh64(bytes)
    for index in bytes.indices {
      for bit in 0..<8 {
        bytes[index] ^= 1 << bit
        #expect(Checksum.xxh64(bytes) != original)
        bytes[index] ^= 1 << bit
      }
    }
  }
}
