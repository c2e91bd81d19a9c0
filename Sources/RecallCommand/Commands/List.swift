import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall ls`
struct List: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls", abstract: "List the store's ops with their calls, versions and bytes.")

  @OptionGroup var options: StoreOptions

  struct Row: TableRow {
    static let columns = ["op", "calls", "versions", "output_bytes", "last_call"]
    let op: String
    let calls: Int
    let versions: Int
    let outputBytes: Int
    @Nullable var lastCall: Date?

    var cells: [String] {
      [op, "\(calls)", "\(versions)", bytes(outputBytes), lastCall.map(iso) ?? "-"]
    }

    private enum CodingKeys: String, CodingKey {
      case op, calls, versions
      case outputBytes = "output_bytes"
      case lastCall = "last_call"
    }
  }

  func run() throws {
    let store = try options.open()
    let rows = try reporting { try store.ops() }.map {
      Row(
        op: $0.op.name, calls: $0.calls, versions: $0.versions, outputBytes: $0.outputBytes,
        lastCall: $0.lastCall)
    }
    options.print(rows)
  }
}
