/// The build section of the build plugin's generated table: what the plugin's
/// tool knew about the build — the package, its git commit and uncommitted
/// changes, the compiler, the resolved dependencies — as named fields. The
/// tool writes it (``encode(_:)``); the runtime reads it (``parse(_:)``) once
/// per process, when a store records the first call of one of the module's
/// ops.
///
/// Format: a sequence of fields, each a name and a value, each its UTF-8 byte
/// count in decimal, a colon, and its bytes (as ``CodeTable``'s fields). A name
/// may repeat (`dependency`); names the reader does not know are skipped, so a
/// newer tool's table is read by an older runtime.
package enum BuildTable {
  /// The package's display name.
  package static let package = "package"
  /// The git commit the package's tree was at (`git rev-parse HEAD`).
  package static let commit = "commit"
  /// The SHA-256 (hex) of the uncommitted changes, when there were any.
  package static let changesDigest = "changes-sha256"
  /// The uncommitted changes, as a patch (cut to ``maximumChanges`` bytes).
  package static let changes = "changes"
  /// The compiler (`swiftc --version`, first line).
  package static let compiler = "compiler"
  /// One resolved dependency: identity, location, version, branch and
  /// revision, separated by line feeds (empty when unknown).
  package static let dependency = "dependency"

  /// The most bytes of uncommitted changes a table holds; the digest covers
  /// them all.
  package static let maximumChanges = 1 << 20

  /// Encodes fields, in order.
  package static func encode(_ fields: [(name: String, value: String)]) -> String {
    fields.map { lengthPrefixed($0.name) + lengthPrefixed($0.value) }.joined()
  }

  /// Reads fields, in order, or `nil` when the text is malformed.
  package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [(name: String, value: String)]?
  {
    var reader = FieldReader(bytes)
    var fields: [(name: String, value: String)] = []
    while !reader.isAtEnd {
      guard let name = reader.field(), let value = reader.field() else { return nil }
      fields.append((name, value))
    }
    return fields
  }
}

/// A table's field: its UTF-8 byte count in decimal, a colon, and its bytes.
func lengthPrefixed(_ text: String) -> String { "\(text.utf8.count):" + text }

/// Reads a table's length-prefixed fields (`count:bytes`).
struct FieldReader {
  let bytes: UnsafeBufferPointer<UInt8>
  var index = 0

  init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  var isAtEnd: Bool { index >= bytes.count }

  /// The next byte, consumed.
  mutating func tag() -> UInt8 {
    defer { index += 1 }
    return bytes[index]
  }

  /// The next field, or `nil` when malformed.
  mutating func field() -> String? {
    var count = 0
    var digits = 0
    while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
      let digit = Int(bytes[index]) - Int(UInt8(ascii: "0"))
      guard (0...9).contains(digit), digits < 10 else { return nil }
      count = count * 10 + digit
      digits += 1
      index += 1
    }
    guard digits > 0, index < bytes.count, bytes.count - index - 1 >= count else { return nil }
    let start = index + 1
    index = start + count
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
  }
}
