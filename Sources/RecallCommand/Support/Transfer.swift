import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// Copies the calls of some ops (all when none are named) into the store at
/// `path`, which `creating` creates when there is none (`export --to`).
func transfer(from source: Store, to path: String, creating: Bool, ops names: [String]) throws {
  let target = try StoreOptions.open(path, writing: true, creating: creating)
  try reporting {
    let ops = names.isEmpty ? nil : try names.map { try findOp($0, in: source) }
    print(describe(try source.copy(to: target, ops: ops), into: path))
  }
}

func describe(_ report: TransferReport, into path: String) -> String {
  "Copied \(counted(report.calls, "call")), \(counted(report.values, "value")) "
    + "(\(bytes(report.bytes))), \(counted(report.versions, "version")) and "
    + "\(counted(report.environments, "environment")) into '\(path)'."
    + (report.registrations > 0
      ? " Registered \(counted(report.registrations, "named value")) there." : "")
    + (report.incomplete > 0
      ? " Left out \(counted(report.incomplete, "call")) whose values are gone." : "")
}
