import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// The stale calls `forget --stale` and `prune` act on: those of versions no
/// process used for a while, listed by op version before anything is removed.
struct StaleSelection {
  /// The calls to remove.
  let calls: [CallRecord]
  /// Stale calls kept because a process used their version recently.
  let kept: Int
  let unused: Duration
  let op: OpID?
  let startedBefore: Date?

  init(in store: Store, op: OpID?, unusedFor unused: Duration, startedBefore: Date? = nil) throws {
    self.unused = unused
    self.op = op
    self.startedBefore = startedBefore
    calls = try store.staleCalls(of: op, unusedFor: unused, startedBefore: startedBefore)
    kept = try store.staleCalls(of: op, startedBefore: startedBefore).count - calls.count
  }

  /// Prints why some calls are kept, and the calls to remove by op version,
  /// with the bytes of their results.
  func printListing(_ verb: String, forcing: String, unusedForMinutes minutes: Int) {
    if kept > 0 {
      print(
        "Keeping \(counted(kept, "stale call")) of versions used in the last \(minutes) minutes "
          + "(--force \(forcing) them too).")
    }
    guard !calls.isEmpty else { return }
    let total = calls.map(\.outputSize).reduce(0, +)
    print("\(verb) \(counted(calls.count, "stale call")) (results of \(bytes(total))):")
    var byVersion: [String: (calls: Int, bytes: Int)] = [:]
    for call in calls {
      let key = "\(call.op.name) \(call.opVersion)"
      byVersion[key, default: (0, 0)].calls += 1
      byVersion[key, default: (0, 0)].bytes += call.outputSize
    }
    for (version, count) in byVersion.sorted(by: { $0.key < $1.key }) {
      print("  \(version): \(counted(count.calls, "call")), \(bytes(count.bytes))")
    }
  }

  /// The selected calls that are still stale: a program may have run their
  /// version again since they were listed.
  func stillStale(in store: Store) throws -> [CallID] {
    let still = Set(
      try store.staleCalls(of: op, unusedFor: unused, startedBefore: startedBefore).map(\.id))
    return calls.map(\.id).filter(still.contains)
  }
}

/// Asks on the terminal, unless `yes`; without a terminal, `--yes` is
/// required, and the error says so (`refusal`).
func confirm(_ question: String, yes: Bool, refusal: String) throws -> Bool {
  if yes { return true }
  guard isatty(STDIN_FILENO) != 0 else { throw ValidationError(refusal) }
  Swift.print("\(question) [y/N] ", terminator: "")
  return ["y", "yes"].contains(readLine()?.lowercased() ?? "")
}
