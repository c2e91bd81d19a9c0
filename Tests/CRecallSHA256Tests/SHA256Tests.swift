import CRecallSHA256
import Foundation
import Testing

private func hex(_ body: (UnsafeMutablePointer<UInt8>) -> Void) -> String {
  var digest = [UInt8](repeating: 0, count: 32)
  digest.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
  return digest.map {
    String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16)
  }
  .joined()
}

private func sha256(_ bytes: [UInt8]) -> String {
  hex { out in bytes.withUnsafeBytes { recall_sha256_hash($0.baseAddress, $0.count, out) } }
}

private func portable(_ bytes: [UInt8]) -> String {
  hex { out in bytes.withUnsafeBytes { recall_sha256_hash_portable($0.baseAddress, $0.count, out) }
  }
}

/// SHA-256 without a crypto library: the FIPS 180-4 examples, the processor's
/// instructions against the portable code, and incremental hashing.
@Suite struct SHA256Tests {
  @Test func theStandardsExamples() {
    #expect(sha256([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(
      sha256(Array("abc".utf8))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(
      sha256([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test func theProcessorsInstructionsAgreeWithThePortableCode() {
    // Every length around the block and padding boundaries, and longer ones.
    var generator = SystemRandomNumberGenerator()
    for count in Array(0...200) + [511, 512, 513, 4_095, 65_536, 1_000_003] {
      let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
      #expect(sha256(bytes) == portable(bytes), "\(count) bytes")
    }
  }

  @Test func incrementalHashingIsTheHashOfTheConcatenation() {
    let bytes = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    for split in [0, 1, 55, 56, 63, 64, 65, 128, 999, 1_000] {
      var context = recall_sha256()
      recall_sha256_init(&context)
      bytes[..<split].withUnsafeBytes { recall_sha256_update(&context, $0.baseAddress, $0.count) }
      // A copy forks the computation.
      var fork = context
      bytes[split...].withUnsafeBytes { recall_sha256_update(&context, $0.baseAddress, $0.count) }
      #expect(hex { recall_sha256_final(&context, $0) } == sha256(bytes), "split at \(split)")
      #expect(hex { recall_sha256_final(&fork, $0) } == sha256(Array(bytes[..<split])))
    }
  }

  @Test func aProcessorWithSHAInstructionsUsesThem() throws {
    // Linux lists the processor's features; `sha_ni` is x86-64's SHA extensions.
    #if os(Linux) && arch(x86_64)
      let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
      let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
      let hasSHA = flags.split(separator: " ").contains("sha_ni")
      #expect((recall_sha256_uses_hardware() != 0) == hasSHA)
    #endif
  }
}
