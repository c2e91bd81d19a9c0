import ArgumentParser
import Foundation
import RecallCore
import RecallRows

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
      "Show hits and misses over time, one row per period: \(UsagePeriod.allCases.map(\.rawValue).joined(separator: ", "))."
  )
  var by: UsagePeriod?
  @Option(help: "Only this op's counts (with --by).")
  var op: String?
  @Option(
    help: "Only periods since this date (YYYY-MM-DD, in this machine's time zone; with --by).")
  var since: String?

  func validate() throws {
    // A bad date is the first thing to fix, with or without --by.
    _ = try sinceDate(UsagePeriod.calendar)
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

  private func printOps(_ store: Store) throws {
    options.print(try OpStatsRow.rows(in: store))
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

  private func printPeriods(_ store: Store, _ period: UsagePeriod) throws {
    let since = try sinceDate(UsagePeriod.calendar)
    let op = try self.op.map { try findOp($0, in: store) }
    let rows = try PeriodRow.rows(in: store, by: period, op: op, since: since)
    if rows.isEmpty && !options.json {
      print(
        "No hits or misses recorded\(op.map { " for \($0.name)" } ?? "")\(since == nil ? "" : " since \(self.since!)")."
      )
    } else {
      options.print(rows)
    }
  }
}

extension UsagePeriod: ExpressibleByArgument {}
