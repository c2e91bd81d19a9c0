import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  public var isShared: Bool { !configuration.readOnly }

  public func claim(
    _ id: CallID, of op: OpID, by claimant: Claimant, at now: Date, until expiry: Date,
    replacing dead: Claimant?
  ) throws -> ClaimOutcome {
    // A call this backend is committing is stored, as far as claims go.
    if committer.result(of: id) != nil { return .stored }
    // On a lookup connection, as versions seen and usage counts: a process's
    // first miss does not open GRDB's pool on the calling thread (the
    // committer opens it, in the background, when it stores the call;
    // decision 0124).
    return try SQLiteBackend.mapErrors(path: path) {
      try lookups.withConnection { connection in
        // Waiting processes look every few milliseconds: answer them with a
        // read while the claim is held, and take the write lock only to claim.
        if let seen = try claimState(of: id, for: claimant, at: now, replacing: dead, connection) {
          return seen
        }
        // A claim need not survive a power loss (its holder would not
        // either): skip the fsync a durable commit costs.
        try FastStatement.run(connection, "PRAGMA synchronous = OFF", []) { try $0.execute() }
        defer {
          _ = try? FastStatement.run(connection, "PRAGMA synchronous = FULL", []) {
            try $0.execute()
          }
        }
        return try connection.writeTransaction {
          if let seen = try claimState(of: id, for: claimant, at: now, replacing: dead, connection)
          {
            return seen
          }
          try FastStatement.run(
            connection,
            """
            INSERT OR REPLACE INTO claim (call_id, op, token, host, pid, claimed_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
              .digest(id.digest), .text(op.name), .text(claimant.token), .text(claimant.host),
              .int(claimant.pid), .double(now.timeIntervalSince1970),
              .double(expiry.timeIntervalSince1970),
            ]
          ) { try $0.execute() }
          return ClaimOutcome.acquired
        }
      }
    }
  }

  /// Whether the call is stored or held by another claimant's live lease
  /// (`nil`: it can be claimed).
  private func claimState(
    of id: CallID, for claimant: Claimant, at now: Date, replacing dead: Claimant?,
    _ connection: LookupConnection
  ) throws -> ClaimOutcome? {
    let stored = try FastStatement.run(
      connection,
      """
      SELECT EXISTS (SELECT 1 FROM call JOIN value ON value.id = call.output
        WHERE \(Self.matches("call.call_id", "?1")) AND value.size IS NOT NULL)
      """, [.digest(id.digest)]
    ) { try $0.step() && $0.int64(0) != 0 }
    if stored { return .stored }
    let claim = try FastStatement.run(
      connection,
      "SELECT op, token, host, pid, claimed_at, expires_at FROM claim WHERE call_id = ?",
      [.digest(id.digest)]
    ) { row -> Claim? in
      guard try row.step() else { return nil }
      return Claim(
        call: id, op: OpID(row.text(0) ?? ""),
        claimant: Claimant(
          token: row.text(1) ?? "", host: row.text(2) ?? "", pid: Int(row.int64(3))),
        claimedAt: Date(timeIntervalSince1970: row.double(4)),
        expiresAt: Date(timeIntervalSince1970: row.double(5)))
    }
    guard let claim else { return nil }
    return claim.isLive(against: claimant, at: now, replacing: dead) ? .held(claim) : nil
  }

  private static func claim(_ id: CallID, _ row: Row) -> Claim {
    Claim(
      call: id, op: OpID(row["op"] as String),
      claimant: Claimant(token: row["token"], host: row["host"], pid: row["pid"]),
      claimedAt: Date(timeIntervalSince1970: row["claimed_at"]),
      expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
  }

  public func renewClaims(by claimant: Claimant, until expiry: Date) throws -> Int {
    try SQLiteBackend.mapErrors(path: path) {
      try database.write { db in
        try db.execute(
          sql: "UPDATE claim SET expires_at = ? WHERE token = ?",
          arguments: [expiry.timeIntervalSince1970, claimant.token])
        return db.changesCount
      }
    }
  }

  public func releaseClaim(_ id: CallID, by claimant: Claimant) throws {
    try SQLiteBackend.mapErrors(path: path) {
      try database.write { db in
        try db.execute(
          sql: "DELETE FROM claim WHERE call_id = ? AND token = ?",
          arguments: [id.digest.data, claimant.token])
      }
    }
  }

  public func claims(at now: Date) throws -> [Claim] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        try Row.fetchAll(
          db,
          sql: """
            SELECT call_id, op, token, host, pid, claimed_at, expires_at FROM claim
            WHERE expires_at > ? ORDER BY claimed_at
            """,
          arguments: [now.timeIntervalSince1970]
        ).map { row in Self.claim(CallID(try Self.digest(row["call_id"])), row) }
      }
    }
  }
}
