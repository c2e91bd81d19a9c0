/// The code section of the build plugin's generated table: the display source
/// of every component the target's ops reach, and which components each op
/// reaches. The plugin's tool writes it (``literal(components:ops:)``); the
/// runtime reads it (``parse(_:)``) only when a store sees an op version for
/// the first time, to record the version's code.
///
/// Format: a sequence of records, each a tag byte followed by fields; a field
/// is its UTF-8 byte count in decimal, a colon, and its bytes.
/// - `C` identity, fingerprint, source: a component (numbered from 0);
/// - `O` op name, comma-separated component numbers: an op's reach.
package enum CodeTable {
  /// Encodes components (each with its identity, fingerprint and display
  /// source) and the ops' reach (indices into `components`).
  package static func encode(
    components: [(identity: String, fingerprint: String, source: String)],
    ops: [(name: String, reach: [Int])]
  ) -> String {
    var out = ""
    for component in components {
      out += "C" + lengthPrefixed(component.identity) + lengthPrefixed(component.fingerprint)
      out += lengthPrefixed(component.source)
    }
    for op in ops {
      out += "O" + lengthPrefixed(op.name)
      out += lengthPrefixed(op.reach.map(String.init).joined(separator: ","))
    }
    return out
  }

  /// A component's display source, escaped for a string literal once (when
  /// its file is summarized), so that writing the table only joins pieces.
  package struct EscapedSource: Hashable, Sendable {
    /// The UTF-8 byte count of the source.
    package var count: Int
    /// The source as ``SwiftLiteral/body(_:)`` escapes it.
    package var literalBody: String

    /// Escapes a display source.
    package init(_ source: String) {
      self.init(count: source.utf8.count, literalBody: SwiftLiteral.body(source))
    }

    /// An escaped source read back from a cache.
    package init(count: Int, literalBody: String) {
      self.count = count
      self.literalBody = literalBody
    }
  }

  /// The same table as ``encode(components:ops:)``, as a Swift string literal
  /// (`SwiftLiteral.string(encode(…))`), built from sources escaped before.
  package static func literal(
    components: [(identity: String, fingerprint: String, source: EscapedSource)],
    ops: [(name: String, reach: [Int])]
  ) -> String {
    // Written into one buffer of bytes: the build plugin's tool usually runs
    // in debug, where a string per piece, interpolated and joined, cost it
    // about 8,000 instructions per field.
    var literal = LiteralWriter()
    literal.bytes.append(UInt8(ascii: "\""))
    for component in components {
      literal.bytes.append(UInt8(ascii: "C"))
      literal.field(SwiftLiteral.body(component.identity), count: component.identity.utf8.count)
      literal.field(
        SwiftLiteral.body(component.fingerprint), count: component.fingerprint.utf8.count)
      literal.field(component.source.literalBody, count: component.source.count)
    }
    for op in ops {
      literal.bytes.append(UInt8(ascii: "O"))
      literal.field(SwiftLiteral.body(op.name), count: op.name.utf8.count)
      // Digits and commas: nothing to escape.
      literal.commaSeparatedField(op.reach)
    }
    literal.bytes.append(UInt8(ascii: "\""))
    return String(decoding: literal.bytes, as: UTF8.self)
  }

  /// Non-negative numbers in decimal, separated by commas, as
  /// `numbers.map(String.init).joined(separator: ",")` writes them.
  package static func commaSeparated(_ numbers: [Int]) -> String {
    String(decoding: LiteralWriter.commaSeparated(numbers), as: UTF8.self)
  }

  /// The bytes of ``literal(components:ops:)``.
  private struct LiteralWriter {
    var bytes: [UInt8] = []

    /// A field's length in bytes, a colon, then its (escaped) text.
    mutating func field(_ text: String, count: Int) {
      number(count)
      bytes.append(UInt8(ascii: ":"))
      bytes.append(contentsOf: text.utf8)
    }

    /// A field of numbers separated by commas.
    mutating func commaSeparatedField(_ numbers: [Int]) {
      let text = Self.commaSeparated(numbers)
      number(text.count)
      bytes.append(UInt8(ascii: ":"))
      bytes.append(contentsOf: text)
    }

    /// A non-negative number in decimal: a field's length, appended digit by
    /// digit from the highest (through ``commaSeparated(_:)``, with its two
    /// arrays, it cost the debug tool five times as much per field).
    mutating func number(_ value: Int) {
      precondition(value >= 0, "the code table writes non-negative numbers")
      var divisor = 1
      while divisor <= value / 10 { divisor *= 10 }
      var rest = value
      repeat {
        bytes.append(Self.digits[rest / divisor])
        rest %= divisor
        divisor /= 10
      } while divisor > 0
    }

    static let digits = Array("0123456789".utf8)

    /// Numbers in decimal, separated by commas, written through pointers:
    /// the build plugin's tool usually runs in debug, where an array's
    /// subscript and a conversion to `UInt8` are calls of hundreds of
    /// instructions, and the ops' reaches hold about 100,000 numbers for a
    /// target of 30,000 lines.
    static func commaSeparated(_ numbers: [Int]) -> [UInt8] {
      guard !numbers.isEmpty else { return [] }
      return numbers.withUnsafeBufferPointer { numbers in
        digits.withUnsafeBufferPointer { digits in
          // At most 19 digits and a comma each.
          [UInt8](unsafeUninitializedCapacity: numbers.count * 20) { text, initialized in
            initialized = write(
              numbers.baseAddress!, numbers.count, digits: digits.baseAddress!,
              into: text.baseAddress!)
          }
        }
      }
    }

    /// Writes `count` numbers from `numbers` into `out`, and returns how
    /// many bytes it wrote.
    private static func write(
      _ numbers: UnsafePointer<Int>, _ count: Int, digits: UnsafePointer<UInt8>,
      into out: UnsafeMutablePointer<UInt8>
    ) -> Int {
      var at = 0
      var index = 0
      while index < count {
        var number = numbers[index]
        precondition(number >= 0, "the code table writes non-negative numbers")
        if index > 0 {
          out[at] = UInt8(ascii: ",")
          at += 1
        }
        var width = 1
        var rest = number
        while rest >= 10 {
          rest /= 10
          width += 1
        }
        var digit = at + width - 1
        repeat {
          out[digit] = digits[number % 10]
          number /= 10
          digit -= 1
        } while number > 0
        at += width
        index += 1
      }
      return at
    }
  }

  /// Reads a table: each op's components (identity, fingerprint, display
  /// source), by op name, or `nil` when the text is malformed.
  package static func parse(
    _ bytes: UnsafeBufferPointer<UInt8>
  ) -> [String: [(identity: String, fingerprint: String, source: String)]]? {
    var components: [(identity: String, fingerprint: String, source: String)] = []
    var ops: [String: [(identity: String, fingerprint: String, source: String)]] = [:]
    var reader = FieldReader(bytes)
    while !reader.isAtEnd {
      switch reader.tag() {
      case UInt8(ascii: "C"):
        guard let identity = reader.field(), let fingerprint = reader.field(),
          let source = reader.field()
        else {
          return nil
        }
        components.append((identity, fingerprint, source))
      case UInt8(ascii: "O"):
        guard let name = reader.field(), let reach = reader.field() else { return nil }
        var reached: [(identity: String, fingerprint: String, source: String)] = []
        for number in reach.split(separator: ",") {
          guard let position = Int(number), components.indices.contains(position) else {
            return nil
          }
          reached.append(components[position])
        }
        ops[name] = reached
      default:
        return nil
      }
    }
    return ops
  }

  /// The identity of a `#memoized` block's own component: `#memoized("name")`.
  package static func blockIdentity(_ name: String) -> String {
    "#memoized(\(quoted(name)))"
  }

  /// Text in quotes, as component identities and sources show names and
  /// hand-written versions (not escaped: it is for people, not a literal).
  package static func quoted(_ text: String) -> String {
    "\"\(text)\""
  }
}
