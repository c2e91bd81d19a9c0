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
    // The build plugin's tool usually runs in debug, where a loop over a
    // string's bytes costs hundreds of instructions per byte: the C
    // library's search finds the next byte to escape, and the bytes between
    // are copied in one piece. Most text (names, identities, fingerprints)
    // has nothing to escape, and is returned as it is. (A NUL, which ends
    // the C string early, is escaped.)
    let count = value.utf8.count
    return value.withCString { text in
      // Where the next byte to escape is, from `start`: a NUL inside the
      // text, or `count` when there is none.
      func stop(from start: Int) -> Int {
        strpbrk(text + start, Self.escaped).map { UnsafePointer($0) - text }
          ?? start + strlen(text + start)
      }
      var start = 0
      var next = stop(from: 0)
      if next == count { return value }
      // Over UTF-8: the build plugin's table holds a literal of a
      // megabyte. Bytes of multi-byte characters (0x80 and above) are
      // copied as they are.
      var escaped: [UInt8] = []
      escaped.reserveCapacity(count + count / 8)
      while true {
        escaped.append(contentsOf: UnsafeRawBufferPointer(start: text + start, count: next - start))
        if next == count { break }
        Self.escape(UInt8(bitPattern: text[next]), into: &escaped)
        start = next + 1
        next = stop(from: start)
      }
      return String(decoding: escaped, as: UTF8.self)
    }
  }

  /// Appends the escape of a byte ``escaped`` names, or NUL.
  private static func escape(_ byte: UInt8, into escaped: inout [UInt8]) {
    let backslash = UInt8(ascii: "\\")
    escaped.append(backslash)
    switch byte {
    case backslash, UInt8(ascii: "\""): escaped.append(byte)
    case UInt8(ascii: "\n"): escaped.append(UInt8(ascii: "n"))
    case UInt8(ascii: "\r"): escaped.append(UInt8(ascii: "r"))
    case UInt8(ascii: "\t"): escaped.append(UInt8(ascii: "t"))
    default:
      escaped.append(contentsOf: "u{".utf8)
      if byte >= 0x10 { escaped.append(Hexadecimal.digit(byte >> 4)) }
      escaped.append(Hexadecimal.digit(byte & 0xf))
      escaped.append(UInt8(ascii: "}"))
    }
  }
}
