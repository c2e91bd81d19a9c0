import ArgumentParser
import Foundation
import RecallCore

/// `recall running`
struct Running: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the calls processes are computing now (their claims), oldest first.")

  @OptionGroup var options: StoreOptions

  struct Row: TableRow {
    static let columns = ["id", "op", "host", "pid", "running", "expires_in"]
    let id: String
    let op: String
    let host: String
    let pid: Int
    /// Seconds since the call was claimed.
    let running: Double
    /// Seconds until the claim's lease runs out, unless its holder renews it.
    let expiresIn: Double

    var cells: [String] { [short(id), op, host, "\(pid)", seconds(running), seconds(expiresIn)] }

    private enum CodingKeys: String, CodingKey {
      case id, op, host, pid, running
      case expiresIn = "expires_in"
    }
  }

  func run() throws {
    let store = try options.open()
    let now = Date()
    let rows = try reporting { try store.claims(at: now) }.map { claim in
      Row(
        id: claim.call.hex, op: claim.op.name, host: claim.claimant.host, pid: claim.claimant.pid,
        running: now.timeIntervalSince(claim.claimedAt),
        expiresIn: claim.expiresAt.timeIntervalSince(now))
    }
    if rows.isEmpty && !options.json {
      print("No call is being computed.")
    } else {
      options.print(rows)
    }
  }
}
