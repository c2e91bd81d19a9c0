import Foundation
import PostgresNIO
import RecallCore

extension PostgresBackend {
  public func forget(_ calls: [CallID]) throws -> Int {
    try transaction { connection in
      var deleted = 0
      for id in calls {
        deleted += try connection.execute("DELETE FROM call WHERE id = $1", [SQLValue(id.digest)])
        try connection.execute("DELETE FROM call_input WHERE call_id = $1", [SQLValue(id.digest)])
      }
      return deleted
    }
  }

  public func collectGarbage(keepingFilesNewerThan date: Date) throws -> GarbageReport {
    // The lock waits for writers that are storing values (and makes new ones
    // wait), so a value a writer is about to name is never deleted from under
    // it; files go while it is held (a writer checks for its files once it
    // holds the lock too).
    try transaction { connection in
      try connection.run("LOCK TABLE value IN EXCLUSIVE MODE")
      // Leases that ran out: their holders died (live holders renew them).
      try connection.execute("DELETE FROM claim WHERE expires_at < $1", [SQLValue(Date())])
      let deleted = try connection.rows(
        """
        DELETE FROM value
        WHERE NOT EXISTS (SELECT 1 FROM call WHERE call.output_cid = value.cid)
          AND \(Self.neitherInputNorTaggedSQL)
          AND NOT EXISTS (
            SELECT 1 FROM value_part WHERE value_part.part = value.cid
              AND (EXISTS (SELECT 1 FROM call WHERE call.output_cid = value_part.value)
                OR EXISTS (SELECT 1 FROM call_input WHERE call_input.cid = value_part.value)
                OR EXISTS (
                  SELECT 1 FROM tag WHERE tag.cid = value_part.value
                    AND tag.name NOT LIKE '\(StoreTag.registrationPrefix)%')
                OR EXISTS (
                  SELECT 1 FROM tag JOIN call AS tagged ON tagged.id = tag.call_id
                  WHERE tagged.output_cid = value_part.value)))
        RETURNING size, cid, bytes IS NULL
        """)
      try connection.execute(
        "DELETE FROM value_part WHERE NOT EXISTS (SELECT 1 FROM value WHERE value.cid = value_part.value)"
      )
      var report = GarbageReport(
        values: deleted.count, bytes: try deleted.reduce(0) { $0 + (try $1.int(0)) }, orphanFiles: 0
      )
      // Records of evictions that no longer say anything: the value is
      // stored again, or no call names it.
      try connection.execute(
        """
        DELETE FROM evicted_value
        WHERE EXISTS (SELECT 1 FROM value WHERE value.cid = evicted_value.cid)
          OR NOT EXISTS (SELECT 1 FROM call WHERE call.output_cid = evicted_value.cid)
        """)
      report.environments = try Self.collectEnvironments(before: date, connection)
      guard let blobs else { return report }
      for row in deleted where try row.bool(2) { try blobs.remove(ContentID(try row.digest(1))) }
      // Files no row names (a writer died before committing), unless recent.
      for cid in blobs.files(modifiedBefore: Int(date.timeIntervalSince1970))
      where try connection.rows(
        "SELECT 1 FROM value WHERE cid = $1 AND bytes IS NULL", [SQLValue(cid.digest)]
      ).isEmpty {
        try blobs.remove(cid)
        report.orphanFiles += 1
      }
      return report
    }
  }

  public func setTag(_ tag: StoreTag) throws {
    let (call, cid): (SQLValue, SQLValue) =
      switch tag.target {
      case .call(let id): (SQLValue(id.digest), .null)
      case .value(let cid): (.null, SQLValue(cid.digest))
      }
    try transaction { connection in
      // Waits for an eviction batch (which holds the value table's
      // exclusive lock) and makes the next wait for this tag, so a tagged
      // value is never evicted.
      try connection.run("LOCK TABLE value IN ROW EXCLUSIVE MODE")
      try connection.execute(
        """
        INSERT INTO tag (name, call_id, cid, created_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (name) DO UPDATE SET call_id = EXCLUDED.call_id, cid = EXCLUDED.cid,
          created_at = EXCLUDED.created_at
        """, [.text(tag.name), call, cid, SQLValue(tag.createdAt)])
    }
  }

  public func addTag(_ tag: StoreTag) throws -> StoreTag.Target? {
    let (call, cid): (SQLValue, SQLValue) =
      switch tag.target {
      case .call(let id): (SQLValue(id.digest), .null)
      case .value(let cid): (.null, SQLValue(cid.digest))
      }
    return try transaction { connection in
      try connection.run("LOCK TABLE value IN ROW EXCLUSIVE MODE")
      // Of two processes adding the same name, the second waits for the
      // first's row and finds it.
      let inserted = try connection.execute(
        """
        INSERT INTO tag (name, call_id, cid, created_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (name) DO NOTHING
        """, [.text(tag.name), call, cid, SQLValue(tag.createdAt)])
      guard inserted == 0 else { return nil }
      guard
        let row = try connection.rows(
          "SELECT call_id, cid FROM tag WHERE name = $1", [.text(tag.name)]
        ).first
      else { return nil }
      return try row.bytes(0) != nil
        ? .call(CallID(try row.digest(0))) : .value(ContentID(try row.digest(1)))
    }
  }

  public func tags() throws -> [StoreTag] {
    try withConnection { connection in
      try connection.rows(
        "SELECT name, call_id, cid, created_at FROM tag ORDER BY name COLLATE \"C\""
      ).map { row in
        let target: StoreTag.Target =
          if try row.bytes(1) != nil { .call(CallID(try row.digest(1))) } else {
            .value(ContentID(try row.digest(2)))
          }
        return StoreTag(name: try row.text(0), target: target, createdAt: try row.date(3))
      }
    }
  }

  public func removeTag(named name: String) throws -> Bool {
    try withConnection { connection in
      try connection.execute("DELETE FROM tag WHERE name = $1", [.text(name)]) > 0
    }
  }

  // MARK: Use

  public func addUsage(_ usage: [OpUsage]) throws {
    guard !usage.isEmpty else { return }
    try transaction { connection in
      for count in usage {
        try connection.execute(
          """
          INSERT INTO usage (op, period, memory_hits, store_hits, misses, time_saved, compute_time,
            not_stored, not_stored_bytes)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
          ON CONFLICT (period, op) DO UPDATE SET
            memory_hits = usage.memory_hits + EXCLUDED.memory_hits,
            store_hits = usage.store_hits + EXCLUDED.store_hits,
            misses = usage.misses + EXCLUDED.misses,
            time_saved = usage.time_saved + EXCLUDED.time_saved,
            compute_time = usage.compute_time + EXCLUDED.compute_time,
            not_stored = usage.not_stored + EXCLUDED.not_stored,
            not_stored_bytes = usage.not_stored_bytes + EXCLUDED.not_stored_bytes
          """,
          [
            .text(count.op.name), .int(Int(count.period.timeIntervalSince1970)),
            .int(count.memoryHits),
            .int(count.storeHits), .int(count.misses), .double(count.timeSaved.inSeconds),
            .double(count.computeTime.inSeconds), .int(count.notStored),
            .int(count.notStoredBytes),
          ])
      }
    }
  }

  public func usage(of op: OpID?, since: Date?) throws -> [OpUsage] {
    var conditions: [String] = []
    var values: [SQLValue] = []
    if let op {
      values.append(.text(op.name))
      conditions.append("op = $\(values.count)")
    }
    if let since {
      values.append(.double(since.timeIntervalSince1970 - 3600))
      conditions.append("period > $\(values.count)")
    }
    let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    return try withConnection { connection in
      try connection.rows(
        """
        SELECT op, period, memory_hits, store_hits, misses, time_saved, compute_time,
          not_stored, not_stored_bytes
        FROM usage \(filter) ORDER BY period, op COLLATE "C"
        """, values
      ).map { row in
        OpUsage(
          op: OpID(try row.text(0)), period: Date(timeIntervalSince1970: Double(try row.int(1))),
          memoryHits: try row.int(2), storeHits: try row.int(3), misses: try row.int(4),
          timeSaved: .seconds(try row.double(5)), computeTime: .seconds(try row.double(6)),
          notStored: try row.int(7), notStoredBytes: try row.int(8))
      }
    }
  }
}
