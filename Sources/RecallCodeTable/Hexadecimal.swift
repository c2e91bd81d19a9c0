/// Lowercase hexadecimal, for digests (the table's fingerprints, a store's
/// ids) and escapes: one implementation for the runtime and the build
/// plugin's tool, which depend on this module alike.
package enum Hexadecimal {
  /// The bytes as lowercase hexadecimal, two digits each. Written through
  /// pointers: the build plugin's tool usually runs in debug, where an
  /// array's iterator and subscript cost about 20,000 instructions for a
  /// digest.
  package static func string(_ bytes: UnsafeRawBufferPointer) -> String {
    guard let input = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), !bytes.isEmpty
    else { return "" }
    return String(unsafeUninitializedCapacity: bytes.count * 2) { text in
      let out = text.baseAddress!
      var index = 0
      while index < bytes.count {
        out[2 * index] = digit(input[index] >> 4)
        out[2 * index + 1] = digit(input[index] & 0x0f)
        index += 1
      }
      return bytes.count * 2
    }
  }

  /// The lowercase hexadecimal digit of a value below 16.
  package static func digit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") &+ value : UInt8(ascii: "a") &+ (value &- 10)
  }
}
