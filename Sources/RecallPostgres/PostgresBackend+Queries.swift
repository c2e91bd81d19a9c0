import Foundation
import PostgresNIO
import RecallCore

extension PostgresBackend {
  public func ops() throws -> [OpSummary] {
    try withConnection { connection in
      var summaries: [String: OpSummary] = [:]
      for row in try connection.rows(
        """
        SELECT op, count(*)::bigint, coalesce(sum(output_size), 0)::bigint, max(started_at),
          coalesce(sum(duration), 0)::double precision
        FROM call GROUP BY op
        """)
      {
        let name = try row.text(0)
        summaries[name] = OpSummary(
          op: OpID(name), calls: try row.int(1), versions: 0, outputBytes: try row.int(2),
          lastCall: try row[3].decode(Double?.self).map { Date(timeIntervalSince1970: $0) },
          computeTime: .seconds(try row.double(4)))
      }
      for row in try connection.rows("SELECT op, count(*)::bigint FROM op_version GROUP BY op") {
        let name = try row.text(0)
        summaries[
          name,
          default: OpSummary(op: OpID(name), calls: 0, versions: 0, outputBytes: 0, lastCall: nil)
        ]
        .versions = try row.int(1)
      }
      return summaries.values.sorted { $0.op < $1.op }
    }
  }

  public func calls(_ query: CallQuery) throws -> [CallRecord] {
    var conditions: [String] = []
    var values: [SQLValue] = []
    func parameter(_ value: SQLValue) -> String {
      values.append(value)
      return "$\(values.count)"
    }
    if let op = query.op { conditions.append("call.op = \(parameter(.text(op.name)))") }
    if let version = query.opVersion {
      conditions.append("call.op_version = \(parameter(.text(version.hex)))")
    }
    if let version = query.semanticVersion {
      conditions.append("call.semantic_version = \(parameter(.text(version.hex)))")
    }
    if let version = query.semanticVersionOtherThan {
      conditions.append("call.semantic_version <> \(parameter(.text(version.hex)))")
    }
    if let cid = query.outputCID {
      conditions.append("call.output_cid = \(parameter(SQLValue(cid.digest)))")
    }
    if let hid = query.outputHID {
      conditions.append("call.output_hid = \(parameter(SQLValue(hid.digest)))")
    }
    if let hid = query.inputHID {
      conditions.append(
        "call.id IN (SELECT call_id FROM call_input WHERE hid = \(parameter(SQLValue(hid.digest))))"
      )
    }
    if !query.inputHIDs.isEmpty {
      let list = query.inputHIDs.map { parameter(SQLValue($0.digest)) }.joined(separator: ", ")
      conditions.append("call.id IN (SELECT call_id FROM call_input WHERE hid IN (\(list)))")
    }
    if let cid = query.inputCID {
      conditions.append(
        "call.id IN (SELECT call_id FROM call_input WHERE cid = \(parameter(SQLValue(cid.digest))))"
      )
    }
    if let date = query.startedBefore {
      conditions.append("call.started_at < \(parameter(SQLValue(date)))")
    }
    if let range = query.idRange {
      conditions.append(
        "call.id BETWEEN \(parameter(SQLValue(range.lower))) AND \(parameter(SQLValue(range.upper)))"
      )
    }
    for (name, cid) in query.inputs.sorted(by: { $0.key < $1.key }) {
      conditions.append(
        "call.id IN (SELECT call_id FROM call_input WHERE cid = \(parameter(SQLValue(cid.digest))) "
          + "AND name = \(parameter(.text(name))))")
    }
    let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    let limit = query.limit.map { " LIMIT \(max(0, $0))" } ?? ""
    return try withConnection { connection in
      let rows = try connection.rows(
        """
        SELECT id, op, op_version, semantic_version, trial, output_cid, output_hid, output_size,
          started_at, duration, host, pid, key_fields, (
            SELECT evicted_at FROM evicted_value
            WHERE evicted_value.cid = call.output_cid
              AND NOT EXISTS (SELECT 1 FROM value WHERE value.cid = call.output_cid)), miss::bigint,
          environment
        FROM call \(whereClause)
        ORDER BY started_at DESC, id DESC\(limit)
        """, values)
      // The calls' inputs, in one statement: for a few calls by id (a
      // statement takes at most 65,535 parameters), else those of every
      // matching call.
      var inputs: [Digest: [CallInput]] = [:]
      let found: [PostgresRandomAccessRow]
      if rows.isEmpty {
        found = []
      } else if let limit = query.limit, limit <= 1_000 {
        let ids = try rows.map { SQLValue(try $0.digest(0)) }
        let list = (1...ids.count).map { "$\($0)" }.joined(separator: ", ")
        found = try connection.rows(
          "SELECT call_id, name, cid, hid FROM call_input WHERE call_id IN (\(list)) ORDER BY call_id, name",
          ids)
      } else {
        found = try connection.rows(
          """
          SELECT call_input.call_id, call_input.name, call_input.cid, call_input.hid
          FROM call_input JOIN call ON call.id = call_input.call_id \(whereClause)
          ORDER BY call_input.call_id, call_input.name
          """, values)
      }
      for input in found {
        inputs[try input.digest(0), default: []].append(
          CallInput(
            name: try input.text(1), cid: ContentID(try input.digest(2)),
            hid: HistoryID(try input.digest(3))))
      }
      return try rows.map { row in
        let id = try row.digest(0)
        return CallRecord(
          id: CallID(id), op: OpID(try row.text(1)),
          opVersion: CodeFingerprint(hex: try row.text(2)),
          semanticVersion: CodeFingerprint(hex: try row.text(3)), trial: try row.int(4),
          inputs: inputs[id] ?? [],
          outputCID: ContentID(try row.digest(5)), outputHID: HistoryID(try row.digest(6)),
          outputSize: try row.int(7), startedAt: try row.date(8), duration: try row.double(9),
          host: try row.text(10), pid: try row.int(11),
          keyFields: try row.bytes(12).map { [UInt8]($0) },
          evictedAt: try row[13].decode(Double?.self).map { Date(timeIntervalSince1970: $0) },
          missCause: try row.optionalInt(14).flatMap { MissCause(storedCode: $0) },
          environment: try row.optionalInt(15).map {
            EnvironmentID(storedValue: Int64($0))
          })
      }
    }
  }

  public func parts(of cid: ContentID) throws -> [ValuePart] {
    try withConnection { connection in
      try connection.rows(
        "SELECT label, part FROM value_part WHERE value = $1 ORDER BY label COLLATE \"C\"",
        [SQLValue(cid.digest)]
      ).map { ValuePart(label: try $0.text(0), cid: ContentID(try $0.digest(1))) }
    }
  }

  public func wholes(containing cid: ContentID) throws -> [ContentID] {
    try withConnection { connection in
      try connection.rows(
        "SELECT DISTINCT value FROM value_part WHERE part = $1 ORDER BY value",
        [SQLValue(cid.digest)]
      ).map { ContentID(try $0.digest(0)) }
    }
  }

  public func value(_ cid: ContentID) throws -> [UInt8]? {
    guard
      let row = try withConnection({ connection in
        try connection.rows(
          "SELECT bytes, checksum FROM value WHERE cid = $1", [SQLValue(cid.digest)]
        ).first
      })
    else { return nil }
    switch try bytes(of: cid, inline: try row.bytes(0), checksum: try row.optionalInt(1)) {
    case .intact(let bytes), .unreadable(let bytes), .checking(let bytes, _): return bytes.array
    case .missing: return nil
    }
  }

  /// The stored bytes of several values, a thousand per query (a list's
  /// elements), each checked as ``value(_:)`` checks it.
  public func values(_ cids: [ContentID]) throws -> [ContentID: [UInt8]] {
    var values: [ContentID: [UInt8]] = [:]
    for start in stride(from: 0, to: cids.count, by: Self.parametersPerStatement) {
      let chunk = cids[start..<min(cids.count, start + Self.parametersPerStatement)]
      let list = (1...chunk.count).map { "$\($0)" }.joined(separator: ", ")
      let rows = try withConnection { connection in
        try connection.rows(
          "SELECT cid, bytes, checksum FROM value WHERE cid IN (\(list))",
          chunk.map { SQLValue($0.digest) })
      }
      for row in rows {
        let cid = ContentID(try row.digest(0))
        switch try bytes(of: cid, inline: try row.bytes(1), checksum: try row.optionalInt(2)) {
        case .intact(let bytes), .unreadable(let bytes), .checking(let bytes, _):
          values[cid] = bytes.array
        case .missing: break
        }
      }
    }
    return values
  }
}
