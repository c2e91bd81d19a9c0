import ArgumentParser
import Foundation
import RecallCore

/// `recall forget CALL… | --stale`
struct Forget: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Forget calls so that they are computed again; their values stay until 'recall gc'.",
    discussion: """
      With --stale, it lists the calls it will forget and asks first (or takes --yes), and \
      keeps the calls of versions some process used in the last --unused-for minutes (a \
      program that is still running may want them) unless --force.
      """)

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "Calls: ids, id prefixes or tag names.")
  var calls: [String] = []
  @Flag(help: "Also forget every call that used their results, transitively.")
  var downstream = false
  @Flag(help: "Forget every stale call (see 'recall stale').")
  var stale = false
  @Option(help: "With --stale: keep calls of versions used in the last this many minutes.")
  var unusedFor = 60
  @Flag(help: "With --stale: forget stale calls of recently used versions too.")
  var force = false
  @Flag(name: .shortAndLong, help: "With --stale: do not ask before forgetting.")
  var yes = false

  func validate() throws {
    guard stale != !calls.isEmpty else {
      throw ValidationError("Name the calls to forget, or pass --stale (not both).")
    }
    guard (0...5_256_000).contains(unusedFor) else {
      throw ValidationError(
        "--unused-for takes a number of minutes, from 0 to 5256000 (ten years).")
    }
  }

  func run() throws {
    let store = try options.open(writing: true)
    try reporting {
      let forgotten: [CallID]
      if stale {
        let unused: Duration = force ? .zero : .seconds(unusedFor * 60)
        let doomed = try store.staleCalls(unusedFor: unused)
        let kept = try store.staleCalls().count - doomed.count
        if kept > 0 {
          print(
            "Keeping \(kept) stale call\(kept == 1 ? "" : "s") of versions used in the last \(unusedFor) "
              + "minutes (--force forgets them too).")
        }
        guard !doomed.isEmpty else {
          print("Forgot 0 calls.")
          return
        }
        print("Will forget \(doomed.count) stale call\(doomed.count == 1 ? "" : "s"):")
        var byVersion: [String: Int] = [:]
        for call in doomed { byVersion["\(call.op.name) \(call.opVersion)", default: 0] += 1 }
        for (version, count) in byVersion.sorted(by: { $0.key < $1.key }) {
          print("  \(version): \(count) call\(count == 1 ? "" : "s")")
        }
        guard try confirm("Forget them?") else {
          print("Forgot nothing.")
          return
        }
        // Only those still stale now: a program may have run meanwhile.
        let still = Set(try store.staleCalls(unusedFor: unused).map(\.id))
        forgotten = try store.forget(doomed.map(\.id).filter(still.contains))
      } else {
        let ids = try calls.map { try findCall($0, in: store, path: options.path).id }
        forgotten = try store.forget(ids, includingDownstream: downstream)
      }
      print("Forgot \(forgotten.count) call\(forgotten.count == 1 ? "" : "s").")
    }
  }

  /// Asks on the terminal, unless --yes; without a terminal, --yes is required.
  private func confirm(_ question: String) throws -> Bool {
    if yes { return true }
    guard isatty(STDIN_FILENO) != 0 else {
      throw ValidationError(
        "Not forgetting without confirmation: pass --yes to forget these calls.")
    }
    Swift.print("\(question) [y/N] ", terminator: "")
    return ["y", "yes"].contains(readLine()?.lowercased() ?? "")
  }
}
