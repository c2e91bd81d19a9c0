import ArgumentParser
import Foundation

/// `recall`: look into and manage a Recall store from the command line.
@main
struct RecallCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recall",
    abstract: "Look into and manage a Recall store.",
    discussion: """
      The store is the directory given with --store, else $RECALL_STORE, else ./.recall. \
      Commands that only read open it read-only. Tables are for people; --json prints \
      JSON Lines, one object per row, each with a "version" field. Exit status: 0 on \
      success; 1 when the store cannot be opened or what was named (an op, a call, a \
      version) is not in it; 64 for a command line that is not valid (with the usage).
      """,
    subcommands: [
      List.self, Calls.self, Show.self, Versions.self, Diff.self, Stale.self, Outdated.self,
      Accept.self,
      Forget.self, Prune.self,
      CollectGarbage.self, TagCommand.self, TableCommand.self, Graph.self, Stats.self, Running.self,
      Audit.self, Why.self, EnvironmentCommand.self, Export.self, Import.self, Serve.self,
    ])

  /// Runs the command line, with the store options also accepted before the
  /// subcommand (`recall --store PATH ls`), where people type them.
  static func main() {
    main(placingStoreOptions(Array(CommandLine.arguments.dropFirst())))
  }

  /// Moves `--store PATH` (or `--store=PATH`) and `--json` given before the
  /// subcommand to just after it, where the subcommands declare them.
  static func placingStoreOptions(_ arguments: [String]) -> [String] {
    var leading: [String] = []
    var index = arguments.startIndex
    while index < arguments.endIndex {
      let argument = arguments[index]
      if argument == "--store", index + 1 < arguments.endIndex {
        leading += [argument, arguments[index + 1]]
        index += 2
      } else if argument.hasPrefix("--store=") || argument == "--json" {
        leading.append(argument)
        index += 1
      } else {
        break
      }
    }
    guard !leading.isEmpty, index < arguments.endIndex, !arguments[index].hasPrefix("-") else {
      return arguments
    }
    return [arguments[index]] + leading + arguments[(index + 1)...]
  }
}
