import Foundation
import RecallCodeTable
import RecallFingerprint

/// Per-file summaries from earlier runs, keyed by path, with the size and
/// modification time they were made from, each component's display source
/// escaped for the table (so an edit escapes only its file's sources), and
/// the file's text (so an edit inside one top-level item parses only that
/// item, ``FileSummary/updated(from:to:)``); and each op's reach in the last
/// call graph, kept while the graph would be the same (``Graph``).
///
/// Stored in a compact binary form: length-prefixed strings and bytes,
/// varints, little-endian words, and the reaches as the machine holds its
/// integers (the cache never leaves the machine that wrote it), read
/// straight from the file's bytes. The tool runs at every build, in the
/// client's configuration (usually debug, where JSON with synthesized
/// `Codable` is slow for a large target); this is one pass over the bytes
/// each way, and an unchanged file's entry is written as the bytes it was
/// read from. Any mismatch (another format, a truncated file, offsets out
/// of order or past the file's text, a flag other than 0 or 1) reads as an
/// empty cache: every file is parsed again.
struct SummaryCache {
  struct Entry {
    var size: Int
    var modified: Double
    var summary: FileSummary
    /// Each component's display source, escaped for the table's literal.
    var sources: [CodeTable.EscapedSource]
    /// The file's bytes when it was summarized.
    var text: [UInt8]
    /// The summary's ``FileSummary/graphNodeDigest``.
    var graphNodeDigest: [UInt8]
    /// Where the entry lies in the cache file it was read from (after its
    /// path): written again as those bytes. `nil` for an entry made in this
    /// run.
    fileprivate var stored: Range<Int>?
    /// Whether the entry was read from the cache file, rather than made in
    /// this run.
    var isFromCache: Bool { stored != nil }

    init(
      size: Int, modified: Double, summary: FileSummary, sources: [CodeTable.EscapedSource],
      text: [UInt8], graphNodeDigest: [UInt8]? = nil
    ) {
      self.size = size
      self.modified = modified
      self.summary = summary
      self.sources = sources
      self.text = text
      self.graphNodeDigest = graphNodeDigest ?? summary.graphNodeDigest
    }
  }

  /// What the cache keeps of the last run's call graph: while the files'
  /// node digests (``nodes``) and edge digests (``edgeKey``) stay the
  /// same, the graph is not built again, and its reaches make the versions.
  struct Graph {
    /// The key of the files' node digests, in order, and of the graph's
    /// rules (``nodeKey(_:)``).
    var nodes: [UInt8]
    /// The graph's ``CallGraph/knownNames``, the same while ``nodes`` is.
    var knownNames: Set<String>
    /// Each file's ``FileSummary/graphEdgeDigest(knownNames:)``, by path.
    var edges: [String: [UInt8]]
    /// The key of the edge digests of the files the reaches were made
    /// from, in order (``edgeKey(_:)``).
    var edgeKey: [UInt8]
    /// Each op's reach.
    var reaches: [CallGraph.OpReach]
  }

  var graph: Graph?

  /// The key of files' node digests (``FileSummary/graphNodeDigest``), in
  /// order, and of the rules the graph is built by (``CallGraph/rules``), so
  /// that a Recall whose graph reaches more builds it again.
  static func nodeKey(_ digests: [[UInt8]]) -> [UInt8] {
    var hasher = SHA256()
    hasher.update("recall.graph-nodes-key.v1 \(CallGraph.rules) \(digests.count)")
    for digest in digests { hasher.update(digest) }
    return hasher.finalize()
  }

  /// The key of files' edge digests, in order.
  static func edgeKey(_ digests: [[UInt8]]) -> [UInt8] {
    var hasher = SHA256()
    hasher.update("recall.graph-edges-key.v1 \(digests.count)")
    for digest in digests { hasher.update(digest) }
    return hasher.finalize()
  }

  /// Changes whenever the layout, what a summary holds or what the cache
  /// keeps of the call graph changes (and with it the damaged cache of
  /// `FingerprintToolTests`, which starts with it).
  static let magic: [UInt8] = Array("RecallSummaries14".utf8)

  var files: [String: Entry] = [:]
  /// The bytes of the cache file this cache was read from.
  private var read = Data()

  init() {}

  /// Reads a cache file; an unreadable or foreign one is an empty cache.
  init(contentsOf path: String) {
    guard let data = FileManager.default.contents(atPath: path) else { return }
    guard
      let (files, graph) = data.withUnsafeBytes({ bytes in
        var reader = Reader(buffer: bytes.bindMemory(to: UInt8.self))
        return try? reader.cache()
      })
    else { return }
    self.files = files
    self.graph = graph
    read = data
  }

  /// The cache's bytes.
  func encoded() -> [UInt8] {
    var writer = Writer()
    writer.bytes.reserveCapacity(read.count + read.count / 4)
    writer.bytes += Self.magic
    writer.int(files.count)
    for (path, entry) in files.sorted(by: { $0.key < $1.key }) {
      writer.string(path)
      // An entry read from the cache, unchanged: its bytes, copied (an edit
      // writes one file's entry, not every file's).
      if let stored = entry.stored {
        read.withUnsafeBytes {
          writer.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[stored]))
        }
        continue
      }
      writer.int(entry.size + 1)  // -1: unknown
      writer.word(entry.modified.bitPattern)
      writer.strings(entry.summary.imports)
      writer.ints(entry.summary.items)
      writer.int(entry.text.count)
      writer.bytes.append(contentsOf: entry.text)
      writer.int(entry.summary.components.count)
      for (component, source) in zip(entry.summary.components, entry.sources) {
        writer.int(Kind.allCases.firstIndex(of: component.kind)!)
        writer.string(component.name)
        writer.optional(component.owner)
        writer.string(component.identity)
        writer.string(component.fingerprint)
        writer.int(component.span.start)
        writer.int(component.span.end)
        writer.ints(component.span.elided)
        writer.strings(component.references)
        writer.optional(component.op)
        writer.flag(component.declaration != nil)
        if let declaration = component.declaration {
          writer.string(declaration.typedName)
          writer.strings(declaration.parameters)
          writer.strings(declaration.addedParameters)
          writer.optional(declaration.manualVersion)
        }
        for word in component.key { writer.word(word) }
        writer.int(source.count)
        writer.string(source.literalBody)
      }
      writer.bytes += entry.graphNodeDigest
    }
    writer.flag(graph != nil)
    if let graph {
      writer.bytes += graph.nodes
      // In the set's order: sorting them took the debug tool a tenth of its
      // time, and the order does not matter.
      writer.int(graph.knownNames.count)
      for name in graph.knownNames { writer.string(name) }
      writer.int(graph.edges.count)
      for (path, digest) in graph.edges.sorted(by: { $0.key < $1.key }) {
        writer.string(path)
        writer.bytes += digest
      }
      writer.bytes += graph.edgeKey
      writer.int(graph.reaches.count)
      for reach in graph.reaches {
        writer.int(reach.component)
        writer.int(reach.covered.count)
        // As the machine holds them, read back with one copy: the cache
        // stays on the machine that wrote it.
        reach.covered.withUnsafeBytes { writer.bytes.append(contentsOf: $0) }
      }
    }
    return writer.bytes
  }

  typealias Kind = Component.Kind

  struct Malformed: Error {}

  private struct Reader {
    let buffer: UnsafeBufferPointer<UInt8>
    var offset = 0

    mutating func cache() throws -> (files: [String: Entry], graph: Graph?) {
      let files = try self.files()
      var graph: Graph?
      if try flag() {
        let nodes = try bytes(32)
        let knownNames = Set(try strings())
        var edges: [String: [UInt8]] = [:]
        for _ in 0..<(try itemCount()) {
          edges[try string()] = try bytes(32)
        }
        let edgeKey = try bytes(32)
        let reaches = try list { reader in
          let component = try reader.int()
          let count = try reader.itemCount()
          let size = count * MemoryLayout<Int>.stride
          guard size <= reader.buffer.count - reader.offset else { throw Malformed() }
          let covered = [Int](unsafeUninitializedCapacity: count) { covered, initialized in
            UnsafeMutableRawBufferPointer(covered).copyMemory(
              from: UnsafeRawBufferPointer(
                UnsafeBufferPointer(
                  rebasing: reader.buffer[reader.offset..<reader.offset + size])))
            initialized = count
          }
          reader.offset += size
          // Not negative and ascending, as written (the caller checks the
          // last against the components).
          guard (covered.first ?? 0) >= 0, Self.isAscending(covered) else { throw Malformed() }
          return CallGraph.OpReach(component: component, covered: covered)
        }
        graph = Graph(
          nodes: nodes, knownNames: knownNames, edges: edges, edgeKey: edgeKey, reaches: reaches)
      }
      guard offset == buffer.count else { throw Malformed() }
      return (files, graph)
    }

    mutating func files() throws -> [String: Entry] {
      guard buffer.count >= SummaryCache.magic.count,
        buffer[0..<SummaryCache.magic.count].elementsEqual(SummaryCache.magic)
      else { throw Malformed() }
      offset = SummaryCache.magic.count
      var files: [String: Entry] = [:]
      let count = try itemCount()
      for _ in 0..<count {
        let path = try string()
        let start = offset
        let size = try int() - 1
        let modified = Double(bitPattern: try word())
        let imports = try strings()
        let items = try ints()
        let text = try byteArray()
        guard Self.isAscending(items), (items.last ?? 0) <= text.count else { throw Malformed() }
        var components: [Component] = []
        var sources: [CodeTable.EscapedSource] = []
        let componentCount = try itemCount()
        components.reserveCapacity(componentCount)
        sources.reserveCapacity(componentCount)
        for _ in 0..<componentCount {
          let kindIndex = try int()
          guard kindIndex < Self.kinds.count else { throw Malformed() }
          let name = try string()
          let owner = try optional()
          let identity = try string()
          let fingerprint = try string()
          let start = try int()
          let end = try int()
          let elided = try ints()
          // Within the file's text, so that moving a span by an edit
          // (`Component.moved(by:)`) cannot overflow.
          guard start <= end, end <= text.count, Self.allAtMost(elided, text.count) else {
            throw Malformed()
          }
          let references = try strings()
          let op = try optional()
          // An op's declaration, as its fields, not as JSON: in debug,
          // `JSONDecoder` took about 40,000 instructions per op.
          let declaration = try flag() ? try self.declaration() : nil
          let key = [try word(), try word(), try word(), try word()]
          components.append(
            Component(
              kind: Self.kinds[kindIndex], name: name, owner: owner, identity: identity,
              fingerprint: fingerprint, span: SourceSpan(start: start, end: end, elided: elided),
              references: references, op: op, declaration: declaration, key: key))
          sources.append(CodeTable.EscapedSource(count: try int(), literalBody: try string()))
        }
        files[path] = Entry(
          size: size, modified: modified,
          summary: FileSummary(components: components, imports: imports, items: items),
          sources: sources, text: text, graphNodeDigest: try bytes(32))
        files[path]?.stored = start..<offset
      }
      return files
    }

    /// The kinds, by their index in the cache.
    static let kinds = Kind.allCases

    /// Whether each value is larger than the one before (a loop over the
    /// buffer: the tool usually runs in debug).
    static func isAscending(_ values: [Int]) -> Bool {
      values.withUnsafeBufferPointer { values in
        var index = 1
        while index < values.count, values[index - 1] < values[index] { index += 1 }
        return index >= values.count
      }
    }

    /// Whether no value is larger than `limit` (a loop over the buffer: the
    /// tool usually runs in debug).
    static func allAtMost(_ values: [Int], _ limit: Int) -> Bool {
      values.withUnsafeBufferPointer { values in
        var index = 0
        while index < values.count, values[index] <= limit { index += 1 }
        return index == values.count
      }
    }

    /// A count, then as many items, each read by `item`. (A loop into a
    /// reserved array rather than `map` over a range: the tool usually runs
    /// in debug, where that cost a tenth of the cache's reading.)
    mutating func list<Item>(_ item: (inout Reader) throws -> Item) throws -> [Item] {
      let count = try itemCount()
      var items: [Item] = []
      items.reserveCapacity(count)
      while items.count < count { items.append(try item(&self)) }
      return items
    }

    /// Strings in a loop of their own, not through `list(_:)`: in debug, its
    /// closure costs about a hundred instructions per item, and the cache
    /// holds about 100,000 strings (references, names, sources).
    mutating func strings() throws -> [String] {
      let count = try itemCount()
      var strings: [String] = []
      strings.reserveCapacity(count)
      for _ in 0..<count { strings.append(try string()) }
      return strings
    }

    mutating func ints() throws -> [Int] { try list { try $0.int() } }

    mutating func declaration() throws -> OpDeclaration {
      OpDeclaration(
        typedName: try string(), parameters: try strings(), addedParameters: try strings(),
        manualVersion: try optional())
    }

    /// The next `count` bytes.
    mutating func bytes(_ count: Int) throws -> [UInt8] {
      guard count <= buffer.count - offset else { throw Malformed() }
      defer { offset += count }
      return Array(UnsafeBufferPointer(rebasing: buffer[offset..<offset + count]))
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

    mutating func byteArray() throws -> [UInt8] {
      try bytes(int())
    }

    mutating func string() throws -> String {
      let count = try int()
      guard count <= buffer.count - offset else { throw Malformed() }
      guard count > 0, let base = buffer.baseAddress else { return "" }
      let start = base + offset
      offset += count
      // Not `String(decoding:as:)`, which is generic: the tool usually runs
      // in debug, where reading a string that way cost about 1,000
      // instructions, this way about 600.
      return String(unsafeUninitializedCapacity: count) { text in
        text.baseAddress!.update(from: start, count: count)
        return count
      }
    }

    mutating func optional() throws -> String? {
      try flag() ? try string() : nil
    }

    /// A byte that says whether something follows: 0 or 1.
    mutating func flag() throws -> Bool {
      guard offset < buffer.count, buffer[offset] <= 1 else { throw Malformed() }
      offset += 1
      return buffer[offset - 1] == 1
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

    mutating func ints(_ values: [Int]) {
      int(values.count)
      for value in values { int(value) }
    }

    mutating func strings(_ values: [String]) {
      int(values.count)
      for value in values { string(value) }
    }

    mutating func optional(_ value: String?) {
      flag(value != nil)
      if let value { string(value) }
    }

    /// A byte that says whether something follows: 0 or 1.
    mutating func flag(_ value: Bool) {
      bytes.append(value ? 1 : 0)
    }
  }
}
