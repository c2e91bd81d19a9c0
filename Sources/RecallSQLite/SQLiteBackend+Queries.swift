import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  /// What `ops()` sums per op: answered from the index `call_on_op_started`
  /// alone, without reading a call row (a test checks the plan).
  /// Each op's calls, output bytes and compute time from the counts its
  /// filings keep (migration v15), and its latest call from the index on
  /// `(op, started_at)`: no scan of the calls.
  static let opSummarySQL = """
    SELECT op_name.name, sum(filing.calls), sum(filing.output_bytes),
      (SELECT started_at FROM call WHERE call.op = filing.op ORDER BY started_at DESC LIMIT 1),
      total(CASE WHEN filing.calls > 0 THEN filing.compute_time ELSE 0 END)
    FROM filing JOIN op_name ON op_name.id = filing.op
    GROUP BY filing.op HAVING sum(filing.calls) > 0
    """

  public func ops() throws -> [OpSummary] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        var summaries: [String: OpSummary] = [:]
        // Decoded with GRDB's throwing `decode` (its subscripts trap on a
        // column of another type, which a damaged database can hold).
        for row in try Row.fetchAll(db, sql: Self.opSummarySQL) {
          let name: String = try row.decode(atIndex: 0)
          let last: Double? = try row.decode(atIndex: 3)
          summaries[name] = OpSummary(
            op: OpID(name), calls: try row.decode(atIndex: 1), versions: 0,
            outputBytes: try row.decode(atIndex: 2),
            lastCall: last.map { Date(timeIntervalSince1970: $0) },
            computeTime: .seconds(try row.decode(Double.self, atIndex: 4)))
        }
        for row in try Row.fetchAll(db, sql: "SELECT op, count(*) FROM op_version GROUP BY op") {
          let name: String = try row.decode(atIndex: 0)
          summaries[
            name,
            default: OpSummary(op: OpID(name), calls: 0, versions: 0, outputBytes: 0, lastCall: nil)
          ]
          .versions = try row.decode(atIndex: 1)
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
    // The row of the value with the cid bound next (twice).
    let valueRow = "(SELECT id FROM value WHERE \(Self.matches("cid")))"
    // With a filter on inputs, histories or versions, which select few calls,
    // the unary `+` keeps SQLite from scanning the op's index instead.
    let selective =
      !query.inputs.isEmpty || query.inputHID != nil || !query.inputHIDs.isEmpty
      || query.inputCID != nil
      || query.outputHID != nil
      || query.outputCID != nil || query.semanticVersionOtherThan != nil
    filter(
      (selective ? "+call.op" : "call.op") + " = (SELECT id FROM op_name WHERE name = ?)",
      query.op?.name)
    var filings: [String] = []
    var filingArguments = StatementArguments()
    if let version = query.opVersion?.hex {
      filings.append("op_version = ?")
      filingArguments += [version]
    }
    if let version = query.semanticVersion?.hex {
      filings.append("semantic_version = ?")
      filingArguments += [version]
    }
    if let version = query.semanticVersionOtherThan?.hex {
      filings.append("semantic_version <> ?")
      filingArguments += [version]
    }
    if !filings.isEmpty {
      conditions.append(
        "call.filing IN (SELECT id FROM filing WHERE \(filings.joined(separator: " AND ")))")
      arguments += filingArguments
    }
    func filter(hash: Digest?, times: Int = 1, _ condition: String) {
      guard let hash else { return }
      conditions.append(condition)
      arguments += StatementArguments(Array(repeating: hash.data, count: 2 * times))
    }
    filter(hash: query.outputCID?.digest, "call.output = \(valueRow)")
    filter(hash: query.outputHID?.digest, Self.matches("call.output_hid"))
    // An input whose history id is its cid records none.
    filter(
      hash: query.inputHID?.digest, times: 2,
      """
      call.id IN (
        SELECT call FROM call_input WHERE hid IS NOT NULL AND \(Self.matches("hid"))
        UNION ALL SELECT call FROM call_input WHERE hid IS NULL AND call_input.value = \(valueRow))
      """)
    if !query.inputHIDs.isEmpty {
      // Each history by the prefix the index holds, then in full; one equal
      // to a value's cid (a value from outside any op) is recorded as none.
      let list = Array(repeating: "?", count: query.inputHIDs.count).joined(separator: ", ")
      conditions.append(
        """
        call.id IN (
          SELECT call FROM call_input WHERE hid IS NOT NULL AND substr(hid, 1, 8) IN (\(list))
            AND hid IN (\(list))
          UNION ALL SELECT call FROM call_input WHERE hid IS NULL AND call_input.value IN (
            SELECT id FROM value WHERE substr(cid, 1, 8) IN (\(list)) AND cid IN (\(list))))
        """)
      let prefixes = query.inputHIDs.map { $0.digest.data.prefix(8) }
      let hids = query.inputHIDs.map(\.digest.data)
      arguments += StatementArguments(prefixes + hids + prefixes + hids)
    }
    filter(
      hash: query.inputCID?.digest,
      "call.id IN (SELECT call FROM call_input WHERE call_input.value = \(valueRow))")
    filter("call.started_at < ?", query.startedBefore?.timeIntervalSince1970)
    if let range = query.idRange {
      conditions.append(
        "substr(call.call_id, 1, 8) BETWEEN substr(?, 1, 8) AND substr(?, 1, 8) AND call.call_id BETWEEN ? AND ?"
      )
      arguments += [range.lower.data, range.upper.data, range.lower.data, range.upper.data]
    }
    for (name, cid) in query.inputs.sorted(by: { $0.key < $1.key }) {
      conditions.append(
        "call.id IN (SELECT call FROM call_input WHERE call_input.value = \(valueRow) AND name = ?)"
      )
      arguments += [cid.digest.data, cid.digest.data, name]
    }
    let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    // Stale calls are few among many: found through their filings, then
    // sorted, rather than by walking the op's calls in date order.
    let order =
      query.semanticVersionOtherThan == nil
      ? "call.started_at DESC, call.call_id DESC" : "+call.started_at DESC, call.call_id DESC"
    // Rows that fail their checksum are left out as they are read, so the
    // limit counts intact calls (not a LIMIT in the statement).
    let limit = max(0, query.limit ?? .max)
    let selectCalls = """
      SELECT call.id, call.call_id, op_name.name, filing.op_version, filing.semantic_version, call.trial,
        value.cid, call.output_hid, call.output_size, call.started_at, call.duration, call.host, call.pid,
        call.key_fields, call.checksum, value.evicted_at, call.miss, call.environment
      FROM call
      JOIN op_name ON op_name.id = call.op
      JOIN filing ON filing.id = call.filing
      JOIN value ON value.id = call.output
      \(whereClause)
      ORDER BY \(order)
      """
    let selectInputs = """
      SELECT call_input.call, call_input.name, value.cid, coalesce(call_input.hid, value.cid)
      FROM call_input JOIN value ON value.id = call_input.value
      """
    return try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        if query.limit.map({ $0 > Self.inputsByCallLimit }) ?? true {
          // Many calls: the inputs of every matching call in one statement,
          // then the calls, each made as its row is read.
          var inputs: [Int64: [CallInput]] = [:]
          let cursor = try Row.fetchCursor(
            db,
            sql: selectInputs
              + " WHERE call_input.call IN (SELECT call.id FROM call \(whereClause))",
            arguments: arguments)
          while let input = try cursor.next() {
            // A damaged input row is left out.
            guard let call: Int64 = try? input.decode(atIndex: 0),
              let decoded = try? Self.callInput(input)
            else { continue }
            inputs[call, default: []].append(decoded)
          }
          var records: [CallRecord] = []
          let calls = try Row.fetchCursor(db, sql: selectCalls, arguments: arguments)
          while records.count < limit, let row = try calls.next() {
            guard let id: Int64 = try? row.decode(atIndex: 0) else { continue }
            var callInputs = inputs.removeValue(forKey: id) ?? []
            callInputs.sort { $0.name < $1.name }
            // A row too damaged to decode is left out, as one that fails its
            // checksum.
            guard let record = try? Self.callRecord(row, inputs: callInputs) else { continue }
            if try isIntact(record, row) { records.append(record) }
          }
          return records
        }
        // A few calls: by primary key, one cached lookup per call.
        let lookup = try db.cachedStatement(
          sql: selectInputs + " WHERE call_input.call = ? ORDER BY call_input.name")
        var records: [CallRecord] = []
        let calls = try Row.fetchCursor(db, sql: selectCalls, arguments: arguments)
        while records.count < limit, let row = try calls.next() {
          guard let id: Int64 = try? row.decode(atIndex: 0) else { continue }
          let inputs = try Row.fetchAll(lookup, arguments: [id]).compactMap {
            try? Self.callInput($0)
          }
          guard let record = try? Self.callRecord(row, inputs: inputs) else { continue }
          if try isIntact(record, row) { records.append(record) }
        }
        return records
      }
    }
  }

  /// Whether a listed call's record passes its checksum. One that does not
  /// is left out of listings, and so out of exports: copied, it would get a
  /// checksum of its own over the damage. (Its next lookup recomputes it.)
  private func isIntact(_ record: CallRecord, _ row: Row) throws -> Bool {
    try damage(
      ofCall: record.id, output: record.outputCID, history: record.outputHID,
      checksum: row.decode(atIndex: 14), row: row.decode(atIndex: 0)) == nil
  }

  /// An input from a row of `(call, name, cid, hid)`.
  ///
  /// Rows are decoded with GRDB's throwing `decode`, never its subscripts,
  /// which trap on a column of another type: in a damaged database a column
  /// can be anything, and a listing leaves such a row out.
  private static func callInput(_ row: Row) throws -> CallInput {
    CallInput(
      name: try row.decode(atIndex: 1), cid: ContentID(try digest(row, 2)),
      hid: HistoryID(try digest(row, 3)))
  }

  /// A call from a row of the listing's `SELECT`.
  private static func callRecord(_ row: Row, inputs: [CallInput]) throws -> CallRecord {
    CallRecord(
      id: CallID(try digest(row, 1)), op: OpID(try row.decode(String.self, atIndex: 2)),
      opVersion: CodeFingerprint(hex: try row.decode(atIndex: 3)),
      semanticVersion: CodeFingerprint(hex: try row.decode(atIndex: 4)),
      trial: try row.decode(atIndex: 5), inputs: inputs,
      outputCID: ContentID(try digest(row, 6)), outputHID: HistoryID(try digest(row, 7)),
      outputSize: try row.decode(atIndex: 8),
      startedAt: Date(timeIntervalSince1970: try row.decode(atIndex: 9)),
      duration: try row.decode(atIndex: 10), host: try row.decode(atIndex: 11),
      pid: try row.decode(atIndex: 12),
      keyFields: try row.withUnsafeData(atIndex: 13) { stored in
        stored.flatMap {
          StoredKeyFields.expand([UInt8]($0), inputs: StoredKeyFields.order(inputs))
        }
      },
      evictedAt: try row.decode(Double?.self, atIndex: 15).map { Date(timeIntervalSince1970: $0) },
      missCause: try row.decode(Int?.self, atIndex: 16).flatMap { MissCause(storedCode: $0) },
      environment: try row.decode(Int64?.self, atIndex: 17).map {
        EnvironmentID(storedValue: $0)
      })
  }

  public func parts(of cid: ContentID) throws -> [ValuePart] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try Row.fetchAll(
          db,
          sql: """
            SELECT value_part.label, part.cid FROM value AS whole
            JOIN value_part ON value_part.value = whole.id
            JOIN value AS part ON part.id = value_part.part
            WHERE \(Self.matches("whole.cid")) ORDER BY value_part.label
            """, arguments: [cid.digest.data, cid.digest.data]
        ).map { ValuePart(label: $0[0], cid: ContentID(try Self.digest($0[1]))) }
      }
    }
  }

  public func wholes(containing cid: ContentID) throws -> [ContentID] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try Row.fetchAll(
          db,
          sql: """
            SELECT DISTINCT whole.cid FROM value AS part
            JOIN value_part ON value_part.part = part.id
            JOIN value AS whole ON whole.id = value_part.value
            WHERE \(Self.matches("part.cid")) ORDER BY whole.cid
            """, arguments: [cid.digest.data, cid.digest.data]
        ).map { ContentID(try Self.digest($0[0])) }
      }
    }
  }

  public func value(_ cid: ContentID) throws -> [UInt8]? {
    try values([cid])[cid]
  }

  /// The stored bytes of several values, read in one transaction (a list's
  /// elements; those not found, again in a second one once this process's
  /// pending commits are done), each checked as ``value(_:)`` checks it.
  ///
  /// Read on a lookup connection: a process that only hits results stored
  /// by parts never opens GRDB's pool (decision 0123, scenario M).
  public func values(_ cids: [ContentID]) throws -> [ContentID: [UInt8]] {
    var rows = try valueRows(cids)
    let missing = rows.indices.filter { rows[$0]?.isKept != true }
    if !missing.isEmpty {
      // Perhaps computed by this process and not committed yet: committed
      // now, and looked for again. (Waiting for the committer only then
      // keeps reads from holding up its group commits.)
      committer.flush()
      for (index, row) in zip(missing, try valueRows(missing.map { cids[$0] })) {
        rows[index] = row
      }
    }
    var values: [ContentID: [UInt8]] = [:]
    values.reserveCapacity(cids.count)
    for (cid, row) in zip(cids, rows) {
      if let row, let bytes = try stored(cid, row) { values[cid] = bytes }
    }
    return values
  }

  /// The rows of values, in one read transaction of a lookup connection,
  /// begun now (not a kept snapshot: a value read sees every commit before
  /// it, as a query does).
  private func valueRows(_ cids: [ContentID]) throws -> [StoredValueRow?] {
    try SQLiteBackend.mapErrors(path: path) {
      try lookups.withConnection { connection in
        try connection.readTransaction {
          try cids.map { cid in
            try FastStatement.run(connection, .value, [.digest(cid.digest)]) { row in
              try row.step()
                ? StoredValueRow(
                  bytes: row.bytes(0), checksum: row.optionalInt64(1), isKept: row.int64(2) != 0)
                : nil
            }
          }
        }
      }
    }
  }

  /// What the database holds of a value, before any check.
  private struct StoredValueRow {
    /// Its bytes, when they are in the database (`nil` for a blob file).
    var bytes: [UInt8]?
    /// The checksum of its bytes (`nil` for a value stored before checksums).
    var checksum: Int64?
    /// Whether its bytes are kept (not lost or quarantined).
    var isKept: Bool
  }

  /// A value's bytes from its row, checked.
  private func stored(_ cid: ContentID, _ row: StoredValueRow) throws -> [UInt8]? {
    guard row.isKept else { return nil }
    let checksum = row.checksum.map { UInt64(bitPattern: $0) }
    if let inline = row.bytes {
      // Bytes in a newer format are returned as they are (to be shown, or
      // exported to a newer Recall); only damaged ones are refused.
      _ = try inline.withUnsafeBytes { try checks.checkInline(cid, $0, checksum: checksum) }
      return inline
    }
    switch try blobs.readVerified(cid, checksum: checksum, store: path, forget: forgetValue) {
    case .intact(let bytes), .unreadable(let bytes), .checking(let bytes, _): return bytes.array
    case .missing: return nil
    }
  }
}
