#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#elseif canImport(Android)
  import Android
#elseif canImport(WASILibc)
  import WASILibc
#elseif canImport(ucrt)
  import ucrt
#endif

/// Writes values as Swift source, for generated code (macro expansions and the
/// build plugin's table).
package enum SwiftLiteral {
  /// The bytes ``body(_:)`` escapes, but NUL, as a C string: `"`, `\`, the
  /// other control characters and DEL.
  private static let escaped: [CChar] =
    [0x22, 0x5c, 0x7f].map { CChar($0) } + (1..<0x20).map { CChar($0) } + [0]

  /// A Swift string literal whose value is `value`.
  package static func string(_ value: String) -> String {
    "\"" + body(value) + "\""
  }

  /// The text between the quotes of ``string(_:)``. Escaping goes byte by
  /// byte, so the body of a concatenation is the concatenation of the bodies.
  package static func body(_ value: String) -> String {
    // Most text (names, identities, fingerprints) has nothing to escape: it
    // is returned as it is. Found by the C library's search, as the build
    // plugin's tool usually runs in debug, where a loop over the bytes cost
    // it a tenth of its time. (A NUL, which ends the C string early, is
    // escaped.)
    let isPlain = value.withCString { text in
      strlen(text) == value.utf8.count && strpbrk(text, Self.escaped) == nil
    }
    if isPlain { return value }
    // Over UTF-8: the build plugin's table holds a literal of a megabyte.
    // Bytes of multi-byte characters (0x80 and above) are copied as they are.
    var escaped: [UInt8] = []
    escaped.reserveCapacity(value.utf8.count + value.utf8.count / 8)
    let hex = Array("0123456789abcdef".utf8)
    let backslash = UInt8(ascii: "\\")
    for byte in value.utf8 {
      let escape: UInt8? =
        switch byte {
        case backslash, UInt8(ascii: "\""): byte
        case UInt8(ascii: "\n"): UInt8(ascii: "n")
        case UInt8(ascii: "\r"): UInt8(ascii: "r")
        case UInt8(ascii: "\t"): UInt8(ascii: "t")
        case 0..<0x20, 0x7f: UInt8(ascii: "u")
        default: nil
        }
      guard let escape else {
        escaped.append(byte)
        continue
      }
      escaped.append(backslash)
      escaped.append(escape)
      if escape == UInt8(ascii: "u") {
        escaped.append(UInt8(ascii: "{"))
        if byte >= 0x10 { escaped.append(hex[Int(byte >> 4)]) }
        escaped.append(hex[Int(byte & 0xf)])
        escaped.append(UInt8(ascii: "}"))
      }
    }
    return String(decoding: escaped, as: UTF8.self)
  }
}
