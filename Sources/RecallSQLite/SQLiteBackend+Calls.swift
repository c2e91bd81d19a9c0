import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  static let loadResultSQL = """
    SELECT value.cid, call.output_hid, call.duration, value.bytes,
      coalesce(value.size, 0), value.checksum, value.stamp, call.checksum, call.id,
      call.started_at + call.duration
    FROM call JOIN value ON value.id = call.output
    WHERE \(matches("call.call_id", "?1"))
    """

  /// What the database holds of a call's result, before any check. A
  /// struct: an optional tuple of these fields is copied and destroyed
  /// through the runtime's value witnesses (about 500 instructions a
  /// lookup under callgrind).
  struct ResultRow {
    var cid: ContentID
    var hid: HistoryID
    var duration: Double
    var inline: [UInt8]?
    var size: Int
    var checksum: Int64?
    var stamp: String?
    var callChecksum: Int64?
    var row: Int64
    var storedAt: Double
  }

  public func loadResult(_ id: CallID) throws -> StoredResult? {
    try loadResult(id, deferringBlob: false)
  }

  public func loadResult(_ id: CallID, deferringBlob: Bool) throws -> StoredResult? {
    if let uncommitted = committer.result(of: id) { return uncommitted }
    guard let found = try resultRow(id) else { return nil }
    try checkCall(
      id, output: found.cid, history: found.hid, checksum: found.callChecksum, row: found.row)
    let checksum = found.checksum.map { UInt64(bitPattern: $0) }
    if let inline = found.inline {
      // The common case checks without making `checks` (a closure over the
      // backend, allocated): only bytes that fail go through it.
      let intact = inline.withUnsafeBytes {
        ValueCodec.checkStored($0, checksum: checksum, cid: found.cid) == .intact
      }
      if !intact {
        let integrity = try inline.withUnsafeBytes {
          try checks.checkInline(found.cid, $0, checksum: checksum)
        }
        if case .unreadable = integrity { try checks.replaceNewer(found.cid) }
      }
      return StoredResult(
        cid: found.cid, hid: found.hid, bytes: inline, duration: found.duration,
        storedAt: found.storedAt)
    }
    if deferringBlob {
      // Opened when its value is read, and checked then: by its stamp, or
      // whole if the file changed since it was written.
      var result = StoredResult(
        cid: found.cid, hid: found.hid, bytes: [], duration: found.duration,
        storedAt: found.storedAt)
      result.unopened = UnopenedBlob(size: found.size) { [self] in
        switch try blobs.readVerified(
          found.cid, checksum: checksum, stamp: found.stamp, store: path, forget: forgetValue)
        {
        case .intact(let bytes): return bytes
        case .checking(let bytes, let check):
          try check.confirm()
          return bytes
        case .unreadable:
          try checks.replaceNewer(found.cid)
        case .missing:
          try forgetValue(found.cid)
          throw RecallError.corruptValue(found.cid, path: path, detail: "its blob file is missing")
        }
      }
      return result
    }
    switch try blobs.readVerified(
      found.cid, checksum: checksum, stamp: found.stamp, store: path, overlapping: true,
      forget: forgetValue)
    {
    case .intact(let bytes):
      return StoredResult(
        cid: found.cid, hid: found.hid, storage: bytes, duration: found.duration,
        storedAt: found.storedAt)
    case .checking(let bytes, let check):
      return StoredResult(
        cid: found.cid, hid: found.hid, storage: bytes, duration: found.duration,
        storedAt: found.storedAt, pendingChecksum: check)
    case .unreadable:
      try checks.replaceNewer(found.cid)
    case .missing:
      // Its file is gone (deleted by hand, or its row's bytes were damaged
      // into NULL): the value is marked lost, so that the call's record
      // stores it again rather than naming the missing file.
      try forgetValue(found.cid)
      return nil
    }
  }

  /// Reads a call's result row (`nil` when the call or its output's bytes
  /// are not stored); checks nothing, changes nothing.
  func resultRow(_ id: CallID) throws -> ResultRow? {
    try SQLiteBackend.mapErrors(path: path) {
      // In the connection's kept snapshot (decision 0113).
      try lookups.lookUp { connection in
        try FastStatement.run(connection, .loadResult, [.digest(id.digest)]) {
          row in
          // A call whose output's bytes are lost (quarantined) is a miss.
          guard try row.step(), row.int64(4) != 0 else { return nil }
          return ResultRow(
            cid: ContentID(try row.digest(0)), hid: HistoryID(try row.digest(1)),
            duration: row.double(2), inline: row.bytes(3), size: Int(row.int64(4)),
            checksum: row.optionalInt64(5), stamp: row.text(6), callChecksum: row.optionalInt64(7),
            row: row.int64(8), storedAt: row.double(9))
        }
      }
    }
  }

  /// What a lookup does with a value's bytes it read.
  var checks: ValueChecks {
    ValueChecks(store: path, blobs: blobs, forget: { [self] in try forgetValue($0) })
  }

  /// Checks a stored call's record against its checksum; a call recorded
  /// before the checksum existed (`checked_calls_from`) has none.
  ///
  /// - Throws: ``RecallError/corruptValue`` (``RecallError/corruptCall(_:path:detail:)``)
  ///   when the record is damaged: the call is recomputed, and its record
  ///   rewritten.
  private func checkCall(
    _ id: CallID, output cid: ContentID, history hid: HistoryID, checksum: Int64?, row: Int64
  ) throws {
    guard
      let damage = try damage(
        ofCall: id, output: cid, history: hid, checksum: checksum, row: row)
    else { return }
    throw RecallError.corruptCall(id, path: path, detail: damage)
  }

  /// What is wrong with a stored call's record, or `nil` when it passes its
  /// checksum (or was recorded before there was one).
  func damage(
    ofCall id: CallID, output cid: ContentID, history hid: HistoryID, checksum: Int64?,
    row: Int64
  ) throws -> String? {
    if let checksum {
      let actual = Int64(bitPattern: Checksum.call(id, output: cid, history: hid))
      guard actual != checksum else { return nil }
      return "its checksum is \(String(UInt64(bitPattern: actual), radix: 16)), not "
        + String(UInt64(bitPattern: checksum), radix: 16)
    }
    return row >= (try checkedCallsFrom()) ? "it has no checksum" : nil
  }

  /// The first call row recorded with a checksum (`v9.call-checksum`), read
  /// the first time a call without one is met (only old stores have them).
  private func checkedCallsFrom() throws -> Int64 {
    if let known = checkedCallsStart.withLock({ $0 }) { return known }
    let start = try SQLiteBackend.mapErrors(path: path) {
      try lookups.withConnection { connection in
        try FastStatement.run(
          connection, "SELECT value FROM store_count WHERE name = 'checked_calls_from'", []
        ) { try $0.step() ? $0.int64(0) : 1 }
      }
    }
    checkedCallsStart.withLock { $0 = start }
    return start
  }

  public func record(_ call: CallRecord, values: [EncodedValue]) throws {
    if let error = commit([(call, values)])[0] { throw error }
  }

  public func record(
    _ call: CallRecord, values: [EncodedValue],
    completion: @escaping @Sendable ((any Error)?) -> Void
  ) {
    committer.enqueue(call, values: values, completion: completion, backend: self)
  }

  public func flush() {
    committer.flush()
  }

  /// Stores calls with their values, all in one transaction (one fsync);
  /// returns, for each call, the error that kept it from being stored. When
  /// the transaction fails, each call is tried alone, so that one call's
  /// problem does not keep the others out.
  func commit(_ calls: [(call: CallRecord, values: [EncodedValue])]) -> [(any Error)?] {
    // Blob files are complete and durable before the rows naming them commit,
    // so a crash at any point leaves either no row or a row with its file.
    var errors: [(any Error)?] = Array(repeating: nil, count: calls.count)
    var written: [ContentID: WrittenValue] = [:]
    for (index, entry) in calls.enumerated() {
      do {
        // A value several calls name (one call's output, the next one's
        // input) is written once: its stamp is the one of that write.
        for value in entry.values where written[value.cid] == nil {
          let isBlob = value.bytes.count > configuration.inlineThreshold
          let stamp = isBlob ? try blobs.write(value) : nil
          written[value.cid] = WrittenValue(
            checksum: Int64(bitPattern: Checksum.xxh64(value.bytes)), stamp: stamp?.text)
        }
      } catch {
        errors[index] = error
      }
    }
    let ready = calls.indices.filter { errors[$0] == nil }
    guard !ready.isEmpty else { return errors }
    beforeCommit.withLock { $0 }?()
    do {
      try insert(ready.map { calls[$0] }, written: &written)
    } catch {
      // A locked store fails every call alike (each retry would wait out the
      // busy timeout again); other errors may be one call's own.
      if ready.count == 1 || (error as? RecallError)?.code == RecallError.storeLocked {
        for index in ready { errors[index] = error }
      } else {
        for index in ready {
          do { try insert([calls[index]], written: &written) } catch { errors[index] = error }
        }
      }
    }
    return errors
  }

  /// What the value table records of a value's bytes besides them: their
  /// checksum, and for a blob file this process wrote, its stamp.
  struct WrittenValue {
    var checksum: Int64
    /// The file's `BlobStamp` when this process wrote it.
    var stamp: String?
  }

  /// Inserts calls and their values in one transaction; their blob files are
  /// written.
  private func insert(
    _ calls: [(call: CallRecord, values: [EncodedValue])], written: inout [ContentID: WrittenValue]
  ) throws {
    try SQLiteBackend.mapErrors(path: path) {
      try database.write { db in
        var rows = RowFinder(db)
        for (call, values) in calls {
          // A garbage collection that ran between writing a blob and taking the
          // lock may have deleted it (it held an unused value of the same cid):
          // write it again, now that no collection can run.
          for value in values
          where value.bytes.count > configuration.inlineThreshold && !blobs.exists(value.cid) {
            written[value.cid]?.stamp = try blobs.write(value)?.text
          }
          for value in values {
            let inline = value.bytes.count > configuration.inlineThreshold ? nil : value.bytes
            try rows.value(
              value.cid,
              storing: (
                value.bytes.count, inline, written[value.cid]?.checksum, written[value.cid]?.stamp
              ))
          }
          for value in values where !value.parts.isEmpty {
            let whole = try rows.value(value.cid)
            for part in value.parts {
              let partRow = try rows.value(part.value.cid)
              try rows.run(.insertPart, [.int(whole), .text(part.label), .int(partRow)]) {
                try $0.execute()
              }
            }
          }
          let filing = try rows.filing(call.op.name, call.opVersion.hex, call.semanticVersion.hex)
          let fields: [FastArgument] = [
            .int(try rows.op(call.op.name)),
            .int(filing),
            .int(call.trial), .int(try rows.value(call.outputCID)), .digest(call.outputHID.digest),
            .int(call.outputSize), .double(call.startedAt.timeIntervalSince1970),
            .double(call.duration),
            .text(call.host), .int(call.pid),
            .bytes(
              call.keyFields.map {
                StoredKeyFields.compact($0, inputs: StoredKeyFields.order(call.inputs))
              }),
            .int(
              Int64(
                bitPattern: Checksum.call(call.id, output: call.outputCID, history: call.outputHID))
            ),
            .int(call.missCause.map { Int64($0.storedCode) }),
            .int(call.environment?.storedValue),
          ]
          let row: Int64
          if let existing = try rows.call(call.id) {
            row = existing
            try rows.run(.updateCall, fields + [.int(existing)]) { try $0.execute() }
            try rows.run(.deleteInputs, [.int(existing)]) { try $0.execute() }
          } else {
            try rows.run(.insertCall, [.digest(call.id.digest)] + fields) { try $0.execute() }
            row = db.lastInsertedRowID
            rows.countInsertedCall(
              filing: filing, outputSize: call.outputSize, duration: call.duration)
          }
          // Waiters see either the claim or the stored call, never neither.
          try rows.deleteClaim(of: call.id)
          for input in call.inputs {
            let hid: FastArgument =
              input.hid.digest == input.cid.digest ? .null : .digest(input.hid.digest)
            let value = try rows.value(input.cid)
            try rows.run(.insertInput, [.int(row), .text(input.name), .int(value), hid]) {
              try $0.execute()
            }
          }
        }
        try rows.writeCounts()
      }
    }
  }

  public func summary() throws -> StoreSummary {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        // Kept by triggers as calls and values change (migration v15).
        let calls = try Int.fetchOne(db, sql: "SELECT coalesce(sum(calls), 0) FROM filing") ?? 0
        let counts = try Dictionary(
          Row.fetchAll(
            db, sql: "SELECT name, value FROM store_count WHERE name IN ('values', 'value_bytes')"
          ).map { (try $0.decode(String.self, atIndex: 0), try $0.decode(Int.self, atIndex: 1)) },
          uniquingKeysWith: { first, _ in first })
        return StoreSummary(
          calls: calls, values: counts["values"] ?? 0, bytes: counts["value_bytes"] ?? 0)
      }
    }
  }

  /// Marks lost the value whose blob failed its integrity check (and was
  /// moved to quarantine): its calls become misses. The row stays, since
  /// calls name it; storing the value again restores it.
  func forgetValue(_ cid: ContentID) throws {
    // A store opened read-only changes nothing: what failed its check stays,
    // refused at every read, until a process that writes reads it.
    guard !configuration.readOnly else { return }
    try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        try db.execute(
          sql:
            "UPDATE value SET size = NULL, bytes = NULL, checksum = NULL, stamp = NULL WHERE \(Self.matches("cid"))",
          arguments: [cid.digest.data, cid.digest.data])
      }
    }
  }

  /// A condition that finds a 32-byte hash through its column's index on the
  /// first 8 bytes (`value_on_cid`, `call_on_id`, `call_on_output_hid`,
  /// `call_input_on_hid`), then compares it whole. With the default `hash`,
  /// bind the hash twice.
  static func matches(_ column: String, _ hash: String = "?") -> String {
    "substr(\(column), 1, 8) = substr(\(hash), 1, 8) AND \(column) = \(hash)"
  }

  static func digest(_ data: Data?) throws -> Digest {
    guard let data, let digest = Digest(bytes: data) else {
      throw RecallError.malformedStoredID
    }
    return digest
  }

  /// The digest in a row's column, read without copying the column's bytes.
  static func digest(_ row: Row, _ index: Int) throws -> Digest {
    try row.withUnsafeData(atIndex: index) { try digest($0) }
  }
}

/// Finds (and adds) the rows a write names, within one transaction: values by
/// cid, calls by id, ops by name, filings by version. Caches what it found
/// for the rest of the transaction.
struct RowFinder {
  let db: Database
  /// Values found or added, and whether their bytes are lost (or were
  /// never stored): a later `value(_:storing:)` of the same transaction
  /// restores them.
  private var values: [ContentID: (row: Int64, lost: Bool)] = [:]
  private var ops: [String: Int64] = [:]
  private var filings: [[String]: Int64] = [:]
  /// The op and filing found last.
  private var lastOp: (name: String, row: Int64)?
  private var lastFiling: (key: (String, String, String), row: Int64)?
  /// What the transaction inserted, for the counts `v15.counts` keeps
  /// (``writeCounts()``): calls by filing, and values with bytes.
  private var insertedCalls: [Int64: (calls: Int, bytes: Int, time: Double)] = [:]
  private var insertedValues = (count: 0, bytes: 0)
  /// The statements of ``WriteStatement`` this transaction has run: finding
  /// one in GRDB's cache hashes its whole text, about 800 instructions each
  /// time.
  private var statements = [Statement?](repeating: nil, count: WriteStatement.allCases.count)
  /// Whether the claim table has a row, once looked at (``deleteClaim(of:)``).
  private var claimsExist: Bool?

  init(_ db: Database) { self.db = db }

  /// The row of a value, added (or, if its bytes were lost, restored) with
  /// `stored`, or added without bytes if neither it nor `stored` exists.
  @discardableResult
  mutating func value(
    _ cid: ContentID,
    storing stored: (size: Int, bytes: [UInt8]?, checksum: Int64?, stamp: String?)? = nil
  ) throws -> Int64 {
    let found =
      try values[cid]
      ?? run(.findValue, [.digest(cid.digest), .digest(cid.digest)]) { row in
        try row.step() ? (row: row.int64(0), lost: row.isNull(1)) : nil
      }
    var row: (row: Int64, lost: Bool)
    if let found {
      row = found
      if let stored, found.lost {
        try run(
          .restoreValue,
          [
            .int(stored.size), .bytes(stored.bytes), .int(stored.checksum), .text(stored.stamp),
            .int(row.row),
          ]
        ) { try $0.execute() }
        row.lost = false
      }
    } else {
      try run(
        .insertValue,
        [
          .digest(cid.digest), stored.map { .int($0.size) } ?? .null, .bytes(stored?.bytes),
          .int(stored?.checksum),
          .text(stored?.stamp),
        ]
      ) { try $0.execute() }
      row = (db.lastInsertedRowID, stored == nil)
      if let stored {
        insertedValues.count += 1
        insertedValues.bytes += stored.size
      }
    }
    values[cid] = row
    return row.row
  }

  /// Counts a call row the transaction inserted.
  mutating func countInsertedCall(filing: Int64, outputSize: Int, duration: Double) {
    let added = insertedCalls[filing, default: (0, 0, 0)]
    insertedCalls[filing] = (added.calls + 1, added.bytes + outputSize, added.time + duration)
  }

  /// Adds what the transaction inserted to the store's counts: one update
  /// per filing and one for the values, however many rows. (Updates and
  /// deletes are counted by triggers.)
  func writeCounts() throws {
    for (filing, added) in insertedCalls {
      try FastStatement.run(
        db,
        """
        UPDATE filing SET calls = calls + ?, output_bytes = output_bytes + ?,
          compute_time = compute_time + ? WHERE id = ?
        """,
        [.int(Int64(added.calls)), .int(Int64(added.bytes)), .double(added.time), .int(filing)]
      ) { try $0.execute() }
    }
    guard insertedValues.count > 0 else { return }
    try FastStatement.run(
      db,
      """
      UPDATE store_count SET value = value + CASE name WHEN 'values' THEN ? ELSE ? END
      WHERE name IN ('values', 'value_bytes')
      """,
      [.int(Int64(insertedValues.count)), .int(Int64(insertedValues.bytes))]
    ) { try $0.execute() }
  }

  /// Deletes a stored call and its inputs.
  func deleteCall(_ row: Int64) throws {
    try db.execute(sql: "DELETE FROM call WHERE id = ?", arguments: [row])
    try db.execute(sql: "DELETE FROM call_input WHERE call_input.call = ?", arguments: [row])
  }

  /// The row of a stored call.
  mutating func call(_ id: CallID) throws -> Int64? {
    try run(.findCall, [.digest(id.digest), .digest(id.digest)]) { row in
      try row.step() ? row.int64(0) : nil
    }
  }

  /// Deletes a call's claim, if it has one. The claim table is looked at once
  /// per transaction: the transaction holds the write lock (`BEGIN
  /// IMMEDIATE`), so no connection of any process can add a claim before it
  /// commits, and one that finds the table empty (no call is claimed: quick
  /// calls are not) deletes nothing.
  mutating func deleteClaim(of id: CallID) throws {
    if claimsExist == nil {
      claimsExist = try run(.anyClaim, []) { try $0.step() && $0.int64(0) != 0 }
    }
    guard claimsExist == true else { return }
    try run(.deleteClaim, [.digest(id.digest)]) { try $0.execute() }
  }

  /// Runs one of the statements a write runs for each call, prepared (or
  /// taken from GRDB's cache) once per transaction.
  mutating func run<T>(
    _ kind: WriteStatement, _ arguments: [FastArgument], _ body: (FastStatement) throws -> T
  ) throws -> T {
    let statement: Statement
    if let prepared = statements[kind.rawValue] {
      statement = prepared
    } else {
      statement = try db.cachedStatement(sql: kind.sql)
      statements[kind.rawValue] = statement
    }
    return try FastStatement.run(db, statement, kind.sql, arguments, body)
  }

  /// The id of an op's name, added if new.
  mutating func op(_ name: String) throws -> Int64 {
    // The calls of a transaction are mostly of one op: its name is compared
    // (by its storage first), not hashed.
    if let last = lastOp, last.name == name { return last.row }
    let row =
      try ops[name]
      ?? Int64.fetchOne(
        db.cachedStatement(sql: "SELECT id FROM op_name WHERE name = ?"), arguments: [name])
      ?? inserted("INSERT INTO op_name (name) VALUES (?)", [name])
    ops[name] = row
    lastOp = (name, row)
    return row
  }

  /// The id of the filing of an op's calls under a version and semantic
  /// version, added if new.
  mutating func filing(_ op: String, _ version: String, _ semanticVersion: String) throws -> Int64 {
    if let last = lastFiling, last.key == (op, version, semanticVersion) { return last.row }
    let key = [op, version, semanticVersion]
    let row: Int64
    if let found = filings[key] {
      row = found
    } else {
      let opRow = try self.op(op)
      row =
        try Int64.fetchOne(
          db.cachedStatement(
            sql: "SELECT id FROM filing WHERE op = ? AND semantic_version = ? AND op_version = ?"),
          arguments: [opRow, semanticVersion, version])
        ?? inserted(
          "INSERT INTO filing (op, op_version, semantic_version) VALUES (?, ?, ?)",
          [opRow, version, semanticVersion])
      filings[key] = row
    }
    lastFiling = ((op, version, semanticVersion), row)
    return row
  }

  /// Runs an `INSERT` and returns the new row's id.
  private func inserted(_ sql: String, _ arguments: StatementArguments) throws -> Int64 {
    try db.cachedStatement(sql: sql).execute(arguments: arguments)
    return db.lastInsertedRowID
  }
}

extension Digest {
  var data: Data { withUnsafeBytes { Data($0) } }
}

/// The statements a write runs for each call it stores (``RowFinder/run(_:_:_:)``).
enum WriteStatement: Int, CaseIterable {
  case findValue, insertValue, restoreValue, insertPart
  case findCall, insertCall, updateCall, deleteInputs, anyClaim, deleteClaim, insertInput

  /// Its SQL, made once.
  var sql: String { Self.texts[rawValue] }

  private static let texts = allCases.map(\.text)

  private var text: String {
    switch self {
    case .findValue: "SELECT id, size FROM value WHERE \(SQLiteBackend.matches("cid"))"
    case .insertValue:
      "INSERT INTO value (cid, size, bytes, checksum, stamp) VALUES (?, ?, ?, ?, ?)"
    case .restoreValue:
      "UPDATE value SET size = ?, bytes = ?, checksum = ?, stamp = ?, evicted_at = NULL WHERE id = ?"
    case .insertPart: "INSERT OR IGNORE INTO value_part (value, label, part) VALUES (?, ?, ?)"
    case .findCall: "SELECT id FROM call WHERE \(SQLiteBackend.matches("call_id"))"
    case .insertCall:
      """
      INSERT INTO call (call_id, op, filing, trial, output, output_hid, output_size, started_at,
        duration, host, pid, key_fields, checksum, miss, environment)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """
    case .updateCall:
      """
      UPDATE call SET op = ?, filing = ?, trial = ?, output = ?, output_hid = ?, output_size = ?,
        started_at = ?, duration = ?, host = ?, pid = ?, key_fields = ?, checksum = ?, miss = ?,
        environment = ?
      WHERE id = ?
      """
    case .deleteInputs: "DELETE FROM call_input WHERE call = ?"
    case .anyClaim: "SELECT EXISTS (SELECT 1 FROM claim)"
    case .deleteClaim: "DELETE FROM claim WHERE call_id = ?"
    case .insertInput: "INSERT INTO call_input (call, name, value, hid) VALUES (?, ?, ?, ?)"
    }
  }
}
