import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  public func loadResult(_ id: CallID) throws -> StoredResult? {
    if let uncommitted = committer.result(of: id) { return uncommitted }
    let found: (cid: ContentID, hid: HistoryID, duration: Double, inline: Data?, checksum: Int64?, stamp: String?)? =
      try SQLiteBackend.mapErrors(path: path) {
        try database.read { db in
          guard
            let row = try Row.fetchOne(
              db.cachedStatement(
                sql: """
                  SELECT call.output_cid, call.output_hid, call.duration, value.bytes,
                    value.cid IS NOT NULL, value.checksum, value.stamp
                  FROM call LEFT JOIN value ON value.cid = call.output_cid
                  WHERE call.id = ?
                  """),
              arguments: [id.digest.data]),
            // A call whose output row is gone (collected, quarantined) is a miss.
            row[4] as Bool
          else { return nil }
          return (
            ContentID(try Self.digest(row[0])), HistoryID(try Self.digest(row[1])), row[2], row[3], row[5], row[6]
          )
        }
      }
    guard let found else { return nil }
    if let inline = found.inline {
      return StoredResult(cid: found.cid, hid: found.hid, bytes: [UInt8](inline), duration: found.duration)
    }
    let checksum = found.checksum.map { UInt64(bitPattern: $0) }
    switch try blobs.readVerified(
      found.cid, checksum: checksum, stamp: found.stamp, store: path, overlapping: true, forget: forgetValue)
    {
    case .intact(let bytes):
      return StoredResult(cid: found.cid, hid: found.hid, storage: bytes, duration: found.duration)
    case .checking(let bytes, let check):
      return StoredResult(
        cid: found.cid, hid: found.hid, storage: bytes, duration: found.duration, pendingChecksum: check)
    case .unreadable, .missing:
      return nil
    }
  }

  public func record(_ call: CallRecord, values: [EncodedValue]) throws {
    if let error = commit([(call, values)])[0] { throw error }
  }

  public func record(
    _ call: CallRecord, values: [EncodedValue], completion: @escaping @Sendable ((any Error)?) -> Void
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
    var files: [ContentID: BlobFile] = [:]
    for (index, entry) in calls.enumerated() {
      do {
        for value in entry.values where value.bytes.count > configuration.inlineThreshold {
          let stamp = try blobs.write(value)
          files[value.cid] = BlobFile(checksum: Int64(bitPattern: Checksum.xxh64(value.bytes)), stamp: stamp?.text)
        }
      } catch {
        errors[index] = error
      }
    }
    let ready = calls.indices.filter { errors[$0] == nil }
    guard !ready.isEmpty else { return errors }
    beforeCommit.withLock { $0 }?()
    do {
      try insert(ready.map { calls[$0] }, files: &files)
    } catch {
      // A locked store fails every call alike (each retry would wait out the
      // busy timeout again); other errors may be one call's own.
      if ready.count == 1 || (error as? RecallError)?.code == RecallError.storeLocked {
        for index in ready { errors[index] = error }
      } else {
        for index in ready {
          do { try insert([calls[index]], files: &files) } catch { errors[index] = error }
        }
      }
    }
    return errors
  }

  /// What the value table records of a blob file this process wrote.
  struct BlobFile {
    var checksum: Int64
    /// The file's `BlobStamp` when this process wrote it.
    var stamp: String?
  }

  /// Inserts calls and their values in one transaction; their blob files are
  /// written.
  private func insert(
    _ calls: [(call: CallRecord, values: [EncodedValue])], files: inout [ContentID: BlobFile]
  ) throws {
    let now = Date().timeIntervalSince1970
    try SQLiteBackend.mapErrors(path: path) {
      try database.write { db in
        let insertValue = try db.cachedStatement(
          sql: "INSERT OR IGNORE INTO value (cid, size, bytes, created_at, checksum, stamp) VALUES (?, ?, ?, ?, ?, ?)")
        let insertCall = try db.cachedStatement(
          sql: """
            INSERT OR REPLACE INTO call (id, op, op_version, semantic_version, trial, output_cid,
              output_hid, output_size, started_at, duration, host, pid, key_fields)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let deleteInputs = try db.cachedStatement(sql: "DELETE FROM call_input WHERE call_id = ?")
        let deleteClaim = try db.cachedStatement(sql: "DELETE FROM claim WHERE call_id = ?")
        let insertInput = try db.cachedStatement(
          sql: "INSERT INTO call_input (call_id, name, cid, hid) VALUES (?, ?, ?, ?)")
        for (call, values) in calls {
          // A garbage collection that ran between writing a blob and taking the
          // lock may have deleted it (it held an unused value of the same cid):
          // write it again, now that no collection can run.
          for value in values where value.bytes.count > configuration.inlineThreshold && !blobs.exists(value.cid) {
            files[value.cid]?.stamp = try blobs.write(value)?.text
          }
          for value in values {
            let inline = value.bytes.count > configuration.inlineThreshold ? nil : Data(value.bytes)
            try insertValue.execute(arguments: [
              value.cid.digest.data, value.bytes.count, inline, now, files[value.cid]?.checksum,
              files[value.cid]?.stamp,
            ])
          }
          let id = call.id.digest.data
          try insertCall.execute(arguments: [
            id, call.op.name, call.opVersion.hex, call.semanticVersion.hex,
            call.trial, call.outputCID.digest.data, call.outputHID.digest.data, call.outputSize,
            call.startedAt.timeIntervalSince1970, call.duration, call.host, call.pid,
            call.keyFields.map { Data($0) },
          ])
          try deleteInputs.execute(arguments: [id])
          // Waiters see either the claim or the stored call, never neither.
          try deleteClaim.execute(arguments: [id])
          for input in call.inputs {
            try insertInput.execute(arguments: [id, input.name, input.cid.digest.data, input.hid.digest.data])
          }
        }
      }
    }
  }

  public func summary() throws -> StoreSummary {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        let calls = try Int.fetchOne(db, sql: "SELECT count(*) FROM call") ?? 0
        let row = try Row.fetchOne(db, sql: "SELECT count(*), coalesce(sum(size), 0) FROM value")
        return StoreSummary(calls: calls, values: row?[0] ?? 0, bytes: row?[1] ?? 0)
      }
    }
  }

  /// Drops the row of a value whose blob failed its integrity check (and was
  /// moved to quarantine).
  func forgetValue(_ cid: ContentID) throws {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        try db.execute(sql: "DELETE FROM value WHERE cid = ?", arguments: [cid.digest.data])
      }
    }
  }

  static func digest(_ data: Data?) throws -> Digest {
    guard let data, let digest = Digest(bytes: data) else {
      throw RecallError.storeUnavailable(path: "", detail: "a stored id is not 32 bytes")
    }
    return digest
  }

  /// The digest in a row's column, read without copying the column's bytes.
  static func digest(_ row: Row, _ index: Int) throws -> Digest {
    try row.withUnsafeData(atIndex: index) { try digest($0) }
  }
}

extension Digest {
  var data: Data { withUnsafeBytes { Data($0) } }
}
