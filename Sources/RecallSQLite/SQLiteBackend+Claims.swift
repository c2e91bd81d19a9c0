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
    return try SQLiteBackend.mapErrors(path: path) {
      // Waiting processes look every few milliseconds: answer them with a
      // read while the claim is held, and take the write lock only to claim.
      if let seen = try lookups.withConnection({
        try claimState(of: id, for: claimant, at: now, replacing: dead, $0)
      }) {
        return seen
      }
      return try writeForMiss(syncing: false) { runner in
        try claimLocked(id, of: op, by: claimant, at: now, until: expiry, dead, runner)
      }
    }
  }

  /// Under the write lock: the call's state again, else a claim's row.
  private func claimLocked(
    _ id: CallID, of op: OpID, by claimant: Claimant, at now: Date, until expiry: Date,
    _ dead: Claimant?, _ runner: some FastStatementRunner
  ) throws -> ClaimOutcome {
    if let seen = try claimState(of: id, for: claimant, at: now, replacing: dead, runner) {
      return seen
    }
    try runner.fastRun(
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
    return .acquired
  }

  /// Whether the call is stored or held by another claimant's live lease
  /// (`nil`: it can be claimed).
  private func claimState(
    of id: CallID, for claimant: Claimant, at now: Date, replacing dead: Claimant?,
    _ runner: some FastStatementRunner
  ) throws -> ClaimOutcome? {
    let stored = try runner.fastRun(
      """
      SELECT EXISTS (SELECT 1 FROM call JOIN value ON value.id = call.output
        WHERE \(Self.matches("call.call_id", "?1")) AND value.size IS NOT NULL)
      """, [.digest(id.digest)]
    ) { try $0.step() && $0.int64(0) != 0 }
    if stored { return .stored }
    let claim = try runner.fastRun(
      "SELECT \(Self.claimColumns) FROM claim WHERE call_id = ?", [.digest(id.digest)]
    ) { try $0.step() ? try Self.claim($0) : nil }
    guard let claim else { return nil }
    return claim.isLive(against: claimant, at: now, replacing: dead) ? .held(claim) : nil
  }

  /// A claim's columns, in the order ``claim(_:)`` reads them.
  private static let claimColumns = "call_id, op, token, host, pid, claimed_at, expires_at"

  /// The claim on the statement's row (``claimColumns``).
  private static func claim(_ row: FastStatement) throws -> Claim {
    Claim(
      call: CallID(try row.digest(0)), op: OpID(row.text(1) ?? ""),
      claimant: Claimant(
        token: row.text(2) ?? "", host: row.text(3) ?? "", pid: Int(row.int64(4))),
      claimedAt: Date(timeIntervalSince1970: row.double(5)),
      expiresAt: Date(timeIntervalSince1970: row.double(6)))
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
        try db.fastRun(
          "SELECT \(Self.claimColumns) FROM claim WHERE expires_at > ? ORDER BY claimed_at",
          [.double(now.timeIntervalSince1970)]
        ) { row in
          var claims: [Claim] = []
          while try row.step() { claims.append(try Self.claim(row)) }
          return claims
        }
      }
    }
  }
}
