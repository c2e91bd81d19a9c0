import ArgumentParser
import Foundation
import RecallCore

/// `recall stats [--by PERIOD]`
struct Stats: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Summarize what the store holds and how it was used: calls, hits, misses, time saved, bytes.",
    discussion: """
      Without --by, one row per op: its stored calls, versions and stale calls, how often \
      processes found its calls stored (hits) or ran them (misses), the time the hits saved, \
      what recomputing every stored call would cost, the bytes of its results kept, the time \
      the hits saved per MiB kept (what keeping them is worth), how many \
      results its storage policy did not store (kept in memory only, computed too quickly, or \
      too large; @Memoized(storage:), Store.Configuration.storage), and how many of its calls' \
      results were evicted to keep the store within its disk budget (`recall gc --budget`, \
      Store.Configuration.diskBudget) and not computed again since. With --by, \
      one row per hour, day, week or month (in this machine's time zone). Processes save their \
      counts at most ten seconds after a call and when they exit.
      """)

  @OptionGroup var options: StoreOptions
  @Option(
    help:
      "Show hits and misses over time, one row per period: \(Period.allCases.map(\.rawValue).joined(separator: ", "))."
  )
  var by: Period?
  @Option(help: "Only this op's counts (with --by).")
  var op: String?
  @Option(
    help: "Only periods since this date (YYYY-MM-DD, in this machine's time zone; with --by).")
  var since: String?

  enum Period: String, ExpressibleByArgument, CaseIterable {
    case hour, day, week, month
  }

  func validate() throws {
    // A bad date is the first thing to fix, with or without --by.
    _ = try sinceDate(Self.calendar)
    if by == nil && (op != nil || since != nil) {
      throw ValidationError(
        "--op and --since select periods: add --by day (or hour, week, month).")
    }
  }

  func run() throws {
    let store = try options.open()
    try reporting {
      if let by { try printPeriods(store, by) } else { try printOps(store) }
    }
  }

  /// One op's counts, or the whole store's (`op` is `(store)`).
  struct OpRow: TableRow {
    static let columns = [
      "op", "calls", "versions", "stale", "hits", "misses", "time_saved", "recompute_time",
      "bytes", "saved_per_mib", "not_stored", "evicted",
    ]
    let op: String
    let calls: Int
    @Nullable var versions: Int?
    let stale: Int
    let hits: Int
    let misses: Int
    /// Seconds the hits saved.
    let timeSaved: Double
    /// Seconds recomputing every stored call would take.
    let recomputeTime: Double
    /// The bytes of the op's results kept (not evicted); the store's: of
    /// every value.
    let byteCount: Int
    var bytesText: String?
    /// Seconds the hits saved per MiB of the op's results kept: what keeping
    /// them is worth; `nil` without bytes.
    @Nullable var savedPerMiB: Double?
    /// Results the storage policy did not store, and their bytes.
    let notStored: Int
    let notStoredBytes: Int
    /// Calls whose results are evicted, and the bytes those took.
    let evicted: Int
    let evictedBytes: Int

    var cells: [String] {
      [
        op, "\(calls)", versions.map(String.init) ?? "", "\(stale)", "\(hits)", "\(misses)",
        seconds(timeSaved), seconds(recomputeTime), bytesText ?? bytes(byteCount),
        savedPerMiB.map { seconds($0) + "/MiB" } ?? "",
        notStored == 0 ? "0" : "\(notStored) (\(bytes(notStoredBytes)))",
        evicted == 0 ? "0" : "\(evicted) (\(bytes(evictedBytes)))",
      ]
    }

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
  }

  /// The hits and misses of one hour, day, week or month.
  struct PeriodRow: TableRow {
    static let columns = ["period", "hits", "misses", "hit_rate", "time_saved", "compute_time"]
    /// When the period starts.
    let period: Date
    let label: String
    let hits: Int
    let misses: Int
    let hitRate: Double
    /// Seconds the hits saved.
    let timeSaved: Double
    /// Seconds spent computing the misses.
    let computeTime: Double

    var cells: [String] {
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
  }

  private func printOps(_ store: Store) throws {
    let summary = try store.summary()
    var use: [OpID: OpUsage] = [:]
    for count in try store.usage() {
      use[count.op, default: OpUsage(op: count.op, period: .distantPast)].add(count)
    }
    var rows: [OpRow] = []
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
      let stale = op.calls == 0 ? 0 : try store.staleCalls(of: op.op).count
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
        OpRow(
          op: op.op.name, calls: op.calls, versions: op.versions, stale: stale, hits: count.hits,
          misses: count.misses, timeSaved: count.timeSaved.inSeconds, recomputeTime: time,
          byteCount: kept, savedPerMiB: OpRow.perMiB(count.timeSaved.inSeconds, kept),
          notStored: count.notStored, notStoredBytes: count.notStoredBytes,
          evicted: evicted.calls, evictedBytes: evicted.bytes))
    }
    rows.append(
      OpRow(
        op: "(store)", calls: summary.calls, versions: nil, stale: total.stale,
        hits: total.use.hits, misses: total.use.misses,
        timeSaved: total.use.timeSaved.inSeconds, recomputeTime: total.time,
        byteCount: summary.bytes,
        bytesText: "\(bytes(summary.bytes)) in \(counted(summary.values, "value"))",
        savedPerMiB: OpRow.perMiB(total.use.timeSaved.inSeconds, total.resultBytes),
        notStored: total.use.notStored, notStoredBytes: total.use.notStoredBytes,
        evicted: total.evicted.calls, evictedBytes: total.evicted.bytes))
    options.print(rows)
  }

  /// The machine's calendar, its weeks starting on Monday (as in ISO 8601).
  static var calendar: Calendar {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = .current
    calendar.firstWeekday = 2
    return calendar
  }

  /// The start of the `--since` day, if given.
  private func sinceDate(_ calendar: Calendar) throws -> Date? {
    try since.map { text in
      guard let date = calendar.day(parsing: text) else {
        throw ValidationError("--since takes a date like 2026-11-01; got '\(text)'.")
      }
      return date
    }
  }

  private func printPeriods(_ store: Store, _ period: Period) throws {
    let calendar = Self.calendar
    let since = try sinceDate(calendar)
    let op = try self.op.map { try findOp($0, in: store) }
    var periods: [(start: Date, use: OpUsage)] = []
    for count in try store.usage(of: op, since: since) {
      let start = Self.start(of: count.period, by: period, calendar)
      if let since, start < since && period == .hour { continue }
      if periods.last?.start == start {
        periods[periods.count - 1].use.add(count)
      } else {
        var use = OpUsage(op: count.op, period: start)
        use.add(count)
        periods.append((start, use))
      }
    }
    let rows = periods.map { start, use in
      let calls = use.hits + use.misses
      return PeriodRow(
        period: start, label: Self.label(start, by: period, calendar), hits: use.hits,
        misses: use.misses, hitRate: calls == 0 ? 0 : Double(use.hits) / Double(calls),
        timeSaved: use.timeSaved.inSeconds, computeTime: use.computeTime.inSeconds)
    }
    if rows.isEmpty && !options.json {
      print(
        "No hits or misses recorded\(op.map { " for \($0.name)" } ?? "")\(since == nil ? "" : " since \(self.since!)")."
      )
    } else {
      options.print(rows)
    }
  }

  private static func start(of date: Date, by period: Period, _ calendar: Calendar) -> Date {
    switch period {
    case .hour: date
    case .day: calendar.startOfDay(for: date)
    case .week: calendar.dateInterval(of: .weekOfYear, for: date)?.start ?? date
    case .month: calendar.dateInterval(of: .month, for: date)?.start ?? date
    }
  }

  private static func label(_ date: Date, by period: Period, _ calendar: Calendar) -> String {
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
    let day = String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    return switch period {
    // Minutes: :30 in some time zones.
    case .hour: day + String(format: " %02d:%02d", c.hour ?? 0, c.minute ?? 0)
    case .day: day
    case .week: "week of " + day
    case .month: String(format: "%04d-%02d", c.year ?? 0, c.month ?? 0)
    }
  }
}
