import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  /// What `ops()` sums per op: answered from the index `call_on_op_started`
  /// alone, without reading a call row (a test checks the plan).
  static let opSummarySQL = """
    SELECT op, count(*), coalesce(sum(output_size), 0), max(started_at), total(duration)
    FROM call GROUP BY op
    """

  public func ops() throws -> [OpSummary] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        var summaries: [String: OpSummary] = [:]
        for row in try Row.fetchAll(db, sql: Self.opSummarySQL) {
          let name: String = row[0]
          let last: Double? = row[3]
          summaries[name] = OpSummary(
            op: OpID(name), calls: row[1], versions: 0, outputBytes: row[2],
            lastCall: last.map { Date(timeIntervalSince1970: $0) }, computeTime: .seconds(row[4] as Double))
        }
        for row in try Row.fetchAll(db, sql: "SELECT op, count(*) FROM op_version GROUP BY op") {
          let name: String = row[0]
          summaries[name, default: OpSummary(op: OpID(name), calls: 0, versions: 0, outputBytes: 0, lastCall: nil)]
            .versions = row[1]
        }
        return summaries.values.sorted { $0.op < $1.op }
      }
    }
  }

  /// Up to this many calls, a listing looks up each call's inputs; above it
  /// (or without a limit), it reads the inputs of every matching call at once.
  static let inputsByCallLimit = 1_000

  public func calls(_ query: CallQuery) throws -> [CallRecord] {
    var conditions: [String] = []
    var arguments = StatementArguments()
    func filter(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
      guard let value else { return }
      conditions.append(condition)
      arguments += [value]
    }
    // With a filter on inputs or histories, which select few calls, the unary
    // `+` keeps SQLite from scanning the op's index instead.
    let selective =
      !query.inputs.isEmpty || query.inputHID != nil || query.inputCID != nil || query.outputHID != nil
      || query.outputCID != nil
    filter(selective ? "+call.op = ?" : "call.op = ?", query.op?.name)
    filter("call.op_version = ?", query.opVersion?.hex)
    filter("call.semantic_version = ?", query.semanticVersion?.hex)
    if let version = query.semanticVersionOtherThan?.hex {
      // Two ranges, so that the (op, semantic_version) index serves it.
      conditions.append("(call.semantic_version < ? OR call.semantic_version > ?)")
      arguments += [version, version]
    }
    filter("call.output_cid = ?", query.outputCID?.digest.data)
    filter("call.output_hid = ?", query.outputHID?.digest.data)
    filter("call.id IN (SELECT call_id FROM call_input WHERE hid = ?)", query.inputHID?.digest.data)
    filter("call.id IN (SELECT call_id FROM call_input WHERE cid = ?)", query.inputCID?.digest.data)
    if let range = query.idRange {
      conditions.append("call.id BETWEEN ? AND ?")
      arguments += [range.lower.data, range.upper.data]
    }
    for (name, cid) in query.inputs.sorted(by: { $0.key < $1.key }) {
      conditions.append("call.id IN (SELECT call_id FROM call_input WHERE cid = ? AND name = ?)")
      arguments += [cid.digest.data, name]
    }
    let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    // Stale calls are few among many: found through (op, semantic_version),
    // then sorted, rather than by walking the op's calls in date order.
    let order = query.semanticVersionOtherThan == nil ? "started_at DESC, id DESC" : "+started_at DESC, id DESC"
    let limit = query.limit.map { " LIMIT \(max(0, $0))" } ?? ""
    let selectCalls = """
      SELECT id, op, op_version, semantic_version, trial, output_cid, output_hid, output_size,
        started_at, duration, host, pid, key_fields
      FROM call \(whereClause)
      ORDER BY \(order)\(limit)
      """
    return try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        if query.limit.map({ $0 > Self.inputsByCallLimit }) ?? true {
          // Many calls: the inputs of every matching call in one statement,
          // then the calls, each made as its row is read.
          var inputs: [Digest: [CallInput]] = [:]
          let cursor = try Row.fetchCursor(
            db,
            sql: """
              SELECT call_input.call_id, call_input.name, call_input.cid, call_input.hid
              FROM call_input JOIN call ON call.id = call_input.call_id \(whereClause)
              """,
            arguments: arguments)
          while let input = try cursor.next() {
            inputs[try Self.digest(input, 0), default: []].append(
              CallInput(name: input[1], cid: ContentID(try Self.digest(input, 2)), hid: HistoryID(try Self.digest(input, 3))))
          }
          var records: [CallRecord] = []
          let calls = try Row.fetchCursor(db, sql: selectCalls, arguments: arguments)
          while let row = try calls.next() {
            let id = try Self.digest(row, 0)
            var callInputs = inputs.removeValue(forKey: id) ?? []
            callInputs.sort { $0.name < $1.name }
            records.append(try Self.callRecord(row, id: id, inputs: callInputs))
          }
          return records
        }
        // A few calls: by primary key, one cached lookup per call.
        let lookup = try db.cachedStatement(sql: "SELECT name, cid, hid FROM call_input WHERE call_id = ? ORDER BY name")
        return try Row.fetchAll(db, sql: selectCalls, arguments: arguments).map { row in
          let id = try Self.digest(row, 0)
          let inputs = try Row.fetchAll(lookup, arguments: [id.data]).map { input in
            CallInput(name: input[0], cid: ContentID(try Self.digest(input, 1)), hid: HistoryID(try Self.digest(input, 2)))
          }
          return try Self.callRecord(row, id: id, inputs: inputs)
        }
      }
    }
  }

  /// A call from a row of the listing's `SELECT`.
  private static func callRecord(_ row: Row, id: Digest, inputs: [CallInput]) throws -> CallRecord {
    CallRecord(
      id: CallID(id), op: OpID(row[1] as String), opVersion: CodeFingerprint(hex: row[2]),
      semanticVersion: CodeFingerprint(hex: row[3]), trial: row[4], inputs: inputs,
      outputCID: ContentID(try digest(row, 5)), outputHID: HistoryID(try digest(row, 6)), outputSize: row[7],
      startedAt: Date(timeIntervalSince1970: row[8]), duration: row[9], host: row[10], pid: row[11],
      keyFields: try row.withUnsafeData(atIndex: 12) { $0.map { [UInt8]($0) } })
  }

  public func value(_ cid: ContentID) throws -> [UInt8]? {
    let row = try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try Row.fetchOne(
          db, sql: "SELECT bytes, checksum FROM value WHERE cid = ?", arguments: [cid.digest.data])
      }
    }
    guard let row else { return nil }
    if let inline = row[0] as Data? { return [UInt8](inline) }
    let checksum = (row[1] as Int64?).map { UInt64(bitPattern: $0) }
    switch try blobs.readVerified(cid, checksum: checksum, store: path, forget: forgetValue) {
    case .intact(let bytes), .unreadable(let bytes), .checking(let bytes, _): return bytes.array
    case .missing: return nil
    }
  }
}
