import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall environment CALL [--diff]`
struct EnvironmentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "environment",
    abstract:
      "Show what a call ran in: its code's git commit and uncommitted changes, the compiler, "
      + "the dependencies, the system.",
    discussion: """
      The build plugin records the package's commit, its uncommitted changes, the compiler \
      and Package.resolved's pins; a call made without it has no commit, compiler or \
      dependencies. To rebuild what produced a result: git checkout COMMIT, then \
      recall environment CALL --diff | git apply (in the repository's root).
      """)

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "The call's id, its first characters, or a tag's name.")
  var id: String
  @Flag(
    help: "Print the uncommitted changes the code had over its commit, as a patch for git apply.")
  var diff = false

  func run() throws {
    let store = try options.open()
    let call = try reporting { try findCall(id, in: store, path: options.path) }
    guard diff else {
      options.print(
        try reporting { try CallFieldRow.environment(of: call, in: store, listing: true) })
      return
    }
    let environment = try reporting { try store.environment(of: call) }
    guard let environment, environment.commit != nil else {
      throw CommandFailure(
        "The call \(call.id) has no recorded commit: its module was built without RecallPlugin, "
          + "outside a git checkout, or before Recall recorded environments.")
    }
    guard environment.changesDigest != nil else {
      FileHandle.standardError.write(
        Data("The code had no uncommitted changes over \(environment.commit ?? "").\n".utf8))
      return
    }
    guard let changes = try reporting({ try store.uncommittedChanges(of: environment) }) else {
      throw CommandFailure(
        "The store does not have the changes with digest \(environment.changesDigest ?? ""): the "
          + "module was built with RECALL_OMIT_CHANGES, or they were recorded elsewhere.")
    }
    // Cut when the module was built (more than a megabyte): not a patch to apply.
    guard Digest.sha256(changes).hex == environment.changesDigest else {
      throw CommandFailure(
        "The changes recorded for \(call.id) are incomplete (cut at 1 MiB when the module was "
          + "built): they cannot rebuild its sources. Their digest is "
          + "\(environment.changesDigest ?? "").")
    }
    FileHandle.standardOutput.write(Data(changes.utf8))
  }
}
