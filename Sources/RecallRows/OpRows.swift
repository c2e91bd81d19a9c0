import Foundation
import RecallCore

/// One op's counts, or the whole store's (`op` is `(store)`): a row of
/// `recall stats` and of the viewer's overview (`/api/v1/ops`).
package struct OpStatsRow: TableRow {
  package static let columns = [
    "op", "calls", "versions", "stale", "hits", "misses", "time_saved", "recompute_time",
    "bytes", "saved_per_mib", "not_stored", "evicted",
  ]
  package let op: String
  package let calls: Int
  @Nullable package var versions: Int?
  package let stale: Int
  package let hits: Int
  package let misses: Int
  /// Seconds the hits saved.
  package let timeSaved: Double
  /// Seconds recomputing every stored call would take.
  package let recomputeTime: Double
  /// The bytes of the op's results kept (not evicted); the store's: of
  /// every value.
  package let byteCount: Int
  package var bytesText: String?
  /// Seconds the hits saved per MiB of the op's results kept: what keeping
  /// them is worth; `nil` without bytes.
  @Nullable package var savedPerMiB: Double?
  /// Results the storage policy did not store, and their bytes.
  package let notStored: Int
  package let notStoredBytes: Int
  /// Calls whose results are evicted, and the bytes those took.
  package let evicted: Int
  package let evictedBytes: Int

  package var cells: [String] {
    [
      op, "\(calls)", versions.map(String.init) ?? "", "\(stale)", "\(hits)", "\(misses)",
      seconds(timeSaved), seconds(recomputeTime), bytesText ?? bytes(byteCount),
      savedPerMiB.map { seconds($0) + "/MiB" } ?? "",
      notStored == 0 ? "0" : "\(notStored) (\(bytes(notStoredBytes)))",
      evicted == 0 ? "0" : "\(evicted) (\(bytes(evictedBytes)))",
    ]
  }

  /// Whether the row is the whole store's.
  package var isStore: Bool { versions == nil }

  /// Seconds `saved` per MiB of `bytes`, or `nil` without bytes.
  static func perMiB(_ saved: Double, _ bytes: Int) -> Double? {
    bytes == 0 ? nil : saved / (Double(bytes) / 1_048_576)
  }

  private enum CodingKeys: String, CodingKey {
    case op, calls, versions, stale, hits, misses
    case notStored = "not_stored"
    case notStoredBytes = "not_stored_bytes"
    case evicted
    case evictedBytes = "evicted_bytes"
    case savedPerMiB = "saved_per_mib"
    case byteCount = "bytes"
    case timeSaved = "time_saved"
    case recomputeTime = "recompute_time"
  }

  /// One row per op the store has calls, versions or counts of, then the
  /// store's row.
  package static func rows(in store: Store) throws -> [OpStatsRow] {
    let summary = try store.summary()
    var use: [OpID: OpUsage] = [:]
    for count in try store.usage() {
      use[count.op, default: OpUsage(op: count.op, period: .distantPast)].add(count)
    }
    var rows: [OpStatsRow] = []
    let evictions = Dictionary(
      try store.evictions().map { ($0.op, $0) }, uniquingKeysWith: { first, _ in first })
    var total = (
      time: 0.0, stale: 0, resultBytes: 0, use: OpUsage(op: "", period: .distantPast),
      evicted: OpEvictions(op: "", calls: 0, bytes: 0)
    )
    let ops = try store.ops()
    let unlisted = use.keys.filter { op in !ops.contains { $0.op == op } }.sorted()
    for op in ops
      + unlisted.map({ OpSummary(op: $0, calls: 0, versions: 0, outputBytes: 0, lastCall: nil) })
    {
      let time = op.computeTime.inSeconds
      let stale = op.calls == 0 ? 0 : try store.staleCallCount(of: op.op)
      let count = use[op.op] ?? OpUsage(op: op.op, period: .distantPast)
      total.time += time
      total.stale += stale
      let evicted = evictions[op.op] ?? OpEvictions(op: op.op, calls: 0, bytes: 0)
      let kept = op.outputBytes - evicted.bytes
      total.resultBytes += kept
      total.use.add(count)
      total.evicted.calls += evicted.calls
      total.evicted.bytes += evicted.bytes
      rows.append(
        OpStatsRow(
          op: op.op.name, calls: op.calls, versions: op.versions, stale: stale, hits: count.hits,
          misses: count.misses, timeSaved: count.timeSaved.inSeconds, recomputeTime: time,
          byteCount: kept, savedPerMiB: perMiB(count.timeSaved.inSeconds, kept),
          notStored: count.notStored, notStoredBytes: count.notStoredBytes,
          evicted: evicted.calls, evictedBytes: evicted.bytes))
    }
    rows.append(
      OpStatsRow(
        op: "(store)", calls: summary.calls, versions: nil, stale: total.stale,
        hits: total.use.hits, misses: total.use.misses,
        timeSaved: total.use.timeSaved.inSeconds, recomputeTime: total.time,
        byteCount: summary.bytes,
        bytesText: "\(bytes(summary.bytes)) in \(counted(summary.values, "value"))",
        savedPerMiB: perMiB(total.use.timeSaved.inSeconds, total.resultBytes),
        notStored: total.use.notStored, notStoredBytes: total.use.notStoredBytes,
        evicted: total.evicted.calls, evictedBytes: total.evicted.bytes))
    return rows
  }
}

/// A span of time usage is summed over.
package enum UsagePeriod: String, CaseIterable, Sendable {
  case hour, day, week, month

  /// The machine's calendar, its weeks starting on Monday (as in ISO 8601).
  package static var calendar: Calendar {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = .current
    calendar.firstWeekday = 2
    return calendar
  }

  /// The start of the period `date` falls in.
  package func start(of date: Date, _ calendar: Calendar) -> Date {
    switch self {
    case .hour: date
    case .day: calendar.startOfDay(for: date)
    case .week: calendar.dateInterval(of: .weekOfYear, for: date)?.start ?? date
    case .month: calendar.dateInterval(of: .month, for: date)?.start ?? date
    }
  }

  /// The period starting at `date`, for people.
  package func label(_ date: Date, _ calendar: Calendar) -> String {
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
    let day = String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    return switch self {
    // Minutes: :30 in some time zones.
    case .hour: day + String(format: " %02d:%02d", c.hour ?? 0, c.minute ?? 0)
    case .day: day
    case .week: "week of " + day
    case .month: String(format: "%04d-%02d", c.year ?? 0, c.month ?? 0)
    }
  }
}

/// The hits and misses of one hour, day, week or month: a row of `recall
/// stats --by` and of the viewer's usage chart (`/api/v1/usage`).
package struct PeriodRow: TableRow {
  package static let columns = [
    "period", "hits", "misses", "hit_rate", "time_saved", "compute_time",
  ]
  /// When the period starts.
  package let period: Date
  package let label: String
  package let hits: Int
  package let misses: Int
  package let hitRate: Double
  /// Seconds the hits saved.
  package let timeSaved: Double
  /// Seconds spent computing the misses.
  package let computeTime: Double

  package var cells: [String] {
    [
      label, "\(hits)", "\(misses)", String(format: "%.0f %%", hitRate * 100), seconds(timeSaved),
      seconds(computeTime),
    ]
  }

  private enum CodingKeys: String, CodingKey {
    case period, hits, misses
    case hitRate = "hit_rate"
    case timeSaved = "time_saved"
    case computeTime = "compute_time"
  }

  /// One row per period with counts, oldest first: of `op`'s counts (every
  /// op's when `nil`), since the start of `since`'s day (if given).
  package static func rows(in store: Store, by period: UsagePeriod, op: OpID?, since: Date?)
    throws -> [PeriodRow]
  {
    let calendar = UsagePeriod.calendar
    var periods: [(start: Date, use: OpUsage)] = []
    for count in try store.usage(of: op, since: since) {
      let start = period.start(of: count.period, calendar)
      if let since, start < since && period == .hour { continue }
      if periods.last?.start == start {
        periods[periods.count - 1].use.add(count)
      } else {
        var use = OpUsage(op: count.op, period: start)
        use.add(count)
        periods.append((start, use))
      }
    }
    return periods.map { start, use in
      let calls = use.hits + use.misses
      return PeriodRow(
        period: start, label: period.label(start, calendar), hits: use.hits,
        misses: use.misses, hitRate: calls == 0 ? 0 : Double(use.hits) / Double(calls),
        timeSaved: use.timeSaved.inSeconds, computeTime: use.computeTime.inSeconds)
    }
  }
}

extension PeriodRow {
  /// The periods from the first row's (or `count` periods before the last
  /// row's, if later) to the last row's, those without counts as rows of
  /// zeros: a time axis for a chart.
  package static func continuous(_ rows: [PeriodRow], by period: UsagePeriod, last count: Int)
    -> [PeriodRow]
  {
    guard let last = rows.last?.period, count > 0 else { return [] }
    let calendar = UsagePeriod.calendar
    let component: Calendar.Component =
      switch period {
      case .hour: .hour
      case .day: .day
      case .week: .weekOfYear
      case .month: .month
      }
    let byStart = Dictionary(rows.map { ($0.period, $0) }, uniquingKeysWith: { first, _ in first })
    var filled: [PeriodRow] = []
    for back in (0..<count).reversed() {
      guard let date = calendar.date(byAdding: component, value: -back, to: last) else { continue }
      let start = period.start(of: date, calendar)
      // Days before the first with counts are left out.
      if let first = rows.first?.period, start < first {
        continue
      }
      filled.append(
        byStart[start]
          ?? PeriodRow(
            period: start, label: period.label(start, calendar), hits: 0, misses: 0, hitRate: 0,
            timeSaved: 0, computeTime: 0))
    }
    return filled
  }
}

/// One version of an op: a row of `recall versions` and of the viewer's op
/// and versions pages (`/api/v1/versions`).
package struct VersionRow: TableRow {
  package static let columns = [
    "op_version", "semantic_version", "first_seen", "last_seen", "calls", "current",
  ]
  package let opVersion: String
  package let semanticVersion: String
  package let firstSeen: Date
  package let lastSeen: Date
  package let calls: Int
  package let current: Bool

  package var cells: [String] {
    [
      short(opVersion), semanticVersion == opVersion ? "=" : short(semanticVersion),
      iso(firstSeen), iso(lastSeen), "\(calls)", current ? "current" : "",
    ]
  }

  private enum CodingKeys: String, CodingKey {
    case calls, current
    case opVersion = "op_version"
    case semanticVersion = "semantic_version"
    case firstSeen = "first_seen"
    case lastSeen = "last_seen"
  }

  /// The op's versions, as the store lists them.
  package static func rows(of op: OpID, in store: Store) throws -> [VersionRow] {
    try store.versions(of: op).map {
      VersionRow(
        opVersion: $0.version.hex, semanticVersion: $0.semanticVersion.hex,
        firstSeen: $0.firstSeen, lastSeen: $0.lastSeen, calls: $0.calls, current: $0.isCurrent)
    }
  }
}

/// One component's change between two versions of an op: a row of `recall
/// diff --json` and of the viewer's versions page (`/api/v1/diff`).
package struct DiffRow: TableRow {
  package static let columns = ["component", "change", "diff", "shares_results"]
  package let component: String
  package let change: String
  package let diff: String
  package let sharesResults: Bool

  package var cells: [String] { [component, change, diff, sharesResults ? "yes" : "no"] }

  private enum CodingKeys: String, CodingKey {
    case component, change, diff
    case sharesResults = "shares_results"
  }

  /// The rows of `diff`, every one saying whether the two versions share
  /// their results.
  package static func rows(of diff: VersionDiff, sharingResults shared: Bool) -> [DiffRow] {
    diff.changes.map { change in
      let kind =
        switch change {
        case .added: "added"
        case .removed: "removed"
        case .changed: "changed"
        }
      return DiffRow(
        component: change.identity, change: kind, diff: change.unifiedDiff, sharesResults: shared)
    }
  }
}

/// Two versions of an op compared, as `recall diff` and the viewer's versions
/// page compare them.
package struct VersionComparison {
  package let op: OpID
  package let from: CodeFingerprint
  package let to: CodeFingerprint
  package let diff: VersionDiff
  /// Why the newer version shares the older one's results (accepted as
  /// equivalent, or adding parameters), or `nil` when it does not.
  package let sharing: String?

  /// Compares `from` with `to` (prefixes of versions): by default the other
  /// version used last (after a revert, the newer code) with the current one.
  package init(_ op: OpID, from: String?, to: String?, in store: Store) throws {
    let versions = try store.versions(of: op)
    guard let current = try store.currentVersion(of: op) else {
      throw CommandFailure("The store has no recorded versions of \(op).")
    }
    let to = try to.map { try store.version(of: op, matching: $0) } ?? current.version
    let newer = versions.first { $0.version == to }
    let older: OpVersion?
    if let given = from {
      let from = try store.version(of: op, matching: given)
      older = versions.first { $0.version == from }
      self.from = from
    } else {
      guard
        let previous = versions.filter({ $0.version != to })
          .max(by: { ($0.lastSeen, $0.firstSeen) < ($1.lastSeen, $1.firstSeen) })
      else {
        throw CommandFailure("\(op) has one version only; there is nothing to compare it with.")
      }
      older = previous
      self.from = previous.version
    }
    self.op = op
    self.to = to
    diff = try store.diff(op, from: self.from, to: to)
    if let older, let newer, older.semanticVersion == newer.semanticVersion {
      let added = newer.parameters.filter { !older.parameters.contains($0) }
      sharing =
        added.isEmpty
        ? "accepted as equivalent"
        : "adds parameter\(added.count == 1 ? "" : "s") \(added.joined(separator: ", "))"
    } else {
      sharing = nil
    }
  }

  /// The changes as rows.
  package var rows: [DiffRow] { DiffRow.rows(of: diff, sharingResults: sharing != nil) }
}
