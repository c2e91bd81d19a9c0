/// The code section of the build plugin's generated table: the display source
/// of every component the target's ops reach, and which components each op
/// reaches. The runtime reads it (`__RecallFingerprintTable`) only when a store
/// sees an op version for the first time, to record the version's code.
///
/// Format: a sequence of records, each a tag byte followed by fields; a field
/// is its UTF-8 byte count in decimal, a colon, and its bytes.
/// - `C` identity, fingerprint, source: a component (numbered from 0);
/// - `O` op name, comma-separated component numbers: an op's reach.
public enum CodeTable {
  /// Encodes components (each with its identity, fingerprint and display
  /// source) and the ops' reach (indices into `components`).
  public static func encode(
    components: [(identity: String, fingerprint: String, source: String)],
    ops: [(name: String, reach: [Int])]
  ) -> String {
    var out = ""
    func field(_ text: String) {
      out += "\(text.utf8.count):"
      out += text
    }
    for component in components {
      out += "C"
      field(component.identity)
      field(component.fingerprint)
      field(component.source)
    }
    for op in ops {
      out += "O"
      field(op.name)
      field(op.reach.map(String.init).joined(separator: ","))
    }
    return out
  }

  /// A component's display source, escaped for a string literal once (when
  /// its file is summarized), so that writing the table only joins pieces.
  public struct EscapedSource: Hashable, Sendable {
    /// The UTF-8 byte count of the source.
    public var count: Int
    /// The source as ``SwiftLiteral/body(_:)`` escapes it.
    public var literalBody: String

    /// Escapes a display source.
    public init(_ source: String) {
      self.init(count: source.utf8.count, literalBody: SwiftLiteral.body(source))
    }

    /// An escaped source read back from a cache.
    public init(count: Int, literalBody: String) {
      self.count = count
      self.literalBody = literalBody
    }
  }

  /// The same table as ``encode(components:ops:)``, as a Swift string literal
  /// (`SwiftLiteral.string(encode(…))`), built from sources escaped before.
  public static func literal(
    components: [(identity: String, fingerprint: String, source: EscapedSource)],
    ops: [(name: String, reach: [Int])]
  ) -> String {
    var pieces: [String] = ["\""]
    func field(_ text: String) {
      pieces.append("\(text.utf8.count):")
      pieces.append(SwiftLiteral.body(text))
    }
    for component in components {
      pieces.append("C")
      field(component.identity)
      field(component.fingerprint)
      pieces.append("\(component.source.count):")
      pieces.append(component.source.literalBody)
    }
    for op in ops {
      pieces.append("O")
      field(op.name)
      field(op.reach.map(String.init).joined(separator: ","))
    }
    pieces.append("\"")
    return pieces.joined()
  }
}
