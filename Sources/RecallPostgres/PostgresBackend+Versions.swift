import Foundation
import PostgresNIO
import RecallCore

extension PostgresBackend {
  public func registerVersion(_ registration: VersionRegistration, at date: Date) throws -> CodeFingerprint {
    let op = registration.op.name
    let version = registration.version.hex
    // The common case, a version seen before that is still the latest, only reads.
    if let known = try withConnection({ try Self.known(op, version, $0) }), known.isLatest {
      return known.semanticVersion
    }
    let components = registration.components()
    return try transaction { connection in
      // One registration of an op at a time, across processes.
      try connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", [.text("recall.op." + op)])
      if let known = try Self.known(op, version, connection) {
        if !known.isLatest {
          try connection.execute(
            "UPDATE op_version SET last_seen = $1 WHERE op = $2 AND version = $3",
            [SQLValue(date), .text(op), .text(version)])
        }
        return known.semanticVersion
      }
      let latest = try Self.versions(of: registration.op, countingCalls: false, connection).first(where: \.isCurrent)
      let semanticVersion = registration.semanticVersion(following: latest)
      try connection.execute(
        """
        INSERT INTO op_version (op, version, semantic_version, parameters, first_seen, last_seen)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        [
          .text(op), .text(version), .text(semanticVersion.hex),
          .text(registration.parameters.joined(separator: "\n")), SQLValue(date), SQLValue(date),
        ])
      for component in components.sorted(by: { ($0.identity, $0.fingerprint) < ($1.identity, $1.fingerprint) }) {
        try connection.execute(
          """
          INSERT INTO code_component (identity, fingerprint, source) VALUES ($1, $2, $3)
          ON CONFLICT DO NOTHING
          """, [.text(component.identity), .text(component.fingerprint), .text(component.source)])
        try connection.execute(
          """
          INSERT INTO op_version_component (op, version, identity, fingerprint) VALUES ($1, $2, $3, $4)
          ON CONFLICT DO NOTHING
          """, [.text(op), .text(version), .text(component.identity), .text(component.fingerprint)])
      }
      return semanticVersion
    }
  }

  /// A version's semantic version, and whether it is its op's latest.
  private static func known(_ op: String, _ version: String, _ connection: Connection) throws
    -> (semanticVersion: CodeFingerprint, isLatest: Bool)?
  {
    guard
      let row = try connection.rows(
        """
        SELECT semantic_version,
          (SELECT version FROM op_version WHERE op = $1
           ORDER BY last_seen DESC, first_seen DESC LIMIT 1) = $2
        FROM op_version WHERE op = $1 AND version = $2
        """, [.text(op), .text(version)]
      ).first
    else { return nil }
    return (CodeFingerprint(hex: try row.text(0)), try row.bool(1))
  }

  public func versions(of op: OpID, countingCalls: Bool) throws -> [OpVersion] {
    try withConnection { try Self.versions(of: op, countingCalls: countingCalls, $0) }
  }

  private static func versions(of op: OpID, countingCalls: Bool, _ connection: Connection) throws -> [OpVersion] {
    let count =
      countingCalls
      ? "(SELECT count(*) FROM call WHERE call.op = op_version.op AND call.op_version = op_version.version)::bigint"
      : "0::bigint"
    var versions = try connection.rows(
      """
      SELECT version, semantic_version, parameters, first_seen, last_seen, \(count)
      FROM op_version WHERE op = $1
      ORDER BY first_seen, version COLLATE "C"
      """, [.text(op.name)]
    ).map { row in
      let parameters = try row.text(2)
      return OpVersion(
        op: op, version: CodeFingerprint(hex: try row.text(0)), semanticVersion: CodeFingerprint(hex: try row.text(1)),
        firstSeen: try row.date(3), lastSeen: try row.date(4),
        parameters: parameters.isEmpty ? [] : parameters.split(separator: "\n").map(String.init),
        calls: try row.int(5), isCurrent: false)
    }
    if let latest = versions.indices.max(by: {
      (versions[$0].lastSeen, versions[$0].firstSeen) < (versions[$1].lastSeen, versions[$1].firstSeen)
    }) {
      versions[latest].isCurrent = true
    }
    return versions
  }

  public func components(of op: OpID, version: CodeFingerprint) throws -> [CodeComponent]? {
    try withConnection { connection in
      guard
        !(try connection.rows(
          "SELECT 1 FROM op_version WHERE op = $1 AND version = $2", [.text(op.name), .text(version.hex)]
        ).isEmpty)
      else { return nil }
      return try connection.rows(
        """
        SELECT code_component.identity, code_component.fingerprint, code_component.source
        FROM op_version_component JOIN code_component USING (identity, fingerprint)
        WHERE op_version_component.op = $1 AND op_version_component.version = $2
        ORDER BY code_component.identity COLLATE "C", code_component.fingerprint COLLATE "C"
        """, [.text(op.name), .text(version.hex)]
      ).map { CodeComponent(identity: try $0.text(0), fingerprint: try $0.text(1), source: try $0.text(2)) }
    }
  }

  public func call(_ id: CallID) throws -> CallRecord? {
    try calls(CallQuery(idPrefix: id.hex, limit: 1)).first
  }

  public func accept(_ op: OpID, version: CodeFingerprint, as base: CodeFingerprint) throws {
    try transaction { connection in
      try connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", [.text("recall.op." + op.name)])
      func semantic(_ version: CodeFingerprint) throws -> String? {
        try connection.rows(
          "SELECT semantic_version FROM op_version WHERE op = $1 AND version = $2",
          [.text(op.name), .text(version.hex)]
        ).first?.text(0)
      }
      guard let from = try semantic(version), let baseClass = try semantic(base) else {
        throw RecallError.notFound(
          "version \(version) or \(base) of op \(op)", path: location,
          hint: "Run each version once first; `recall versions` lists the versions seen.")
      }
      let to = version == base ? version.hex : baseClass
      guard from != to else { return }
      let calls: [PostgresRandomAccessRow]
      if version == base {
        // The version leaves its class, taking back the calls it ran.
        try connection.execute(
          "UPDATE op_version SET semantic_version = $1 WHERE op = $2 AND version = $3",
          [.text(to), .text(op.name), .text(version.hex)])
        calls = try connection.rows(
          "SELECT id, trial, key_fields FROM call WHERE op = $1 AND semantic_version = $2 AND op_version = $3",
          [.text(op.name), .text(from), .text(version.hex)])
      } else {
        try connection.execute(
          "UPDATE op_version SET semantic_version = $1 WHERE op = $2 AND semantic_version = $3",
          [.text(to), .text(op.name), .text(from)])
        calls = try connection.rows(
          "SELECT id, trial, key_fields FROM call WHERE op = $1 AND semantic_version = $2",
          [.text(op.name), .text(from)])
      }
      let target = CodeFingerprint(hex: to)
      for call in calls {
        guard let fields = try call.bytes(2) else { continue }  // recorded before Recall kept them
        let old = SQLValue(try call.digest(0))
        let id = CallID(op: op, semanticVersion: target, trial: try call.int(1), keyFields: [UInt8](fields))
        if !(try connection.rows("SELECT 1 FROM call WHERE id = $1", [SQLValue(id.digest)]).isEmpty) {
          // An equivalent call is filed there already: keep that one.
          try connection.execute("DELETE FROM call WHERE id = $1", [old])
          try connection.execute("DELETE FROM call_input WHERE call_id = $1", [old])
        } else {
          try connection.execute(
            "UPDATE call SET id = $1, semantic_version = $2 WHERE id = $3", [SQLValue(id.digest), .text(to), old])
          try connection.execute("UPDATE call_input SET call_id = $1 WHERE call_id = $2", [SQLValue(id.digest), old])
        }
      }
    }
  }
}
