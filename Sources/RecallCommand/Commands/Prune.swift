import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall prune [--op OP] [--older-than YYYY-MM-DD] [--dry-run]`
struct Prune: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Remove the results the current code can no longer be served (stale versions), and the values only they used.",
    discussion: """
      Lists the stale calls it will remove by op version, with the bytes of their results, \
      and asks first (or takes --yes); --dry-run only lists them. It keeps the calls of \
      versions some process used in the last --unused-for minutes (a program that is still \
      running may want them) unless --force, and values a tag names. Then it deletes the \
      values no call uses any more, as 'recall gc' does. Safe while programs use the store.
      """)

  @OptionGroup var options: StoreOptions
  @Option(help: "Only this op's calls.")
  var op: String?
  @Option(
    help:
      "Only calls started before this date (YYYY-MM-DD, in this machine's time zone).")
  var olderThan: String?
  @Option(help: "Keep calls of versions used in the last this many minutes.")
  var unusedFor = 60
  @Flag(help: "Remove stale calls of recently used versions too.")
  var force = false
  @Flag(help: "List what would be removed, and remove nothing.")
  var dryRun = false
  @Flag(name: .shortAndLong, help: "Do not ask before removing.")
  var yes = false

  func validate() throws {
    _ = try olderThanDate()
    guard (0...5_256_000).contains(unusedFor) else {
      throw ValidationError(
        "--unused-for takes a number of minutes, from 0 to 5256000 (ten years).")
    }
  }

  private func olderThanDate() throws -> Date? {
    try olderThan.map { text in
      guard let date = UsagePeriod.calendar.day(parsing: text) else {
        throw ValidationError("--older-than takes a date like 2026-11-01; got '\(text)'.")
      }
      return date
    }
  }

  func run() throws {
    let store = try options.open(writing: !dryRun)
    try reporting {
      let op = try self.op.map { try findOp($0, in: store) }
      let selection = try StaleSelection(
        in: store, op: op, unusedFor: force ? .zero : .seconds(unusedFor * 60),
        startedBefore: try olderThanDate())
      selection.printListing(
        dryRun ? "Would remove" : "Will remove", forcing: "removes", unusedForMinutes: unusedFor)
      guard !selection.calls.isEmpty else {
        print("No stale calls to remove.")
        return
      }
      guard !dryRun else {
        print("Removed nothing (--dry-run).")
        return
      }
      guard
        try confirm(
          "Remove them?", yes: yes,
          refusal: "Not removing without confirmation: pass --yes to remove these calls.")
      else {
        print("Removed nothing.")
        return
      }
      let forgotten = try store.forget(selection.stillStale(in: store))
      let garbage = try store.collectGarbage()
      print(
        "Removed \(counted(forgotten.count, "call")); deleted \(counted(garbage.values, "value")) "
          + "(\(bytes(garbage.bytes))) no call uses any more.")
    }
  }
}
