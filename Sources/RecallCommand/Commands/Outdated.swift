import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall outdated`
struct Outdated: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List stored results the code as built now would not reuse, and why.",
    discussion: """
      Compares the store with the op versions the build plugin wrote when the package was \
      last built (RecallVersions.json under BUILD-PATH/plugins/outputs, one per module; the \
      newest of each module when several configurations were built): a call is outdated when \
      its op's code changed (stale) or when an input came from an outdated call (downstream). \
      Nothing runs. The program brings them up to date with `store.refresh(...)`, or by \
      running again.
      """)

  @OptionGroup var options: StoreOptions
  @Option(
    name: .customLong("build-path"),
    help: ArgumentHelp("The package's build directory.", valueName: "directory"))
  var buildPath = ".build"
  @Option(
    name: .customLong("versions"),
    help: ArgumentHelp(
      "A version file the build plugin wrote (repeat for several modules); instead of searching the build directory.",
      valueName: "file"))
  var versionFiles: [String] = []

  /// One outdated call (`--json`).
  struct Row: TableRow {
    static let columns = ["id", "op", "op_version", "kind", "changed_op", "from", "to", "why"]
    let id: String
    let op: String
    let opVersion: String
    /// `stale` (its op's code changed) or `downstream` (an input came from
    /// an outdated call).
    let kind: String
    let changedOp: String
    let from: String
    let to: String
    let why: [String]

    var cells: [String] {
      [
        short(id), op, short(opVersion), kind, changedOp, short(from), short(to),
        why.joined(separator: ", "),
      ]
    }

    private enum CodingKeys: String, CodingKey {
      case id, op, kind, from, to, why
      case opVersion = "op_version"
      case changedOp = "changed_op"
    }
  }

  /// The calls one change made outdated, as the table shows them.
  struct Group: TableRow {
    static let columns = ["op", "from", "to", "stale", "downstream", "why"]
    let op: String
    let from: String
    let to: String
    let stale: Int
    let downstream: Int
    let why: String

    var cells: [String] { [op, short(from), short(to), String(stale), String(downstream), why] }
  }

  func run() throws {
    let store = try options.open()
    try reporting {
      let files =
        versionFiles.isEmpty
        ? try CodeVersions.manifests(under: URL(filePath: buildPath))
        : versionFiles.map { URL(filePath: $0) }
      guard !files.isEmpty else {
        throw RecallError.notFound(
          "version files (\(CodeVersions.fileName))", path: buildPath + "/plugins/outputs",
          hint:
            "Build the package with the Recall plugin (`swift build`), pass its build directory "
            + "with --build-path, or name the files with --versions.")
      }
      let report = try store.outdated(current: CodeVersions(contentsOf: files))
      guard !options.json else {
        var rows: [Row] = []
        for group in report.groups {
          let change = group.change
          for (kind, calls) in [("stale", group.stale), ("downstream", group.downstream)] {
            rows += calls.map {
              Row(
                id: $0.id.hex, op: $0.op.name, opVersion: $0.opVersion.hex, kind: kind,
                changedOp: change.op.name, from: change.from.hex, to: change.to.hex,
                why: change.changedComponents)
            }
          }
        }
        return options.print(rows)
      }
      options.print(
        report.groups.map {
          Group(
            op: $0.change.op.name, from: $0.change.from.hex, to: $0.change.to.hex,
            stale: $0.stale.count, downstream: $0.downstream.count,
            why: $0.change.changedComponents.isEmpty
              ? "code not recorded"
              : $0.change.changedComponents.joined(separator: ", ")
                + " changed")
        })
      var summary = [
        report.count == 0 ? "Nothing is outdated." : "\(counted(report.count, "call")) outdated."
      ]
      if report.replaced > 0 {
        summary.append("\(counted(report.replaced, "call")) recomputed under the current code.")
      }
      if report.revalidated > 0 {
        summary.append(
          "\(counted(report.revalidated, "call")) downstream still reused: "
            + "\(report.revalidated == 1 ? "its inputs" : "their inputs") came out the same.")
      }
      if !report.unknownOps.isEmpty {
        summary.append(
          "Not in this build, not checked: \(report.unknownOps.map(\.name).joined(separator: ", "))."
        )
      }
      print(summary.joined(separator: "\n"))
    }
  }
}
