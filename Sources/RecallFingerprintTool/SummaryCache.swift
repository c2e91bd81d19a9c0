import Foundation
import RecallCodeTable
import RecallFingerprint

/// Per-file summaries from earlier runs, keyed by path, with the size and
/// modification time they were made from, and each component's display source
/// escaped for the table (so an edit escapes only its file's sources).
///
/// Stored in a compact binary form: length-prefixed strings and little-endian
/// integers, read straight from the file's bytes. The tool runs at every build,
/// in the client's configuration (usually debug, where JSON with synthesized
/// `Codable` is slow for a large target); this is one pass over the bytes
/// each way. Any mismatch (another format, a
/// truncated file) reads as an empty cache: every file is parsed again.
struct SummaryCache {
  struct Entry {
    var size: Int
    var modified: Double
    var summary: FileSummary
    /// Each component's display source, escaped for the table's literal.
    var sources: [CodeTable.EscapedSource]
  }

  /// Changes whenever the layout or what a summary holds changes.
  static let magic: [UInt8] = Array("RecallSummaries10".utf8)

  var files: [String: Entry] = [:]

  init() {}

  /// Reads a cache file; an unreadable or foreign one is an empty cache.
  init(contentsOf path: String) {
    guard let data = FileManager.default.contents(atPath: path) else { return }
    let bytes = [UInt8](data)
    files = bytes.withUnsafeBufferPointer { buffer in
      var reader = Reader(buffer: buffer)
      return (try? reader.files()) ?? [:]
    }
  }

  /// The cache's bytes.
  func encoded() -> [UInt8] {
    var writer = Writer()
    writer.bytes += Self.magic
    writer.int(files.count)
    for (path, entry) in files.sorted(by: { $0.key < $1.key }) {
      writer.string(path)
      writer.int(entry.size + 1)  // -1: unknown
      writer.word(entry.modified.bitPattern)
      writer.int(entry.summary.imports.count)
      for module in entry.summary.imports { writer.string(module) }
      writer.int(entry.summary.components.count)
      for (component, source) in zip(entry.summary.components, entry.sources) {
        writer.int(Kind.allCases.firstIndex(of: component.kind)!)
        writer.string(component.name)
        writer.optional(component.owner)
        writer.string(component.identity)
        writer.string(component.fingerprint)
        writer.int(component.span.start)
        writer.int(component.span.end)
        writer.int(component.span.elided.count)
        for offset in component.span.elided { writer.int(offset) }
        writer.int(component.references.count)
        for reference in component.references { writer.string(reference) }
        writer.optional(component.op)
        // An op's declaration, rarely there: as JSON.
        writer.optional(
          component.declaration.flatMap { declaration in
            (try? JSONEncoder().encode(declaration)).map { String(decoding: $0, as: UTF8.self) }
          })
        for word in component.key { writer.word(word) }
        writer.int(source.count)
        writer.string(source.literalBody)
      }
    }
    return writer.bytes
  }

  typealias Kind = Component.Kind

  struct Malformed: Error {}

  private struct Reader {
    let buffer: UnsafeBufferPointer<UInt8>
    var offset = 0

    mutating func files() throws -> [String: Entry] {
      guard buffer.count >= SummaryCache.magic.count,
        buffer[0..<SummaryCache.magic.count].elementsEqual(SummaryCache.magic)
      else { throw Malformed() }
      offset = SummaryCache.magic.count
      var files: [String: Entry] = [:]
      let count = try itemCount()
      for _ in 0..<count {
        let path = try string()
        let size = try int() - 1
        let modified = Double(bitPattern: try word())
        let imports = try (0..<itemCount()).map { _ in try string() }
        var components: [Component] = []
        var sources: [CodeTable.EscapedSource] = []
        let componentCount = try itemCount()
        components.reserveCapacity(componentCount)
        sources.reserveCapacity(componentCount)
        for _ in 0..<componentCount {
          let kindIndex = try int()
          guard kindIndex < Kind.allCases.count else { throw Malformed() }
          let name = try string()
          let owner = try optional()
          let identity = try string()
          let fingerprint = try string()
          let start = try int()
          let end = try int()
          let elided = try (0..<itemCount()).map { _ in try int() }
          let references = try (0..<itemCount()).map { _ in try string() }
          let op = try optional()
          let declaration = try optional().flatMap {
            try? JSONDecoder().decode(OpDeclaration.self, from: Data($0.utf8))
          }
          let key = [try word(), try word(), try word(), try word()]
          components.append(
            Component(
              kind: Kind.allCases[kindIndex], name: name, owner: owner, identity: identity,
              fingerprint: fingerprint, span: SourceSpan(start: start, end: end, elided: elided),
              references: references, op: op, declaration: declaration, key: key))
          sources.append(CodeTable.EscapedSource(count: try int(), literalBody: try string()))
        }
        files[path] = Entry(
          size: size, modified: modified,
          summary: FileSummary(components: components, imports: imports),
          sources: sources)
      }
      guard offset == buffer.count else { throw Malformed() }
      return files
    }

    /// A little-endian 64-bit word.
    mutating func word() throws -> UInt64 {
      guard offset + 8 <= buffer.count else { throw Malformed() }
      let value = UnsafeRawBufferPointer(buffer).loadUnaligned(
        fromByteOffset: offset, as: UInt64.self)
      offset += 8
      return UInt64(littleEndian: value)
    }

    /// A number of items that follow: each takes at least a byte, so a count
    /// larger than the bytes left is a damaged file (not a huge allocation).
    mutating func itemCount() throws -> Int {
      let count = try int()
      guard count <= buffer.count - offset else { throw Malformed() }
      return count
    }

    /// A non-negative integer in 7-bit groups, low first.
    mutating func int() throws -> Int {
      var value = 0
      var shift = 0
      while true {
        guard offset < buffer.count, shift < 63 else { throw Malformed() }
        let byte = buffer[offset]
        offset += 1
        value |= Int(byte & 0x7F) << shift
        if byte < 0x80 { return value }
        shift += 7
      }
    }

    mutating func string() throws -> String {
      let count = try int()
      guard count <= buffer.count - offset else { throw Malformed() }
      defer { offset += count }
      return String(
        decoding: UnsafeBufferPointer(rebasing: buffer[offset..<offset + count]), as: UTF8.self)
    }

    mutating func optional() throws -> String? {
      guard offset < buffer.count else { throw Malformed() }
      offset += 1
      return buffer[offset - 1] == 0 ? nil : try string()
    }
  }

  private struct Writer {
    var bytes: [UInt8] = []

    mutating func word(_ value: UInt64) {
      withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func int(_ value: Int) {
      precondition(value >= 0, "the summary cache stores non-negative integers")
      var rest = UInt(value)
      while rest >= 0x80 {
        bytes.append(UInt8(rest & 0x7F) | 0x80)
        rest >>= 7
      }
      bytes.append(UInt8(rest))
    }

    mutating func string(_ value: String) {
      int(value.utf8.count)
      bytes.append(contentsOf: value.utf8)
    }

    mutating func optional(_ value: String?) {
      bytes.append(value == nil ? 0 : 1)
      if let value { string(value) }
    }
  }
}
