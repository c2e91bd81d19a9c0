/// The names of a module's `#memoized` blocks, which must differ.
///
/// A block's name is its op's identity in its module: two blocks with one
/// name would share their stored results, each serving the other's. The macro
/// sees one block at a time (and the blocks around it), so the build plugin's
/// tool, which sees every file of the module, checks the names.
public enum BlockNames {
  /// A block whose name an earlier block of the same module has.
  public struct Duplicate: Hashable, Sendable {
    /// The name.
    public var name: String
    /// The later block's file, as given.
    public var path: String
    /// The UTF-8 offset of the later block in its file.
    public var offset: Int
    /// The first block's file, as given.
    public var firstPath: String
    /// The UTF-8 offset of the first block in its file.
    public var firstOffset: Int
    /// A name no block of the module has: the name with the first free
    /// suffix `-2`, `-3`, …
    public var suggestion: String

    /// The error, in the compiler's voice; `first` is where the first block
    /// is, such as `Reports.swift:12`.
    public func message(first: String) -> String {
      "'#memoized' block name '\(name)' is already used by the block at \(first); a block's name is "
        + "its op's identity in its module, so the two would share their results; rename this one, "
        + "such as to '\(suggestion)'"
    }
  }

  /// The blocks whose name an earlier block has, files taken in the order
  /// given and blocks in source order.
  public static func duplicates(in files: [(path: String, summary: FileSummary)]) -> [Duplicate] {
    let blocks = files.flatMap { file in
      file.summary.components.filter { $0.kind == .block }.compactMap { component in
        component.op.map { (name: $0, path: file.path, offset: component.span.start) }
      }
    }
    var taken = Set(blocks.map(\.name))
    var first: [String: (path: String, offset: Int)] = [:]
    var duplicates: [Duplicate] = []
    for block in blocks {
      guard let earlier = first[block.name] else {
        first[block.name] = (block.path, block.offset)
        continue
      }
      let suggestion =
        (2...).lazy.map { "\(block.name)-\($0)" }.first { !taken.contains($0) } ?? block.name
      taken.insert(suggestion)
      duplicates.append(
        Duplicate(
          name: block.name, path: block.path, offset: block.offset, firstPath: earlier.path,
          firstOffset: earlier.offset, suggestion: suggestion))
    }
    return duplicates
  }

  /// The line and column (from 1; the column in UTF-8 bytes, as the compiler
  /// counts) of a UTF-8 offset in a file's bytes.
  public static func lineAndColumn(of offset: Int, in bytes: some Collection<UInt8>) -> (
    line: Int, column: Int
  ) {
    var line = 1
    var column = 1
    for byte in bytes.prefix(offset) {
      if byte == UInt8(ascii: "\n") {
        line += 1
        column = 1
      } else {
        column += 1
      }
    }
    return (line, column)
  }
}
