import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  /// The rows of the values a tag keeps: named by the tag (not a named
  /// value's registration), or the output of a tagged call.
  static let taggedValuesSQL = """
    SELECT value.id FROM tag JOIN value ON \(matches("value.cid", "tag.cid"))
      WHERE tag.name NOT LIKE '\(StoreTag.registrationPrefix)%'
    UNION SELECT call.output FROM tag JOIN call ON \(matches("call.call_id", "tag.call_id"))
    """

  public func evictionCandidates() throws -> [EvictionCandidate] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try FastStatement.run(
          db,
          """
          SELECT value.cid, value.size, total(call.duration), max(call.started_at + call.duration)
          FROM call JOIN value ON value.id = call.output
          WHERE value.size IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM call_input WHERE call_input.value = value.id)
            AND value.id NOT IN (\(Self.taggedValuesSQL))
            -- A manifest frees nothing (its parts stay), and a part would be
            -- missing from its manifest's result.
            AND NOT EXISTS (SELECT 1 FROM value_part WHERE value_part.value = value.id)
            AND NOT EXISTS (SELECT 1 FROM value_part WHERE value_part.part = value.id)
          GROUP BY call.output
          """, []
        ) { row in
          var candidates: [EvictionCandidate] = []
          while try row.step() {
            candidates.append(
              EvictionCandidate(
                cid: ContentID(try row.digest(0)), bytes: Int(row.int64(1)),
                computeTime: row.double(2),
                lastComputed: Date(timeIntervalSince1970: row.double(3))))
          }
          return candidates
        }
      }
    }
  }

  public func evict(_ values: [ContentID], at date: Date) throws -> [EvictedValue] {
    let (evicted, files) = try evictRows(values, at: date)
    try removeEvictedFiles(files)
    return evicted
  }

  /// The first step of an eviction: the values' rows lose their bytes, in
  /// one transaction. Returns the values evicted, and those whose bytes are
  /// blob files (still on disk).
  func evictRows(_ values: [ContentID], at date: Date) throws -> (
    evicted: [EvictedValue], files: [ContentID]
  ) {
    guard !values.isEmpty else { return ([], []) }
    return try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        // Checked again under the write lock: since listed, a value may have
        // become an input, been tagged, or lost its bytes.
        let tagged = Set(try Int64.fetchAll(db, sql: Self.taggedValuesSQL))
        var evicted: [EvictedValue] = []
        var files: [ContentID] = []
        for cid in values {
          guard
            let found = try FastStatement.run(
              db,
              """
              SELECT id, size, bytes IS NULL,
                EXISTS (SELECT 1 FROM call WHERE call.output = value.id),
                EXISTS (SELECT 1 FROM call_input WHERE call_input.value = value.id),
                EXISTS (
                  SELECT 1 FROM value_part
                  WHERE value_part.part = value.id OR value_part.value = value.id)
              FROM value WHERE \(Self.matches("cid")) AND size IS NOT NULL
              """, [.digest(cid.digest), .digest(cid.digest)],
              { row in
                try row.step()
                  ? (
                    row: row.int64(0), size: Int(row.int64(1)), isFile: row.int64(2) != 0,
                    isOutput: row.int64(3) != 0, isInput: row.int64(4) != 0,
                    isPart: row.int64(5) != 0
                  ) : nil
              }),
            found.isOutput, !found.isInput, !found.isPart, !tagged.contains(found.row)
          else { continue }
          try FastStatement.run(
            db,
            """
            UPDATE value SET size = NULL, bytes = NULL, checksum = NULL, stamp = NULL,
              evicted_at = ?
            WHERE id = ?
            """, [.double(date.timeIntervalSince1970), .int(found.row)]
          ) { try $0.execute() }
          evicted.append(EvictedValue(cid: cid, bytes: found.size))
          if found.isFile { files.append(cid) }
        }
        return (evicted, files)
      }
    }
  }

  /// The second step: deletes the blob files of evicted values that no
  /// writer stored again since.
  func removeEvictedFiles(_ files: [ContentID]) throws {
    guard !files.isEmpty else { return }
    // The files go once no committed row names them, under the write lock: a
    // writer that stored one of these values again meanwhile wrote its file
    // before taking the lock, and a writer waiting for it checks for its file
    // once it holds the lock (`insert`), so no row ever names a deleted file.
    // A crash before this leaves files that `collectGarbage` removes.
    try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        for cid in files
        where try !FastStatement.run(
          db, "SELECT 1 FROM value WHERE \(Self.matches("cid")) AND size IS NOT NULL",
          [.digest(cid.digest), .digest(cid.digest)], { try $0.step() })
        {
          try blobs.remove(cid)
        }
      }
    }
  }

  public func evictions() throws -> [OpEvictions] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        // From the evicted values (their partial index), to their calls.
        try Row.fetchAll(
          db,
          sql: """
            SELECT op_name.name, count(*), total(call.output_size)
            FROM value INDEXED BY value_on_evicted
            JOIN call ON call.output = value.id
            JOIN op_name ON op_name.id = call.op
            WHERE value.evicted_at IS NOT NULL
            GROUP BY call.op ORDER BY op_name.name
            """
        ).map { row in
          OpEvictions(
            op: OpID(try row.decode(String.self, atIndex: 0)), calls: try row.decode(atIndex: 1),
            bytes: Int(try row.decode(Double.self, atIndex: 2)))
        }
      }
    }
  }
}
