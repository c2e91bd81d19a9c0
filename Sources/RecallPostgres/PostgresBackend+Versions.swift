import Foundation
import PostgresNIO
import RecallCore

extension PostgresBackend {
  public func registerVersion(_ registration: VersionRegistration, at date: Date) throws
    -> CodeFingerprint
  {
    let op = registration.op.name
    let version = registration.version.hex
    let location = registration.location
    // The common case, a version seen before that this program ran last, only reads.
    if let known = try withConnection({ try Self.known(op, version, at: location, $0) }),
      known.isLatestHere
    {
      return known.semanticVersion
    }
    let components = registration.components()
    return try transaction { connection in
      // One registration of an op at a time, across processes.
      try connection.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))", [.text("recall.op." + op)])
      if let former = registration.formerName?.name { try Self.adopt(former, as: op, connection) }
      if let known = try Self.known(op, version, at: location, connection) {
        if !known.isLatestHere {
          try Self.see(
            op, version, at: location, since: registration.since ?? date, date, connection)
        }
        return known.semanticVersion
      }
      let lastHere = try connection.rows(
        "SELECT version FROM op_location WHERE op = $1 AND location = $2",
        [.text(op), .text(location)]
      ).first?.text(0)
      let semanticVersion = try registration.semanticVersion(
        among: Self.versions(of: registration.op, countingCalls: false, connection),
        lastHere: lastHere.map(CodeFingerprint.init(hex:)), components: components
      ) { try Self.components(of: op, version: $0.version.hex, connection) }
      try connection.execute(
        """
        INSERT INTO op_version (op, version, semantic_version, parameters, first_seen, last_seen)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        [
          .text(op), .text(version), .text(semanticVersion.hex),
          .text(registration.parameters.joined(separator: "\n")), SQLValue(date), SQLValue(date),
        ])
      for component in components.sorted(by: {
        ($0.identity, $0.fingerprint) < ($1.identity, $1.fingerprint)
      }) {
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
      try Self.see(op, version, at: location, since: registration.since ?? date, date, connection)
      return semanticVersion
    }
  }

  public func sawVersions(_ sightings: [VersionSighting], at date: Date) throws {
    guard !sightings.isEmpty else { return }
    try transaction { connection in
      for sighting in sightings {
        try Self.see(
          sighting.op.name, sighting.version.hex, at: sighting.location, since: sighting.since,
          date, connection)
      }
    }
  }

  public func acceptCount() throws -> Int {
    try withConnection { connection in
      try connection.rows("SELECT value FROM setting WHERE name = 'accept_count'").first
        .flatMap { Int(try $0.text(0)) } ?? 0
    }
  }

  /// Records that a program ran a version (if the store knows it): the
  /// version's last-seen date moves forward, and it becomes the program's
  /// version unless a process that started later (`since`) uses another. The
  /// first program to record one replaces the location that a store from
  /// before locations has ('').
  private static func see(
    _ op: String, _ version: String, at location: String, since: Date, _ date: Date,
    _ connection: Connection
  ) throws {
    let known = try connection.execute(
      "UPDATE op_version SET last_seen = greatest(last_seen, $1) WHERE op = $2 AND version = $3",
      [SQLValue(date), .text(op), .text(version)])
    guard known > 0 else { return }
    // Every assignment reads the row as it was.
    try connection.execute(
      """
      INSERT INTO op_location AS old (op, location, version, since, last_seen) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (op, location) DO UPDATE SET
        version = CASE WHEN excluded.since >= old.since THEN excluded.version ELSE old.version END,
        since = CASE WHEN excluded.version <> old.version AND excluded.since >= old.since
          THEN excluded.since ELSE old.since END,
        last_seen = CASE WHEN excluded.version = old.version OR excluded.since >= old.since
          THEN greatest(old.last_seen, excluded.last_seen) ELSE old.last_seen END
      """, [.text(op), .text(location), .text(version), SQLValue(since), SQLValue(date)])
    if !location.isEmpty {
      try connection.execute("DELETE FROM op_location WHERE op = $1 AND location = ''", [.text(op)])
    }
  }

  /// Renames an op recorded under its former name (before op names had
  /// parameter types) when the store has versions under that name and none
  /// under the new one: its calls, versions, locations, use and claims. The
  /// calls keep their ids (their keys are made with the former name).
  private static func adopt(_ former: String, as op: String, _ connection: Connection) throws {
    try connection.execute(
      "SELECT pg_advisory_xact_lock(hashtext($1))", [.text("recall.op." + former)])
    let count = "SELECT count(*)::bigint FROM op_version WHERE op = $1"
    guard try connection.rows(count, [.text(op)]).first?.int(0) == 0,
      try connection.rows(count, [.text(former)]).first?.int(0) ?? 0 > 0
    else { return }
    for table in ["call", "op_version", "op_version_component", "op_location", "claim"] {
      try connection.execute(
        "UPDATE \(table) SET op = $1 WHERE op = $2", [.text(op), .text(former)])
    }
    try connection.execute(
      """
      INSERT INTO usage AS old (op, period, memory_hits, store_hits, misses, time_saved, compute_time)
      SELECT $1, period, memory_hits, store_hits, misses, time_saved, compute_time FROM usage WHERE op = $2
      ON CONFLICT (period, op) DO UPDATE SET
        memory_hits = old.memory_hits + excluded.memory_hits, store_hits = old.store_hits + excluded.store_hits,
        misses = old.misses + excluded.misses, time_saved = old.time_saved + excluded.time_saved,
        compute_time = old.compute_time + excluded.compute_time
      """, [.text(op), .text(former)])
    try connection.execute("DELETE FROM usage WHERE op = $1", [.text(former)])
  }

  /// A version's semantic version, and whether it is the version the
  /// program ran last.
  private static func known(
    _ op: String, _ version: String, at location: String, _ connection: Connection
  ) throws
    -> (semanticVersion: CodeFingerprint, isLatestHere: Bool)?
  {
    guard
      let row = try connection.rows(
        """
        SELECT semantic_version,
          coalesce((SELECT version FROM op_location WHERE op = $1 AND location = $3) = $2, false)
        FROM op_version WHERE op = $1 AND version = $2
        """, [.text(op), .text(version), .text(location)]
      ).first
    else { return nil }
    return (CodeFingerprint(hex: try row.text(0)), try row.bool(1))
  }

  private static func components(of op: String, version: String, _ connection: Connection) throws
    -> [CodeComponent]
  {
    try connection.rows(
      """
      SELECT code_component.identity, code_component.fingerprint, code_component.source
      FROM op_version_component JOIN code_component USING (identity, fingerprint)
      WHERE op_version_component.op = $1 AND op_version_component.version = $2
      ORDER BY code_component.identity COLLATE "C", code_component.fingerprint COLLATE "C"
      """, [.text(op), .text(version)]
    ).map {
      CodeComponent(identity: try $0.text(0), fingerprint: try $0.text(1), source: try $0.text(2))
    }
  }

  public func callCounts(of op: OpID) throws -> [CodeFingerprint: Int] {
    try withConnection { connection in
      var counts: [CodeFingerprint: Int] = [:]
      for row in try connection.rows(
        "SELECT semantic_version, count(*)::bigint FROM call WHERE op = $1 GROUP BY semantic_version",
        [.text(op.name)])
      {
        counts[CodeFingerprint(hex: try row.text(0))] = try row.int(1)
      }
      return counts
    }
  }

  public func versions(of op: OpID, countingCalls: Bool) throws -> [OpVersion] {
    try withConnection { try Self.versions(of: op, countingCalls: countingCalls, $0) }
  }

  private static func versions(of op: OpID, countingCalls: Bool, _ connection: Connection) throws
    -> [OpVersion]
  {
    let count =
      countingCalls
      ? "(SELECT count(*) FROM call WHERE call.op = op_version.op AND call.op_version = op_version.version)::bigint"
      : "0::bigint"
    let versions = try connection.rows(
      """
      SELECT version, semantic_version, parameters, first_seen, last_seen, \(count)
      FROM op_version WHERE op = $1
      ORDER BY first_seen, version COLLATE "C"
      """, [.text(op.name)]
    ).map { row in
      let parameters = try row.text(2)
      return OpVersion(
        op: op, version: CodeFingerprint(hex: try row.text(0)),
        semanticVersion: CodeFingerprint(hex: try row.text(1)),
        firstSeen: try row.date(3), lastSeen: try row.date(4),
        parameters: parameters.isEmpty ? [] : parameters.split(separator: "\n").map(String.init),
        calls: try row.int(5), isCurrent: false)
    }
    let locations = try connection.rows(
      "SELECT location, version, last_seen FROM op_location WHERE op = $1", [.text(op.name)]
    ).map {
      VersionLocation(
        location: try $0.text(0), version: CodeFingerprint(hex: try $0.text(1)),
        lastSeen: try $0.date(2))
    }
    return OpVersion.markingCurrent(versions, locations: locations)
  }

  public func components(of op: OpID, version: CodeFingerprint) throws -> [CodeComponent]? {
    try withConnection { connection in
      guard
        !(try connection.rows(
          "SELECT 1 FROM op_version WHERE op = $1 AND version = $2",
          [.text(op.name), .text(version.hex)]
        ).isEmpty)
      else { return nil }
      return try Self.components(of: op.name, version: version.hex, connection)
    }
  }

  public func call(_ id: CallID) throws -> CallRecord? {
    try calls(CallQuery(idPrefix: id.hex, limit: 1)).first
  }

  public func accept(_ op: OpID, version: CodeFingerprint, as base: CodeFingerprint) throws {
    try transaction { connection in
      try connection.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))", [.text("recall.op." + op.name)])
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
      try connection.execute(
        "UPDATE setting SET value = (value::bigint + 1)::text WHERE name = 'accept_count'", [])
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
        guard let fields = try call.bytes(2),  // recorded before Recall kept them
          let scheme = CallID.scheme(
            of: op, for: CallID(try call.digest(0)), semanticVersion: CodeFingerprint(hex: from),
            trial: try call.int(1), keyFields: [UInt8](fields))
        else { continue }
        let old = SQLValue(try call.digest(0))
        let id = CallID(
          op: scheme.name, semanticVersion: target, trial: try call.int(1),
          keyFields: [UInt8](fields), isRandom: scheme.isRandom)
        if !(try connection.rows("SELECT 1 FROM call WHERE id = $1", [SQLValue(id.digest)]).isEmpty)
        {
          // An equivalent call is filed there already: keep that one.
          try connection.execute("DELETE FROM call WHERE id = $1", [old])
          try connection.execute("DELETE FROM call_input WHERE call_id = $1", [old])
        } else {
          try connection.execute(
            "UPDATE call SET id = $1, semantic_version = $2 WHERE id = $3",
            [SQLValue(id.digest), .text(to), old])
          try connection.execute(
            "UPDATE call_input SET call_id = $1 WHERE call_id = $2", [SQLValue(id.digest), old])
        }
      }
    }
  }
}
