import ArgumentParser
import Foundation
import RecallCore

/// `recall gc`
struct CollectGarbage: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gc",
    abstract:
      "Delete values that no call uses and no tag names; safe while programs use the store.")

  @OptionGroup var options: StoreOptions
  @Option(
    help:
      "Keep blob files no value names if written in the last this many seconds (a program may be committing them)."
  )
  var grace = 3600

  func run() throws {
    let store = try options.open(writing: true)
    let report = try reporting {
      try store.collectGarbage(keepingFilesNewerThan: Date(timeIntervalSinceNow: -Double(grace)))
    }
    print(
      "Deleted \(counted(report.values, "value")) (\(bytes(report.bytes)))"
        + (report.orphanFiles > 0 ? " and \(counted(report.orphanFiles, "orphan blob file"))" : "")
        + ".")
  }
}
