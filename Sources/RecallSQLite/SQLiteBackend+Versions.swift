import Foundation
import GRDB
import RecallCore

extension SQLiteBackend {
  public func registerVersion(_ registration: VersionRegistration, at date: Date) throws
    -> CodeFingerprint
  {
    let op = registration.op.name
    let version = registration.version.hex
    let location = registration.location
    // The common case, a version seen before that this program ran last, only
    // reads: on a lookup connection, so that a process's first miss does not
    // open GRDB's pool on the calling thread (decision 0124).
    if let known = try SQLiteBackend.mapErrors(
      path: path,
      {
        try lookups.withConnection { try Self.known(op, version, at: location, $0) }
      }),
      known.isLatestHere
    {
      return known.semanticVersion
    }
    // A version this program has not run last: recorded on a lookup
    // connection too while GRDB's pool is closed, as a claim is, but with a
    // sync (decision 0125): a store's copy registers versions that no call
    // may follow, and the program's version is written with it.
    let components = registration.components()
    return try SQLiteBackend.mapErrors(path: path) {
      try writeForMiss(syncing: true) { runner in
        try Self.register(registration, components, at: location, date, runner)
      }
    }
  }

  /// Records a version this program has not run last, under the write lock:
  /// adopts the op's former name, and the version (with its semantic version
  /// and its components) unless the store knows it; then the program ran it.
  private static func register(
    _ registration: VersionRegistration, _ components: [CodeComponent], at location: String,
    _ date: Date, _ runner: some FastStatementRunner
  ) throws -> CodeFingerprint {
    let op = registration.op.name
    let version = registration.version.hex
    let since = registration.since ?? date
    if let former = registration.formerName?.name { try adopt(former, as: op, runner) }
    if let known = try known(op, version, at: location, runner) {
      if !known.isLatestHere { try see(op, version, at: location, since: since, date, runner) }
      return known.semanticVersion
    }
    let lastHere = try runner.fastRun(
      "SELECT version FROM op_location WHERE op = ? AND location = ?",
      [.text(op), .text(location)]
    ) { try $0.step() ? $0.text(0) : nil }
    let semanticVersion = try registration.semanticVersion(
      among: versions(of: registration.op, countingCalls: false, runner),
      lastHere: lastHere.map(CodeFingerprint.init(hex:)), components: components
    ) { try Self.components(of: op, version: $0.version.hex, runner) }
    try runner.fastRun(
      """
      INSERT INTO op_version (op, version, semantic_version, parameters, first_seen, last_seen)
      VALUES (?, ?, ?, ?, ?, ?)
      """,
      [
        .text(op), .text(version), .text(semanticVersion.hex),
        .text(registration.parameters.joined(separator: "\n")),
        .double(date.timeIntervalSince1970), .double(date.timeIntervalSince1970),
      ]
    ) { try $0.execute() }
    for component in components {
      try runner.fastRun(
        "INSERT OR IGNORE INTO code_component (identity, fingerprint, source) VALUES (?, ?, ?)",
        [.text(component.identity), .text(component.fingerprint), .text(component.source)]
      ) { try $0.execute() }
      try runner.fastRun(
        """
        INSERT OR IGNORE INTO op_version_component (op, version, identity, fingerprint)
        VALUES (?, ?, ?, ?)
        """, [.text(op), .text(version), .text(component.identity), .text(component.fingerprint)]
      ) { try $0.execute() }
    }
    try see(op, version, at: location, since: since, date, runner)
    return semanticVersion
  }

  public func sawVersions(_ sightings: [VersionSighting], at date: Date) throws {
    guard !sightings.isEmpty else { return }
    // On a lookup connection, as usage counts: a process that only hits
    // records its versions without opening GRDB's pool (Design §22).
    try SQLiteBackend.mapErrors(path: path) {
      try lookups.withConnection { connection in
        try connection.writeTransaction {
          for sighting in sightings {
            try Self.see(
              sighting.op.name, sighting.version.hex, at: sighting.location, since: sighting.since,
              date, connection)
          }
        }
      }
    }
  }

  public func acceptCount() throws -> Int {
    // In the lookup connection's kept snapshot (decision 0113), as every
    // miss reads it: a change another process accepts is seen at most a
    // snapshot's lifetime later, one this process accepts at once.
    try SQLiteBackend.mapErrors(path: path) {
      try lookups.lookUp { connection in
        if let count = connection.acceptCountInSnapshot { return count }
        let count = try FastStatement.run(connection, .acceptCount, []) {
          try $0.step() ? Int($0.int64(0)) : nil
        }
        connection.acceptCountInSnapshot = count
        return count
      } ?? 0
    }
  }

  /// Records that a program ran a version (if the store knows it): the
  /// version's last-seen date moves forward, and it becomes the program's
  /// version unless a process that started later (`since`) uses another. The
  /// first program to record one replaces the location that a store from
  /// before locations has ('').
  private static func see(
    _ op: String, _ version: String, at location: String, since: Date, _ date: Date,
    _ runner: some FastStatementRunner
  ) throws {
    let seconds = FastArgument.double(date.timeIntervalSince1970)
    try runner.fastRun(
      "UPDATE op_version SET last_seen = max(last_seen, ?) WHERE op = ? AND version = ?",
      [seconds, .text(op), .text(version)]
    ) { try $0.execute() }
    guard runner.changesCount > 0 else { return }
    try runner.fastRun(
      Self.seeLocationSQL,
      [.text(op), .text(location), .text(version), .double(since.timeIntervalSince1970), seconds]
    ) { try $0.execute() }
    if !location.isEmpty {
      try runner.fastRun("DELETE FROM op_location WHERE op = ? AND location = ''", [.text(op)]) {
        try $0.execute()
      }
    }
  }

  /// Moves a program's version (SQLite evaluates every assignment against
  /// the row as it was).
  static let seeLocationSQL = """
    INSERT INTO op_location (op, location, version, since, last_seen) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (op, location) DO UPDATE SET
      version = CASE WHEN excluded.since >= since THEN excluded.version ELSE version END,
      since = CASE WHEN excluded.version <> version AND excluded.since >= since THEN excluded.since ELSE since END,
      last_seen = CASE WHEN excluded.version = version OR excluded.since >= since
        THEN max(last_seen, excluded.last_seen) ELSE last_seen END
    """

  /// Renames an op recorded under its former name (before op names had
  /// parameter types) when the store has versions under that name and none
  /// under the new one: its calls, versions, locations, use and claims. The
  /// calls keep their ids (their keys are made with the former name).
  private static func adopt(_ former: String, as op: String, _ runner: some FastStatementRunner)
    throws
  {
    func count(_ sql: String, _ name: String) throws -> Int64 {
      try runner.fastRun(sql, [.text(name)]) { try $0.step() ? $0.int64(0) : 0 }
    }
    func execute(_ sql: String) throws {
      try runner.fastRun(sql, [.text(op), .text(former)]) { try $0.execute() }
    }
    let versions = "SELECT count(*) FROM op_version WHERE op = ?"
    guard try count(versions, op) == 0, try count(versions, former) > 0,
      try count("SELECT count(*) FROM op_name WHERE name = ?", op) == 0
    else { return }
    for table in ["op_version", "op_version_component", "op_location", "claim"] {
      try execute("UPDATE \(table) SET op = ? WHERE op = ?")
    }
    try execute("UPDATE op_name SET name = ? WHERE name = ?")
    try execute(
      """
      INSERT INTO usage (op, period, memory_hits, store_hits, misses, time_saved, compute_time)
      SELECT ?1, period, memory_hits, store_hits, misses, time_saved, compute_time
        FROM usage WHERE op = ?2
      ON CONFLICT (period, op) DO UPDATE SET
        memory_hits = memory_hits + excluded.memory_hits,
        store_hits = store_hits + excluded.store_hits,
        misses = misses + excluded.misses, time_saved = time_saved + excluded.time_saved,
        compute_time = compute_time + excluded.compute_time
      """)
    try runner.fastRun("DELETE FROM usage WHERE op = ?", [.text(former)]) { try $0.execute() }
  }

  /// A version's semantic version, and whether it is the version the
  /// program ran last.
  private static func known(
    _ op: String, _ version: String, at location: String, _ runner: some FastStatementRunner
  ) throws -> (semanticVersion: CodeFingerprint, isLatestHere: Bool)? {
    try runner.fastRun(
      """
      SELECT semantic_version,
        coalesce((SELECT version FROM op_location WHERE op = ?1 AND location = ?3) = ?2, 0)
      FROM op_version WHERE op = ?1 AND version = ?2
      """, [.text(op), .text(version), .text(location)]
    ) { row in
      try row.step()
        ? (
          semanticVersion: CodeFingerprint(hex: row.text(0) ?? ""),
          isLatestHere: row.int64(1) != 0
        ) : nil
    }
  }

  /// From the counts each filing keeps (`v15.counts`).
  public func callCounts(of op: OpID) throws -> [CodeFingerprint: Int] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        var counts: [CodeFingerprint: Int] = [:]
        for row in try Row.fetchAll(
          db,
          sql: """
            SELECT semantic_version, sum(calls) FROM filing
            WHERE op = (SELECT id FROM op_name WHERE name = ?)
            GROUP BY semantic_version HAVING sum(calls) > 0
            """,
          arguments: [op.name])
        {
          counts[CodeFingerprint(hex: try row.decode(String.self, atIndex: 0))] =
            try row.decode(Int.self, atIndex: 1)
        }
        return counts
      }
    }
  }

  public func versions(of op: OpID, countingCalls: Bool) throws -> [OpVersion] {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { try Self.versions(of: op, countingCalls: countingCalls, $0) }
    }
  }

  private static func versions(
    of op: OpID, countingCalls: Bool, _ runner: some FastStatementRunner
  ) throws -> [OpVersion] {
    let count =
      countingCalls
      ? """
      (SELECT coalesce(sum(filing.calls), 0) FROM filing JOIN op_name ON op_name.id = filing.op
        WHERE op_name.name = op_version.op AND filing.op_version = op_version.version)
      """
      : "0"
    let versions = try runner.fastRun(
      """
      SELECT version, semantic_version, parameters, first_seen, last_seen, \(count)
      FROM op_version WHERE op = ?
      ORDER BY first_seen, version
      """, [.text(op.name)]
    ) { row in
      var versions: [OpVersion] = []
      while try row.step() {
        let parameters = row.text(2) ?? ""
        versions.append(
          OpVersion(
            op: op, version: CodeFingerprint(hex: row.text(0) ?? ""),
            semanticVersion: CodeFingerprint(hex: row.text(1) ?? ""),
            firstSeen: Date(timeIntervalSince1970: row.double(3)),
            lastSeen: Date(timeIntervalSince1970: row.double(4)),
            parameters: parameters.isEmpty
              ? [] : parameters.split(separator: "\n").map(String.init),
            calls: Int(row.int64(5)), isCurrent: false))
      }
      return versions
    }
    let locations = try runner.fastRun(
      "SELECT location, version, last_seen FROM op_location WHERE op = ?", [.text(op.name)]
    ) { row in
      var locations: [VersionLocation] = []
      while try row.step() {
        locations.append(
          VersionLocation(
            location: row.text(0) ?? "", version: CodeFingerprint(hex: row.text(1) ?? ""),
            lastSeen: Date(timeIntervalSince1970: row.double(2))))
      }
      return locations
    }
    return OpVersion.markingCurrent(versions, locations: locations)
  }

  private static func components(
    of op: String, version: String, _ runner: some FastStatementRunner
  ) throws -> [CodeComponent] {
    try runner.fastRun(
      """
      SELECT code_component.identity, code_component.fingerprint, code_component.source
      FROM op_version_component JOIN code_component USING (identity, fingerprint)
      WHERE op_version_component.op = ? AND op_version_component.version = ?
      ORDER BY code_component.identity, code_component.fingerprint
      """, [.text(op), .text(version)]
    ) { row in
      var components: [CodeComponent] = []
      while try row.step() {
        components.append(
          CodeComponent(
            identity: row.text(0) ?? "", fingerprint: row.text(1) ?? "", source: row.text(2) ?? ""))
      }
      return components
    }
  }

  public func components(of op: OpID, version: CodeFingerprint) throws -> [CodeComponent]? {
    try SQLiteBackend.mapErrors(path: path) {
      try pool.read { db in
        guard
          try Bool.fetchOne(
            db, sql: "SELECT 1 FROM op_version WHERE op = ? AND version = ?",
            arguments: [op.name, version.hex]) != nil
        else { return nil }
        return try Self.components(of: op.name, version: version.hex, db)
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
        try db.execute(sql: "UPDATE store_count SET value = value + 1 WHERE name = 'accept_count'")
        let refiled = """
          SELECT call.id, call.trial, call.key_fields, filing.op_version, call.call_id,
            value.cid, call.output_hid, call.checksum
          FROM call
          JOIN value ON value.id = call.output
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
            db, sql: refiled + " AND filing.op_version = ?",
            arguments: [op.name, from, version.hex])
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
          let (oldID, output, history) = (
            CallID(try Self.digest(call[4])), ContentID(try Self.digest(call[5])),
            HistoryID(try Self.digest(call[6]))
          )
          // A damaged record is not re-filed under a checksum of its own:
          // dropped, it is computed again.
          if try damage(
            ofCall: oldID, output: output, history: history, checksum: call[7], row: row)
            != nil
          {
            try rows.deleteCall(row)
            continue
          }
          let cids = try Row.fetchAll(inputs, arguments: [row]).map {
            ($0[0] as String, try Self.digest($0[1]))
          }
          // Recorded before Recall kept them:
          guard let stored,
            let fields = StoredKeyFields.expand(
              [UInt8](stored), inputs: StoredKeyFields.order(cids)),
            let scheme = CallID.scheme(
              of: op, for: oldID,
              semanticVersion: CodeFingerprint(hex: from),
              trial: call[1], keyFields: fields)
          else { continue }
          let id = CallID(
            op: scheme.name, semanticVersion: target, trial: call[1], keyFields: fields,
            isRandom: scheme.isRandom)
          if try rows.call(id) != nil {
            // An equivalent call is filed there already: keep that one.
            try rows.deleteCall(row)
          } else {
            // Its checksum covers its id: the record stays checkable.
            let checksum = Checksum.call(id, output: output, history: history)
            try db.execute(
              sql: "UPDATE call SET call_id = ?, filing = ?, checksum = ? WHERE id = ?",
              arguments: [
                id.digest.data, try rows.filing(op.name, call[3], to),
                Int64(bitPattern: checksum), row,
              ])
          }
        }
      }
    }
  }
}
