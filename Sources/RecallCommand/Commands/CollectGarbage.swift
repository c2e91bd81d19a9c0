import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall gc [--budget SIZE]`
struct CollectGarbage: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gc",
    abstract:
      "Delete values that no call uses and no tag names; safe while programs use the store.",
    discussion: """
      With --budget, then evict stored results until the store's values fit the budget: \
      first those cheapest to compute again per byte (their calls' recorded duration ÷ their \
      bytes), and among equally cheap ones those computed longest ago. An evicted call keeps its \
      record (inputs, timing, version), shown as evicted by `recall show` and `recall stats`, \
      and is computed again when next called. Inputs of calls, tagged results and results \
      stored by parts (several outputs, lists by element) are never evicted: tag a result \
      (`recall tag`) to pin it. Programs keep a budget by themselves with \
      Store.Configuration.diskBudget.
      """)

  @OptionGroup var options: StoreOptions
  @Option(
    help:
      "Keep blob files no value names if written in the last this many seconds (a program may be committing them)."
  )
  var grace = 3600
  @Option(
    help: ArgumentHelp(
      "Evict results until the store's values take at most this much (20GB, 500MiB, 1.5G, or bytes).",
      valueName: "size"))
  var budget: String?

  func validate() throws {
    _ = try budgetBytes()
  }

  private func budgetBytes() throws -> Int? {
    try budget.map { text in
      guard let bytes = Readable.size(parsing: text) else {
        throw ValidationError(
          "--budget takes a size like 20GB, 500MiB or 1.5G (or a number of bytes); got '\(text)'.")
      }
      return bytes
    }
  }

  func run() throws {
    let store = try options.open(writing: true)
    let budget = try budgetBytes()
    let (report, eviction) = try reporting {
      (
        try store.collectGarbage(keepingFilesNewerThan: Date(timeIntervalSinceNow: -Double(grace))),
        try budget.map { try store.evict(toFit: $0) }
      )
    }
    print(
      "Deleted \(counted(report.values, "value")) (\(bytes(report.bytes)))"
        + (report.orphanFiles > 0 ? " and \(counted(report.orphanFiles, "orphan blob file"))" : "")
        + (report.environments > 0
          ? ", and \(counted(report.environments, "environment")) no call names" : "") + ".")
    guard let eviction else { return }
    if eviction.values > 0 {
      print(
        "Evicted \(counted(eviction.values, "result")) (\(bytes(eviction.bytes))) to fit the "
          + "budget of \(bytes(eviction.budget)): the store's values take \(bytes(eviction.bytesAfter))."
      )
    } else if eviction.isWithinBudget {
      print(
        "Nothing to evict: the store's values take \(bytes(eviction.bytesAfter)), within the "
          + "budget of \(bytes(eviction.budget)).")
    }
    if !eviction.isWithinBudget {
      print(
        "Still over the budget by \(bytes(eviction.bytesAfter - eviction.budget)): what remains "
          + "is inputs of calls, tagged results and results stored by parts (several outputs, "
          + "lists by element), which are never evicted. Forget calls "
          + "(`recall forget`, `recall prune`) or remove tags (`recall tag --remove`) to go under it."
      )
    }
  }
}
