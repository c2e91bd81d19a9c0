import ArgumentParser
import Foundation
import RecallCore
import RecallRows

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
        let selection = try StaleSelection(
          in: store, op: nil, unusedFor: force ? .zero : .seconds(unusedFor * 60))
        selection.printListing("Will forget", forcing: "forgets", unusedForMinutes: unusedFor)
        guard !selection.calls.isEmpty else {
          print("Forgot 0 calls.")
          return
        }
        guard
          try confirm(
            "Forget them?", yes: yes,
            refusal: "Not forgetting without confirmation: pass --yes to forget these calls.")
        else {
          print("Forgot nothing.")
          return
        }
        forgotten = try store.forget(selection.stillStale(in: store))
      } else {
        let ids = try calls.map { try findCall($0, in: store, path: options.path).id }
        forgotten = try store.forget(ids, includingDownstream: downstream)
      }
      print("Forgot \(forgotten.count) call\(forgotten.count == 1 ? "" : "s").")
    }
  }
}
