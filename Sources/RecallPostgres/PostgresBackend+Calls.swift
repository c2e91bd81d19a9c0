import Foundation
import PostgresNIO
import RecallCore

extension PostgresBackend {
  public func loadResult(_ id: CallID) throws -> StoredResult? {
    let found:
      (
        cid: ContentID, hid: HistoryID, duration: Double, inline: Data?, checksum: Int?,
        storedAt: Date
      )? =
        try withConnection { connection in
          guard
            let row = try connection.rows(
              """
              SELECT call.output_cid, call.output_hid, call.duration, value.bytes, value.checksum,
                call.started_at
              FROM call JOIN value ON value.cid = call.output_cid
              WHERE call.id = $1
              """, [SQLValue(id.digest)]
            ).first
          else { return nil }
          return (
            ContentID(try row.digest(0)), HistoryID(try row.digest(1)), try row.double(2),
            try row.bytes(3),
            try row.optionalInt(4), try row.date(5)
          )
        }
    guard let found else { return nil }
    switch try bytes(of: found.cid, inline: found.inline, checksum: found.checksum) {
    case .intact(let bytes), .checking(let bytes, _):
      return StoredResult(
        cid: found.cid, hid: found.hid, storage: bytes, duration: found.duration,
        storedAt: found.storedAt.timeIntervalSince1970 + found.duration)
    case .unreadable:
      try checks.replaceNewer(found.cid)
    case .missing:
      // A file a collection removed, or deleted by hand: a miss, stored again.
      return nil
    }
  }

  public func record(_ call: CallRecord, values: [EncodedValue]) throws {
    // Blob files are complete and durable before the rows naming them commit,
    // so a crash at any point leaves either no row or a row with its file.
    let files = values.filter(isBlob)
    for value in files { try blobs?.write(value) }
    var checksums: [ContentID: Int] = [:]
    for value in values {
      checksums[value.cid] = Int(Int64(bitPattern: Checksum.xxh64(value.bytes)))
    }
    beforeCommit.withLock { $0 }?()
    let now = Date()
    let id = SQLValue(call.id.digest)
    try transaction { connection in
      // In cid order, so that two writers storing the same values never wait
      // for each other in a cycle. A row a process without the blob directory
      // could not read gets its bytes when such a process stores the value.
      for value in values.sorted(by: { $0.cid < $1.cid }) {
        try connection.execute(
          """
          INSERT INTO value (cid, size, bytes, created_at, checksum) VALUES ($1, $2, $3, $4, $5)
          ON CONFLICT (cid) DO UPDATE SET bytes = EXCLUDED.bytes, checksum = EXCLUDED.checksum
          WHERE value.bytes IS NULL AND EXCLUDED.bytes IS NOT NULL
          """,
          [
            SQLValue(value.cid.digest), .int(value.bytes.count),
            isBlob(value) ? .null : .bytes(Data(value.bytes)),
            SQLValue(now), checksums[value.cid].map { .int($0) } ?? .null,
          ])
      }
      for value in values where !value.parts.isEmpty {
        for part in value.parts {
          try connection.execute(
            """
            INSERT INTO value_part (value, label, part) VALUES ($1, $2, $3)
            ON CONFLICT (value, label) DO NOTHING
            """,
            [SQLValue(value.cid.digest), .text(part.label), SQLValue(part.value.cid.digest)])
        }
      }
      // The inserts hold the value table's lock, which a garbage collection
      // takes too: one that ran between writing a file and here may have
      // deleted it (it held an unused value of the same cid). Write it again,
      // now that none can run until this commits.
      for value in files where blobs?.exists(value.cid) == false { try blobs?.write(value) }
      try connection.execute(
        """
        INSERT INTO call (id, op, op_version, semantic_version, trial, output_cid, output_hid,
          output_size, started_at, duration, host, pid, key_fields, miss, environment)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        ON CONFLICT (id) DO UPDATE SET op = EXCLUDED.op, op_version = EXCLUDED.op_version,
          semantic_version = EXCLUDED.semantic_version, trial = EXCLUDED.trial,
          output_cid = EXCLUDED.output_cid, output_hid = EXCLUDED.output_hid,
          output_size = EXCLUDED.output_size, started_at = EXCLUDED.started_at,
          duration = EXCLUDED.duration, host = EXCLUDED.host, pid = EXCLUDED.pid,
          key_fields = EXCLUDED.key_fields, miss = EXCLUDED.miss,
          environment = EXCLUDED.environment
        """,
        [
          id, .text(call.op.name), .text(call.opVersion.hex), .text(call.semanticVersion.hex),
          .int(call.trial),
          SQLValue(call.outputCID.digest), SQLValue(call.outputHID.digest), .int(call.outputSize),
          SQLValue(call.startedAt), .double(call.duration), .text(call.host), .int(call.pid),
          call.keyFields.map { .bytes(Data($0)) } ?? .null,
          call.missCause.map { .int($0.storedCode) } ?? .null,
          call.environment.map { .int(Int($0.storedValue)) } ?? .null,
        ])
      try connection.execute("DELETE FROM call_input WHERE call_id = $1", [id])
      for input in call.inputs.sorted(by: { $0.name < $1.name }) {
        try connection.execute(
          "INSERT INTO call_input (call_id, name, cid, hid) VALUES ($1, $2, $3, $4)",
          [id, .text(input.name), SQLValue(input.cid.digest), SQLValue(input.hid.digest)])
      }
      // Waiters see either the claim or the stored call, never neither.
      try connection.execute("DELETE FROM claim WHERE call_id = $1", [id])
    }
  }

  public func summary() throws -> StoreSummary {
    try withConnection { connection in
      let calls = try connection.rows("SELECT count(*)::bigint FROM call").first?.int(0) ?? 0
      let row = try connection.rows(
        "SELECT count(*)::bigint, coalesce(sum(size), 0)::bigint FROM value"
      ).first
      return StoreSummary(calls: calls, values: try row?.int(0) ?? 0, bytes: try row?.int(1) ?? 0)
    }
  }

  // MARK: Claims

  public var isShared: Bool { true }

  public func claim(
    _ id: CallID, of op: OpID, by claimant: Claimant, at now: Date, until expiry: Date,
    replacing dead: Claimant?
  ) throws -> ClaimOutcome {
    let call = SQLValue(id.digest)
    return try withConnection { connection in
      func isStored() throws -> Bool {
        try connection.rows(
          "SELECT EXISTS (SELECT 1 FROM call JOIN value ON value.cid = call.output_cid WHERE call.id = $1)",
          [call]
        ).first?.bool(0) ?? false
      }
      func current() throws -> Claim? {
        try connection.rows(
          "SELECT op, token, host, pid, claimed_at, expires_at FROM claim WHERE call_id = $1",
          [call]
        ).first.map { try Self.decodeClaim(id, $0) }
      }
      // Waiting processes look every few milliseconds: answer them with reads
      // while the claim is held, and write only to claim. A claim released
      // between two statements is looked at again.
      while true {
        if try isStored() { return .stored }
        if let claim = try current(), claim.isLive(against: claimant, at: now, replacing: dead) {
          return .held(claim)
        }
        // One statement: the row lock makes taking a free or expired claim atomic.
        let acquired = try !connection.rows(
          """
          INSERT INTO claim (call_id, op, token, host, pid, claimed_at, expires_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7)
          ON CONFLICT (call_id) DO UPDATE SET op = EXCLUDED.op, token = EXCLUDED.token,
            host = EXCLUDED.host, pid = EXCLUDED.pid, claimed_at = EXCLUDED.claimed_at,
            expires_at = EXCLUDED.expires_at
          WHERE claim.token = EXCLUDED.token OR claim.expires_at <= $8 OR claim.token = $9
          RETURNING 1
          """,
          [
            call, .text(op.name), .text(claimant.token), .text(claimant.host), .int(claimant.pid),
            SQLValue(now), SQLValue(expiry), SQLValue(now), .text(dead?.token ?? ""),
          ]
        ).isEmpty
        if acquired {
          // The holder may have stored the call (and dropped its claim) just
          // before: then there is nothing to compute.
          guard try isStored() else { return .acquired }
          try connection.execute(
            "DELETE FROM claim WHERE call_id = $1 AND token = $2", [call, .text(claimant.token)])
          return .stored
        }
        if let claim = try current(), claim.isLive(against: claimant, at: now, replacing: dead) {
          return .held(claim)
        }
      }
    }
  }

  static func decodeClaim(_ id: CallID, _ row: PostgresRandomAccessRow) throws -> Claim {
    Claim(
      call: id, op: OpID(try row.text(0)),
      claimant: Claimant(token: try row.text(1), host: try row.text(2), pid: try row.int(3)),
      claimedAt: try row.date(4), expiresAt: try row.date(5))
  }

  public func renewClaims(by claimant: Claimant, until expiry: Date) throws -> Int {
    try withConnection { connection in
      try connection.execute(
        "UPDATE claim SET expires_at = $1 WHERE token = $2",
        [SQLValue(expiry), .text(claimant.token)])
    }
  }

  public func releaseClaim(_ id: CallID, by claimant: Claimant) throws {
    try withConnection { connection in
      try connection.execute(
        "DELETE FROM claim WHERE call_id = $1 AND token = $2",
        [SQLValue(id.digest), .text(claimant.token)])
    }
  }

  public func claims(at now: Date) throws -> [Claim] {
    try withConnection { connection in
      try connection.rows(
        """
        SELECT op, token, host, pid, claimed_at, expires_at, call_id FROM claim
        WHERE expires_at > $1 ORDER BY claimed_at
        """, [SQLValue(now)]
      ).map { try Self.decodeClaim(CallID($0.digest(6)), $0) }
    }
  }
}
