import Foundation

/// A set of stored calls seen as a computation graph, to explore and tabulate
/// what an experiment computed (mandala's `ComputationFrame`).
///
/// Start from an op's calls, some calls or some values; grow the frame along
/// provenance with ``expandBack(recursively:)`` and ``expandForward(recursively:)``;
/// narrow it with ``filter(_:_:)``; combine frames with ``union(_:)`` and
/// ``intersection(_:)``. ``table(showingVersions:)`` gives one row per joint history — for a
/// sweep, one row per point, with its inputs and every result along the way:
///
/// ```swift
/// print(try ComputationFrame(op: "Experiments.accuracy(_:on:)", in: store).expandBack().table().markdown)
/// ```
///
/// ```
/// | seed | load | learningRate | train | accuracy |
/// |---|---|---|---|---|
/// | 1 | {"rows":…} | 0.05 | {"weights":…} | 0.901 |
/// ```
public struct ComputationFrame: Sendable {
  /// The store the calls are in.
  public let store: Store
  /// The frame's calls, by id.
  public private(set) var calls: [CallID: CallRecord]

  /// A frame of the given calls.
  public init(calls: [CallRecord], in store: Store) {
    self.store = store
    self.calls = Dictionary(calls.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
  }

  /// A frame of every stored call of an op (of its current version only, with
  /// `currentOnly`).
  public init(op: OpID, currentOnly: Bool = false, in store: Store) throws {
    self.init(calls: try store.calls(of: op, currentOnly: currentOnly), in: store)
  }

  /// A frame of the calls that produced some values.
  public init(values: [ContentID], in store: Store) throws {
    self.init(calls: try values.flatMap { try store.producers(of: $0) }, in: store)
  }

  /// The ops with calls in the frame, by name.
  public var ops: [OpID] { Set(calls.values.map(\.op)).sorted() }

  // MARK: Growing and narrowing

  /// Adds the calls that produced the frame's inputs (and, recursively, theirs).
  public func expandBack(recursively: Bool = true) throws -> ComputationFrame {
    try expand(recursively: recursively) { record in
      try record.inputs.flatMap { try store.producers(of: $0) }
    }
  }

  /// Adds the calls that used the frame's outputs (and, recursively, theirs).
  public func expandForward(recursively: Bool = true) throws -> ComputationFrame {
    try expand(recursively: recursively) { record in
      try store.consumers(of: record)
    }
  }

  /// Adds everything connected to the frame, in both directions.
  public func expand() throws -> ComputationFrame {
    var frame = self
    while true {
      let grown = try frame.expandBack().expandForward()
      if grown.calls.count == frame.calls.count { return grown }
      frame = grown
    }
  }

  private func expand(recursively: Bool, _ neighbours: (CallRecord) throws -> [CallRecord]) throws
    -> ComputationFrame
  {
    var frame = self
    var frontier = Array(calls.values)
    while !frontier.isEmpty {
      var added: [CallRecord] = []
      for record in frontier {
        for neighbour in try neighbours(record) where frame.calls[neighbour.id] == nil {
          frame.calls[neighbour.id] = neighbour
          added.append(neighbour)
        }
      }
      frontier = recursively ? added : []
    }
    return frame
  }

  /// Keeps only the calls of `op` (its name, or its label name, which
  /// overloads share) for which `isIncluded` is true (the other ops' calls
  /// stay).
  public func filter(_ op: OpID, _ isIncluded: (CallRecord) throws -> Bool) rethrows
    -> ComputationFrame
  {
    var frame = self
    // By name, or by label name (`train(_:epochs:)` for `train(_: Dataset, epochs: Int)`).
    for (id, record) in calls where record.op == op || record.op.labelName == op.name {
      if try !isIncluded(record) { frame.calls[id] = nil }
    }
    return frame
  }

  /// Keeps only the calls of `op` whose input `name` equals `value`.
  public func filter(_ op: OpID, input name: String, equals value: some Encodable) throws
    -> ComputationFrame
  {
    let cid = try ValueCodec.hashArgument(value).cid
    return filter(op) { record in record.inputs.contains { $0.name == name && $0.cid == cid } }
  }

  /// Keeps only the calls that their op's current versions reuse (filed
  /// under a current version's semantic version): stale calls, which
  /// expanding a frame of current calls can bring back (a stale call
  /// downstream of a current one), are left out.
  public func currentOnly() throws -> ComputationFrame {
    var current: [OpID: Set<CodeFingerprint>] = [:]
    for op in ops { current[op] = try store.currentSemanticVersions(of: op) }
    var frame = self
    frame.calls = calls.filter { current[$0.value.op]?.contains($0.value.semanticVersion) == true }
    return frame
  }

  /// The calls in either frame.
  public func union(_ other: ComputationFrame) -> ComputationFrame {
    var frame = self
    frame.calls.merge(other.calls) { first, _ in first }
    return frame
  }

  /// The calls in both frames.
  public func intersection(_ other: ComputationFrame) -> ComputationFrame {
    var frame = self
    frame.calls = calls.filter { other.calls[$0.key] != nil }
    return frame
  }

  // MARK: Structure

  /// A call of the frame that produced an input: its whole result, or one
  /// of its outputs (``MultipleOutputs``).
  private struct Producer {
    var record: CallRecord
    /// The output's label; `nil` for the whole result.
    var output: String?
  }

  /// The parts of the frame's calls' results stored by parts: outputs of
  /// ``MultipleOutputs`` results and elements of collections, by call. (A
  /// call whose parts cannot be read is taken as having none.)
  private var outputs: [CallID: [ValuePart]] {
    var outputs: [CallID: [ValuePart]] = [:]
    for record in calls.values {
      let parts = (try? store.backend.parts(of: record.outputCID)) ?? []
      if !parts.isEmpty { outputs[record.id] = parts }
    }
    return outputs
  }

  /// For each call, the frame's calls that produced its inputs, by input name.
  private func producers(_ outputs: [CallID: [ValuePart]]) -> [CallID: [String: Producer]] {
    var byHID: [HistoryID: Producer] = [:]
    for record in calls.values.sorted(by: { $0.id < $1.id }) {
      if byHID[record.outputHID] == nil { byHID[record.outputHID] = Producer(record: record) }
      for part in outputs[record.id] ?? [] {
        let hid = HistoryID(output: part.label, of: record.outputHID)
        if byHID[hid] == nil { byHID[hid] = Producer(record: record, output: part.label) }
      }
    }
    var producers: [CallID: [String: Producer]] = [:]
    for record in calls.values {
      for input in record.inputs {
        if let producer = byHID[input.hid], producer.record.id != record.id {
          producers[record.id, default: [:]][input.name] = producer
        }
      }
    }
    return producers
  }

  /// Ops in dependency order: producers before consumers, then by name.
  private func orderedOps(_ producers: [CallID: [String: Producer]]) -> [OpID] {
    var edges: [OpID: Set<OpID>] = [:]
    for (id, inputs) in producers {
      guard let consumer = calls[id]?.op else { continue }
      for producer in inputs.values where producer.record.op != consumer {
        edges[consumer, default: []].insert(producer.record.op)
      }
    }
    var ordered: [OpID] = []
    var visiting: Set<OpID> = []
    func visit(_ op: OpID) {
      guard !ordered.contains(op), visiting.insert(op).inserted else { return }
      for producer in (edges[op] ?? []).sorted() { visit(producer) }
      ordered.append(op)
    }
    for op in ops { visit(op) }
    return ordered
  }

  // MARK: Tables

  /// One row per joint history: each call no other call of the frame used (a
  /// sink), with the calls upstream of it in the frame. Columns, in dependency
  /// order: each op's inputs that no call of the frame produced, then the op's
  /// output (named after the op) or, for an op whose results have several
  /// outputs (``MultipleOutputs``), one column per output, named by its label
  /// (`OP.LABEL` where the label alone would be ambiguous). When the frame has calls of trials other
  /// than 0, a first column `trial` holds each history's trial (the trial of
  /// its random calls; calls every trial shares are in the histories of every
  /// trial).
  ///
  /// - Parameter showingVersions: Whether each op's output column is followed
  ///   by one named `OP.version`: the op version of the row's call (its first
  ///   12 hexadecimal digits), with ` (stale)` when no current version of the
  ///   op reuses it.
  public func table(showingVersions: Bool = false) throws -> FrameTable {
    let outputs = self.outputs
    let producers = self.producers(outputs)
    let ops = orderedOps(producers)
    let used = Set(producers.values.flatMap { $0.values.map(\.record.id) })
    let sinks = calls.values.filter { !used.contains($0.id) }
      .sorted { ($0.op, $0.startedAt, $0.id) < ($1.op, $1.startedAt, $1.id) }

    // Columns: free inputs and outputs per op.
    var freeInputs: [OpID: [String]] = [:]
    for record in calls.values {
      for input in record.inputs where producers[record.id]?[input.name] == nil {
        if !(freeInputs[record.op] ?? []).contains(input.name) {
          freeInputs[record.op, default: []].append(input.name)
        }
      }
    }
    // Outputs per op: the labels of its calls' outputs, and whether some of
    // its calls have a single result.
    var labels: [OpID: [String]] = [:]
    var single: Set<OpID> = []
    for record in calls.values {
      // A collection's elements are not columns: its column holds it whole.
      let parts = (outputs[record.id] ?? []).filter { !$0.isElement }
      guard !parts.isEmpty else {
        single.insert(record.op)
        continue
      }
      for part in parts where !(labels[record.op] ?? []).contains(part.label) {
        labels[record.op, default: []].append(part.label)
      }
    }
    let names = Dictionary(uniqueKeysWithValues: ops.map { ($0, Self.shortName($0, among: ops)) })
    let inputNames = freeInputs.values.flatMap { $0 }
    let outputNames = labels.values.flatMap { $0 }
    var columns: [FrameTable.Column] = []
    for op in ops {
      for input in (freeInputs[op] ?? []).sorted() {
        let ambiguous =
          inputNames.filter { $0 == input }.count > 1 || names.values.contains(input)
          || outputNames.contains(input)
        columns.append(
          .init(name: ambiguous ? "\(names[op]!).\(input)" : input, op: op, input: input))
      }
      if single.contains(op) { columns.append(.init(name: names[op]!, op: op, input: nil)) }
      for label in (labels[op] ?? []).sorted() {
        let ambiguous =
          outputNames.filter { $0 == label }.count > 1 || names.values.contains(label)
          || inputNames.contains(label)
        columns.append(
          .init(
            name: ambiguous ? "\(names[op]!).\(label)" : label, op: op, input: nil, output: label))
      }
      if showingVersions {
        columns.append(.init(name: names[op]! + ".version", op: op, input: nil, isVersion: true))
      }
    }
    let current = try Dictionary(
      uniqueKeysWithValues: (showingVersions ? ops : []).map {
        ($0, try store.currentSemanticVersions(of: $0))
      })

    // The trial, when the frame has trials: a value of the table's own.
    let hasTrials = calls.values.contains { $0.trial != 0 }
    let trialColumn = columns.contains { $0.name == "trial" } ? "recall.trial" : "trial"
    var literals: [ContentID: [UInt8]] = [:]
    func literal(_ value: some Encodable) throws -> ContentID {
      let encoded = try ValueCodec.encode(value)
      literals[encoded.cid] = encoded.bytes
      return encoded.cid
    }

    var rows: [[ContentID?]] = []
    for sink in sinks {
      // The sink's history within the frame: the nearest call of each op.
      var history: [OpID: CallRecord] = [sink.op: sink]
      var frontier = [sink]
      while !frontier.isEmpty {
        var next: [CallRecord] = []
        for record in frontier {
          for producer in (producers[record.id] ?? [:]).sorted(by: { $0.key < $1.key }).map(
            \.value.record)
          where history[producer.op] == nil {
            history[producer.op] = producer
            next.append(producer)
          }
        }
        frontier = next
      }
      let row = try columns.map { column -> ContentID? in
        guard let record = history[column.op] else { return nil }
        if column.isVersion {
          let isCurrent = current[column.op]?.contains(record.semanticVersion) == true
          return try literal(
            String(record.opVersion.hex.prefix(12)) + (isCurrent ? "" : " (stale)"))
        }
        if let output = column.output {
          return outputs[record.id]?.first { $0.label == output }?.cid
        }
        guard let input = column.input else {
          let named = outputs[record.id]?.contains { !$0.isElement } ?? false
          return named ? nil : record.outputCID
        }
        return record.inputs.first { $0.name == input }?.cid
      }
      let trial = history.values.map(\.trial).max() ?? 0
      rows.append(hasTrials ? [try literal(trial)] + row : row)
    }
    return FrameTable(
      columns: (hasTrials ? [trialColumn] : []) + columns.map(\.name), cids: rows,
      literals: literals, store: store)
  }

  /// The op's name without its module and labels, unless that is ambiguous.
  static func shortName(_ op: OpID, among ops: [OpID]) -> String {
    func base(_ op: OpID) -> String {
      let name = op.name.prefix { $0 != "(" }
      return String(name.split(separator: ".").last ?? Substring(name))
    }
    return ops.filter { base($0) == base(op) }.count > 1 ? op.name : base(op)
  }

  // MARK: Drawing

  /// The frame as a Graphviz graph: ops as boxes (with their number of calls),
  /// values as ellipses, edges along provenance.
  ///
  /// - Parameters:
  ///   - links: A URL for each op's box (Graphviz's `URL`, a link in SVG).
  ///   - stale: Calls to mark: an op's box counts those among its calls and
  ///     is drawn in orange when it has any.
  public func dot(links: [OpID: String] = [:], stale: Set<CallID> = []) -> String {
    let outputs = self.outputs
    let producers = self.producers(outputs)
    let ops = orderedOps(producers)
    // An op's outputs, by label, when its results have several.
    var labels: [OpID: Set<String>] = [:]
    for record in calls.values {
      for part in outputs[record.id] ?? [] where !part.isElement {
        labels[record.op, default: []].insert(part.label)
      }
    }
    // An element is drawn as its collection.
    func valueNode(_ op: OpID, _ output: String?) -> String {
      "value " + op.name + (output.flatMap { ValuePart.key(in: $0) == nil ? "#" + $0 : nil } ?? "")
    }
    var lines = ["digraph ComputationFrame {", "  rankdir=LR;", "  node [fontname=\"Helvetica\"];"]
    func quoted(_ text: String) -> String { ValueCodec.quoted(text) }
    var edges: Set<String> = []
    for op in ops {
      let name = Self.shortName(op, among: ops)
      let count = calls.values.count { $0.op == op }
      let staleCount =
        stale.isEmpty ? 0 : calls.values.count { $0.op == op && stale.contains($0.id) }
      var attributes = [
        "shape=box",
        staleCount == 0 ? "style=rounded" : "style=\"rounded,filled\", fillcolor=\"#fde3c0\"",
        "label="
          + quoted(
            "\(name)\n\(count) call\(count == 1 ? "" : "s")"
              + (staleCount == 0 ? "" : "\n\(staleCount) stale")),
      ]
      if let link = links[op] { attributes += ["URL=" + quoted(link), "target=\"_top\""] }
      lines.append("  \(quoted("op " + op.name)) [\(attributes.joined(separator: ", "))];")
      lines.append("  \(quoted("value " + op.name)) [shape=ellipse, label=\(quoted(name))];")
      edges.insert("  \(quoted("op " + op.name)) -> \(quoted("value " + op.name));")
      for label in (labels[op] ?? []).sorted() {
        lines.append(
          "  \(quoted(valueNode(op, label))) [shape=ellipse, label=\(quoted("\(name).\(label)"))];")
        edges.insert("  \(quoted("value " + op.name)) -> \(quoted(valueNode(op, label)));")
      }
    }
    for record in calls.values {
      for input in record.inputs {
        if let producer = producers[record.id]?[input.name] {
          let source = valueNode(producer.record.op, producer.output)
          edges.insert(
            "  \(quoted(source)) -> \(quoted("op " + record.op.name)) [label=\(quoted(input.name))];"
          )
        } else {
          let variable = "input \(record.op.name).\(input.name)"
          edges.insert("  \(quoted(variable)) [shape=ellipse, label=\(quoted(input.name))];")
          edges.insert("  \(quoted(variable)) -> \(quoted("op " + record.op.name));")
        }
      }
    }
    lines += edges.sorted()
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  /// The frame drawn as SVG by Graphviz's `dot`.
  ///
  /// - Throws: ``RecallError/missingTool`` when `dot` is not installed, saying
  ///   how to install it.
  ///
  /// - Parameters: As for ``dot(links:stale:)``.
  public func svg(links: [OpID: String] = [:], stale: Set<CallID> = []) throws -> String {
    guard let dot = ComputationFrame.graphviz() else {
      throw RecallError.missingTool(
        "Graphviz's 'dot'",
        install:
          "Install Graphviz (apt install graphviz, or brew install graphviz) to draw SVG, or render the DOT text (`dot()`, `recall graph`) elsewhere."
      )
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: dot)
    process.arguments = ["-Tsvg"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(self.dot(links: links, stale: stale).utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw RecallError.storeUnavailable(
        path: dot, detail: "Graphviz's dot failed with status \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
  }

  static func graphviz() -> String? {
    let path = ProcessEnvironment.value("PATH") ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/dot" }.first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }
}

/// The joint-history table of a ``ComputationFrame``: one row per history,
/// one column per free input and per op output; cells are stored values.
public struct FrameTable: Sendable {
  /// A column of a frame's table.
  struct Column {
    var name: String
    var op: OpID
    var input: String?
    /// The output of a result of several outputs the column holds.
    var output: String? = nil
    /// The column of the op's versions (``ComputationFrame/table(showingVersions:)``).
    var isVersion = false
  }

  /// Column names.
  public let columns: [String]
  /// The values, by row and column (`nil` where a history has no such call).
  public let cids: [[ContentID?]]
  /// Values of the table's own, not stored: the trials.
  let literals: [ContentID: [UInt8]]
  let store: Store

  init(
    columns: [String], cids: [[ContentID?]], literals: [ContentID: [UInt8]] = [:], store: Store
  ) {
    self.columns = columns
    self.cids = cids
    self.literals = literals
    self.store = store
  }

  /// The encoding of a cell's value: the table's own, or the stored one.
  private func bytes(_ cid: ContentID) -> [UInt8]? {
    literals[cid] ?? ((try? store.backend.value(cid)) ?? nil)
  }

  /// The table with only some of its columns, in the given order; unknown
  /// names are left out.
  public func selecting(_ names: [String]) -> FrameTable {
    let indices = names.compactMap { columns.firstIndex(of: $0) }
    return FrameTable(
      columns: indices.map { columns[$0] }, cids: cids.map { row in indices.map { row[$0] } },
      literals: literals, store: store)
  }

  /// The table with its rows sorted by the values of some columns, the first
  /// one first: numbers by value, other values by their JSON text; rows with
  /// no value in a column come last. Unknown names are ignored.
  ///
  /// ```swift
  /// let grid = try frame.table().sorted(by: ["learningRate", "epochs"])
  /// ```
  public func sorted(by names: [String]) -> FrameTable {
    let indices = names.compactMap { columns.firstIndex(of: $0) }
    let cells = renderedCells(maximumElements: .max)
    func precedes(_ a: String?, _ b: String?) -> Bool? {
      switch (a, b) {
      case (nil, nil): return nil
      case (nil, _): return false
      case (_, nil): return true
      case (let a?, let b?):
        if a == b { return nil }
        if let x = Double(a), let y = Double(b), x != y { return x < y }
        return a < b
      }
    }
    let order = cids.indices.sorted { left, right in
      for index in indices {
        let a = cids[left][index] == nil ? nil : cells[left][index]
        let b = cids[right][index] == nil ? nil : cells[right][index]
        if let result = precedes(a, b) { return result }
      }
      return left < right
    }
    return FrameTable(
      columns: columns, cids: order.map { cids[$0] }, literals: literals, store: store)
  }

  /// The table with a column of structs split into one column per field,
  /// named `COLUMN.FIELD`, in place of the column: instead of a struct's
  /// JSON, its fields side by side. A row whose value is not a struct (or
  /// lacks a field) has no value there. A column with no struct is kept.
  ///
  /// ```swift
  /// let table = try frame.table().splittingFields(of: "evaluate")
  /// // columns: …, evaluate.accuracy, evaluate.loss
  /// ```
  ///
  /// - Throws: ``RecallError/notFound`` when the table has no such column.
  public func splittingFields(of name: String) throws -> FrameTable {
    guard let index = columns.firstIndex(of: name) else {
      throw RecallError.notFound(
        "column '\(name)' in the table", path: store.backend.location,
        hint: "Its columns are: \(columns.joined(separator: ", ")).")
    }
    var literals = self.literals
    var names: [String] = []
    var split: [[String: ContentID]] = []
    for row in cids {
      var fields: [String: ContentID] = [:]
      if let cid = row[index], let bytes = bytes(cid),
        let parts = try? ValueCodec.fields(ofStored: bytes)
      {
        for part in parts {
          guard let cid = try? ValueCodec.contentID(ofStored: part.bytes) else { continue }
          literals[cid] = part.bytes
          fields[part.name] = cid
          if !names.contains(part.name) { names.append(part.name) }
        }
      }
      split.append(fields)
    }
    guard !names.isEmpty else { return self }
    return FrameTable(
      columns: Array(columns[..<index]) + names.map { "\(name).\($0)" }
        + columns[(index + 1)...],
      cids: zip(cids, split).map { row, fields in
        Array(row[..<index]) + names.map { fields[$0] } + row[(index + 1)...]
      },
      literals: literals, store: store)
  }

  /// Decodes the values of one column, by row (`nil` where a row has none).
  public func column<T: Decodable>(_ name: String, as type: T.Type) throws -> [T?] {
    guard let index = columns.firstIndex(of: name) else {
      throw RecallError.notFound(
        "column '\(name)' in the table", path: store.backend.location,
        hint: "Its columns are: \(columns.joined(separator: ", ")).")
    }
    return try cids.map { row in
      try row[index].flatMap { cid in
        if let bytes = literals[cid] { return try ValueCodec.decode(T.self, from: bytes) }
        return try store.value(cid, as: T.self)
      }
    }
  }

  /// Cells as JSON text (`null` where a row has no value).
  public func renderedCells(maximumElements: Int = 20) -> [[String]] {
    var cache: [ContentID: String] = [:]
    return cids.map { row in
      row.map { cid in
        guard let cid else { return "null" }
        if let text = cache[cid] { return text }
        let text =
          bytes(cid).flatMap {
            try? ValueCodec.renderJSON($0, maximumElements: maximumElements, part: bytes)
          }
          ?? ValueCodec.quoted("cid \(cid)")
        cache[cid] = text
        return text
      }
    }
  }

  /// A Markdown table; long values are cut.
  public var markdown: String {
    func cell(_ text: String) -> String {
      let cut = text.count > 40 ? String(text.prefix(39)) + "…" : text
      return cut.replacingOccurrences(of: "|", with: "\\|")
    }
    var lines = ["| " + columns.map(cell).joined(separator: " | ") + " |"]
    lines.append("|" + columns.map { _ in "---|" }.joined())
    for row in renderedCells(maximumElements: 5) {
      lines.append("| " + row.map(cell).joined(separator: " | ") + " |")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// CSV (RFC 4180): values as JSON text, quoted where needed.
  public var csv: String {
    func field(_ text: String) -> String {
      text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
        ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
    return ([columns] + renderedCells()).map { $0.map(field).joined(separator: ",") }.joined(
      separator: "\n") + "\n"
  }

  /// A JSON array with one object per row, keyed by column.
  public var json: String {
    let rows = renderedCells(maximumElements: .max).map { row in
      "{" + zip(columns, row).map { "\(ValueCodec.quoted($0)):\($1)" }.joined(separator: ",") + "}"
    }
    return "[" + rows.joined(separator: ",\n") + "]\n"
  }
}
