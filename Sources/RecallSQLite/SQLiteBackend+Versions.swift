import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  public func registerVersion(_ registration: VersionRegistration, at date: Date) throws -> CodeFingerprint {
    let op = registration.op.name
    let version = registration.version.hex
    // The common case, a version seen before that is still the latest, only reads.
    if let known = try SQLiteBackend.mapErrors(path: path, { try pool.read { try Self.known(op, version, $0) } }),
      known.isLatest
    {
      return known.semanticVersion
    }
    let components = registration.components()
    return try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        if let known = try Self.known(op, version, db) {
          if !known.isLatest {
            try db.execute(
              sql: "UPDATE op_version SET last_seen = ? WHERE op = ? AND version = ?",
              arguments: [date.timeIntervalSince1970, op, version])
          }
          return known.semanticVersion
        }
        let latest = try Self.versions(of: registration.op, countingCalls: false, db).first(where: \.isCurrent)
        let semanticVersion = registration.semanticVersion(following: latest)
        try db.execute(
          sql: """
            INSERT INTO op_version (op, version, semantic_version, parameters, first_seen, last_seen)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            op, version, semanticVersion.hex, registration.parameters.joined(separator: "\n"),
            date.timeIntervalSince1970, date.timeIntervalSince1970,
          ])
        let insertComponent = try db.cachedStatement(
          sql: "INSERT OR IGNORE INTO code_component (identity, fingerprint, source) VALUES (?, ?, ?)")
        let link = try db.cachedStatement(
          sql: """
            INSERT OR IGNORE INTO op_version_component (op, version, identity, fingerprint)
            VALUES (?, ?, ?, ?)
            """)
        for component in components {
          try insertComponent.execute(arguments: [component.identity, component.fingerprint, component.source])
          try link.execute(arguments: [op, version, component.identity, component.fingerprint])
        }
        return semanticVersion
      }
    }
  }

  /// A version's semantic version, and whether it is its op's latest.
  private static func known(_ op: String, _ version: String, _ db: Database) throws
    -> (semanticVersion: CodeFingerprint, isLatest: Bool)?
  {
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT semantic_version,
              (SELECT version FROM op_version WHERE op = ?1
               ORDER BY last_seen DESC, first_seen DESC LIMIT 1) = ?2
            FROM op_version WHERE op = ?1 AND version = ?2
            """),
        arguments: [op, version])
    else { return nil }
    return (CodeFingerprint(hex: row[0]), row[1])
  }

  public func versions(of op: OpID, countingCalls: Bool) throws -> [OpVersion] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { try Self.versions(of: op, countingCalls: countingCalls, $0) }
    }
  }

  private static func versions(of op: OpID, countingCalls: Bool, _ db: Database) throws -> [OpVersion] {
    let count =
      countingCalls
      ? """
        (SELECT count(*) FROM call WHERE call.filing IN (
          SELECT filing.id FROM filing JOIN op_name ON op_name.id = filing.op
          WHERE op_name.name = op_version.op AND filing.op_version = op_version.version))
        """
      : "0"
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT version, semantic_version, parameters, first_seen, last_seen, \(count)
        FROM op_version WHERE op = ?
        ORDER BY first_seen, version
        """,
      arguments: [op.name])
    var versions = rows.map { row in
      let parameters: String = row[2]
      return OpVersion(
        op: op, version: CodeFingerprint(hex: row[0]), semanticVersion: CodeFingerprint(hex: row[1]),
        firstSeen: Date(timeIntervalSince1970: row[3]), lastSeen: Date(timeIntervalSince1970: row[4]),
        parameters: parameters.isEmpty ? [] : parameters.split(separator: "\n").map(String.init),
        calls: row[5], isCurrent: false)
    }
    if let latest = versions.indices.max(by: {
      (versions[$0].lastSeen, versions[$0].firstSeen) < (versions[$1].lastSeen, versions[$1].firstSeen)
    }) {
      versions[latest].isCurrent = true
    }
    return versions
  }

  public func components(of op: OpID, version: CodeFingerprint) throws -> [CodeComponent]? {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        guard
          try Bool.fetchOne(
            db, sql: "SELECT 1 FROM op_version WHERE op = ? AND version = ?",
            arguments: [op.name, version.hex]) != nil
        else { return nil }
        return try Row.fetchAll(
          db,
          sql: """
            SELECT code_component.identity, code_component.fingerprint, code_component.source
            FROM op_version_component JOIN code_component USING (identity, fingerprint)
            WHERE op_version_component.op = ? AND op_version_component.version = ?
            ORDER BY code_component.identity, code_component.fingerprint
            """,
          arguments: [op.name, version.hex]
        ).map { CodeComponent(identity: $0[0], fingerprint: $0[1], source: $0[2]) }
      }
    }
  }

  public func call(_ id: CallID) throws -> CallRecord? {
    try calls(CallQuery(idPrefix: id.hex, limit: 1)).first
  }

  public func accept(_ op: OpID, version: CodeFingerprint, as base: CodeFingerprint) throws {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.write { db in
        let semantic = try db.cachedStatement(
          sql: "SELECT semantic_version FROM op_version WHERE op = ? AND version = ?")
        guard let from = try String.fetchOne(semantic, arguments: [op.name, version.hex]),
          let baseClass = try String.fetchOne(semantic, arguments: [op.name, base.hex])
        else {
          throw RecallError.notFound(
            "version \(version) or \(base) of op \(op)", path: path,
            hint: "Run each version once first; `recall versions` lists the versions seen.")
        }
        let to = version == base ? version.hex : baseClass
        guard from != to else { return }
        let refiled = """
          SELECT call.id, call.trial, call.key_fields, filing.op_version FROM call
          JOIN filing ON filing.id = call.filing
          JOIN op_name ON op_name.id = filing.op
          WHERE op_name.name = ? AND filing.semantic_version = ?
          """
        let calls: [Row]
        if version == base {
          // The version leaves its class, taking back the calls it ran.
          try db.execute(
            sql: "UPDATE op_version SET semantic_version = ? WHERE op = ? AND version = ?",
            arguments: [to, op.name, version.hex])
          calls = try Row.fetchAll(
            db, sql: refiled + " AND filing.op_version = ?", arguments: [op.name, from, version.hex])
        } else {
          try db.execute(
            sql: "UPDATE op_version SET semantic_version = ? WHERE op = ? AND semantic_version = ?",
            arguments: [to, op.name, from])
          calls = try Row.fetchAll(db, sql: refiled, arguments: [op.name, from])
        }
        let target = CodeFingerprint(hex: to)
        var rows = RowFinder(db)
        let inputs = try db.cachedStatement(
          sql: """
            SELECT call_input.name, value.cid FROM call_input JOIN value ON value.id = call_input.value
            WHERE call_input.call = ?
            """)
        for call in calls {
          let row: Int64 = call[0]
          let stored: Data? = call[2]
          let cids = try Row.fetchAll(inputs, arguments: [row]).map { ($0[0] as String, try Self.digest($0[1])) }
          // Recorded before Recall kept them:
          guard let stored, let fields = StoredKeyFields.expand([UInt8](stored), inputs: StoredKeyFields.order(cids))
          else { continue }
          let id = CallID(op: op, semanticVersion: target, trial: call[1], keyFields: fields)
          if try rows.call(id) != nil {
            // An equivalent call is filed there already: keep that one.
            try rows.deleteCall(row)
          } else {
            try db.execute(
              sql: "UPDATE call SET call_id = ?, filing = ? WHERE id = ?",
              arguments: [id.digest.data, try rows.filing(op.name, call[3], to), row])
          }
        }
      }
    }
  }
}
