import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  /// Sets the counts `v15.counts` keeps to what the tables hold.
  static let recountSQL = """
    UPDATE filing SET (calls, output_bytes, compute_time) = (
      SELECT count(*), coalesce(sum(output_size), 0), total(duration)
      FROM call WHERE call.filing = filing.id);
    UPDATE store_count SET value = (
      SELECT CASE store_count.name WHEN 'values' THEN count(*) ELSE coalesce(sum(size), 0) END
      FROM value WHERE size IS NOT NULL)
    WHERE name IN ('values', 'value_bytes');
    """

  public func forget(_ calls: [CallID]) throws -> Int {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        var rows = RowFinder(db)
        var deleted = 0
        for id in calls {
          guard let row = try rows.call(id) else { continue }
          try rows.deleteCall(row)
          deleted += 1
        }
        return deleted
      }
    }
  }

  public func collectGarbage(keepingFilesNewerThan date: Date) throws -> GarbageReport {
    // Everything happens under the write lock: a writer that wrote a blob file
    // before taking the lock checks for it again once it has the lock
    // (`record`), so it never commits a row whose file this deleted.
    try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        // Leases that ran out: their holders died (live holders renew them).
        try db.execute(
          sql: "DELETE FROM claim WHERE expires_at < ?", arguments: [Date().timeIntervalSince1970])
        // Values that no call names and no tag keeps (through its value, or
        // its call's output). Rows without bytes are not counted.
        let unused = try Row.fetchAll(
          db,
          sql: """
            WITH tagged(value) AS (\(Self.taggedValuesSQL))
            SELECT id, cid, size, size IS NOT NULL AND bytes IS NULL FROM value
            WHERE NOT EXISTS (SELECT 1 FROM call WHERE call.output = value.id)
              AND NOT EXISTS (SELECT 1 FROM call_input WHERE call_input.value = value.id)
              AND value.id NOT IN tagged
              AND NOT EXISTS (
                SELECT 1 FROM value_part WHERE value_part.part = value.id
                  AND (EXISTS (SELECT 1 FROM call WHERE call.output = value_part.value)
                    OR EXISTS (SELECT 1 FROM call_input WHERE call_input.value = value_part.value)
                    OR value_part.value IN tagged))
            """)
        var report = GarbageReport(values: 0, bytes: 0, orphanFiles: 0)
        // The counts `v15.counts` keeps, counted again from the tables: a
        // process of an older Recall that kept writing after the upgrade
        // added rows without counting them.
        try db.execute(sql: Self.recountSQL)
        let delete = try db.cachedStatement(sql: "DELETE FROM value WHERE id = ?")
        let deleteParts = try db.cachedStatement(sql: "DELETE FROM value_part WHERE value = ?")
        var files: [ContentID] = []
        for row in unused {
          try delete.execute(arguments: [row[0] as Int64])
          try deleteParts.execute(arguments: [row[0] as Int64])
          guard let size = row[2] as Int? else { continue }
          report.values += 1
          report.bytes += size
          if row[3] as Bool { files.append(ContentID(try Self.digest(row, 1))) }
        }
        // Files of values that are gone or lost, and files no value row ever
        // named (a writer died before committing), unless recent.
        let named = try db.cachedStatement(
          sql: "SELECT 1 FROM value WHERE \(Self.matches("cid")) AND size IS NOT NULL")
        for cid in blobs.files(modifiedBefore: Int(date.timeIntervalSince1970))
        where try Bool.fetchOne(named, arguments: [cid.digest.data, cid.digest.data]) == nil
          && !files.contains(cid)
        {
          try blobs.remove(cid)
          report.orphanFiles += 1
        }
        for cid in files { try blobs.remove(cid) }
        report.environments = try Self.collectEnvironments(before: date, db)
        return report
      }
    }
  }

  public func setTag(_ tag: StoreTag) throws {
    _ = try insertTag(tag, replacing: true)
  }

  public func addTag(_ tag: StoreTag) throws -> StoreTag.Target? {
    try insertTag(tag, replacing: false)
  }

  /// Inserts a tag, replacing one of the same name or, if not `replacing`,
  /// leaving it and returning what it names; in one write transaction.
  private func insertTag(_ tag: StoreTag, replacing: Bool) throws -> StoreTag.Target? {
    let (call, cid): (Data?, Data?) =
      switch tag.target {
      case .call(let id): (id.digest.data, nil)
      case .value(let cid): (nil, cid.digest.data)
      }
    return try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        if !replacing,
          let row = try Row.fetchOne(
            db, sql: "SELECT call_id, cid FROM tag WHERE name = ?", arguments: [tag.name])
        {
          let existingCall: Data? = row[0]
          if let existingCall { return .call(CallID(try Self.digest(existingCall))) }
          return .value(ContentID(try Self.digest(row[1])))
        }
        try db.execute(
          sql: "INSERT OR REPLACE INTO tag (name, call_id, cid, created_at) VALUES (?, ?, ?, ?)",
          arguments: [tag.name, call, cid, tag.createdAt.timeIntervalSince1970])
        return nil
      }
    }
  }

  public func tags() throws -> [StoreTag] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try Row.fetchAll(db, sql: "SELECT name, call_id, cid, created_at FROM tag ORDER BY name")
          .map { row in
            let call: Data? = row[1]
            let target: StoreTag.Target =
              if let call { .call(CallID(try Self.digest(call))) } else {
                .value(ContentID(try Self.digest(row[2])))
              }
            return StoreTag(
              name: row[0], target: target, createdAt: Date(timeIntervalSince1970: row[3]))
          }
      }
    }
  }

  public func removeTag(named name: String) throws -> Bool {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        try db.execute(sql: "DELETE FROM tag WHERE name = ?", arguments: [name])
        return db.changesCount > 0
      }
    }
  }

  // MARK: Use

  public func addUsage(_ usage: [OpUsage]) throws {
    guard !usage.isEmpty else { return }
    // On a lookup connection: a process that only hits saves its counts
    // without opening GRDB's pool (Design §22).
    try SQLiteBackend.mapErrors(path: path) {
      try lookups.withConnection { connection in
        try connection.writeTransaction {
          for count in usage {
            try FastStatement.run(
              connection, Self.addUsageSQL,
              [
                .text(count.op.name), .int(Int(count.period.timeIntervalSince1970)),
                .int(count.memoryHits),
                .int(count.storeHits), .int(count.misses), .double(count.timeSaved.inSeconds),
                .double(count.computeTime.inSeconds), .int(count.notStored),
                .int(count.notStoredBytes),
              ]
            ) { try $0.execute() }
          }
        }
      }
    }
  }

  static let addUsageSQL = """
    INSERT INTO usage (op, period, memory_hits, store_hits, misses, time_saved, compute_time,
      not_stored, not_stored_bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (period, op) DO UPDATE SET
      memory_hits = memory_hits + excluded.memory_hits,
      store_hits = store_hits + excluded.store_hits,
      misses = misses + excluded.misses,
      time_saved = time_saved + excluded.time_saved,
      compute_time = compute_time + excluded.compute_time,
      not_stored = not_stored + excluded.not_stored,
      not_stored_bytes = not_stored_bytes + excluded.not_stored_bytes
    """

  public func usage(of op: OpID?, since: Date?) throws -> [OpUsage] {
    var conditions: [String] = []
    var arguments: StatementArguments = []
    if let op {
      conditions.append("op = ?")
      _ = arguments.append(contentsOf: [op.name])
    }
    if let since {
      conditions.append("period > ?")
      _ = arguments.append(contentsOf: [since.timeIntervalSince1970 - 3600])
    }
    let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    return try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try Row.fetchAll(
          db,
          sql: """
            SELECT op, period, memory_hits, store_hits, misses, time_saved, compute_time,
              not_stored, not_stored_bytes
            FROM usage \(filter) ORDER BY period, op
            """,
          arguments: arguments
        ).map { row in
          OpUsage(
            op: OpID(row[0] as String),
            period: Date(timeIntervalSince1970: Double(row[1] as Int64)),
            memoryHits: row[2], storeHits: row[3], misses: row[4],
            timeSaved: .seconds(row[5] as Double),
            computeTime: .seconds(row[6] as Double), notStored: row[7], notStoredBytes: row[8])
        }
      }
    }
  }
}
