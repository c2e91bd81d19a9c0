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
}
