import Foundation
import PostgresNIO
import RecallCore

extension PostgresBackend {
  /// The condition that no call takes a value (the row `value`) as an
  /// input and no tag names it (through the value, or a tagged call's
  /// output): what garbage collection and eviction both require.
  static let neitherInputNorTaggedSQL = """
    NOT EXISTS (SELECT 1 FROM call_input WHERE call_input.cid = value.cid)
    AND NOT EXISTS (
      SELECT 1 FROM tag
      WHERE tag.cid = value.cid AND tag.name NOT LIKE '\(StoreTag.registrationPrefix)%')
    AND NOT EXISTS (
      SELECT 1 FROM tag JOIN call AS tagged ON tagged.id = tag.call_id
      WHERE tagged.output_cid = value.cid)
    """

  /// The condition that a value (the row `value`) may be evicted: a call
  /// returned it, it is neither an input nor tagged, it is not stored by
  /// parts (its manifest frees nothing: its parts stay), and it is no part
  /// of one (a result stored by parts would be missing it).
  static let evictableSQL = """
    EXISTS (SELECT 1 FROM call WHERE call.output_cid = value.cid)
    AND \(neitherInputNorTaggedSQL)
    AND NOT EXISTS (SELECT 1 FROM value_part WHERE value_part.value = value.cid)
    AND NOT EXISTS (SELECT 1 FROM value_part WHERE value_part.part = value.cid)
    """

  public func evictionCandidates() throws -> [EvictionCandidate] {
    try withConnection { connection in
      try connection.rows(
        """
        SELECT value.cid, value.size, sum(call.duration)::double precision,
          max(call.started_at + call.duration)::double precision
        FROM value JOIN call ON call.output_cid = value.cid
        WHERE \(Self.evictableSQL)
        GROUP BY value.cid, value.size
        """
      ).map { row in
        EvictionCandidate(
          cid: ContentID(try row.digest(0)), bytes: try row.int(1), computeTime: try row.double(2),
          lastComputed: try row.date(3))
      }
    }
  }

  public func evict(_ values: [ContentID], at date: Date) throws -> [EvictedValue] {
    guard !values.isEmpty else { return [] }
    // The lock waits for writers storing values (and makes new ones wait),
    // so the checks see every call committed before, and no call names a
    // value as its input while it is evicted.
    let (evicted, files) = try transaction { connection in
      try connection.run("LOCK TABLE value IN EXCLUSIVE MODE")
      var evicted: [EvictedValue] = []
      var files: [ContentID] = []
      for start in stride(from: 0, to: values.count, by: Self.parametersPerStatement) {
        let chunk = values[start..<min(values.count, start + Self.parametersPerStatement)]
        let list = (1...chunk.count).map { "$\($0)" }.joined(separator: ", ")
        let deleted = try connection.rows(
          """
          DELETE FROM value WHERE cid IN (\(list)) AND \(Self.evictableSQL)
          RETURNING cid, size, bytes IS NULL
          """, chunk.map { SQLValue($0.digest) })
        guard !deleted.isEmpty else { continue }
        var recorded: [SQLValue] = [SQLValue(date)]
        for row in deleted {
          let cid = ContentID(try row.digest(0))
          evicted.append(EvictedValue(cid: cid, bytes: try row.int(1)))
          if try row.bool(2) { files.append(cid) }
          recorded.append(SQLValue(cid.digest))
        }
        let rows = (2...recorded.count).map { "($\($0), $1)" }.joined(separator: ", ")
        try connection.execute(
          """
          INSERT INTO evicted_value (cid, evicted_at) VALUES \(rows)
          ON CONFLICT (cid) DO UPDATE SET evicted_at = EXCLUDED.evicted_at
          """, recorded)
      }
      return (evicted, files)
    }
    guard !files.isEmpty, let blobs else { return evicted }
    // The files go once no committed row names them, under the lock again: a
    // writer storing one of these values again checks for its file once it
    // holds the lock. A crash before this leaves files `collectGarbage`
    // removes.
    try transaction { connection in
      try connection.run("LOCK TABLE value IN EXCLUSIVE MODE")
      for cid in files
      where try connection.rows("SELECT 1 FROM value WHERE cid = $1", [SQLValue(cid.digest)])
        .isEmpty
      {
        try blobs.remove(cid)
      }
    }
    return evicted
  }

  /// The values one statement names at most.
  static let parametersPerStatement = 1_000

  public func evictions() throws -> [OpEvictions] {
    try withConnection { connection in
      try connection.rows(
        """
        SELECT call.op, count(*)::bigint, coalesce(sum(call.output_size), 0)::bigint
        FROM evicted_value JOIN call ON call.output_cid = evicted_value.cid
        WHERE NOT EXISTS (SELECT 1 FROM value WHERE value.cid = evicted_value.cid)
        GROUP BY call.op ORDER BY call.op COLLATE "C"
        """
      ).map { OpEvictions(op: OpID(try $0.text(0)), calls: try $0.int(1), bytes: try $0.int(2)) }
    }
  }
}
