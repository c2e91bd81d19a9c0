import ArgumentParser
import Foundation
import RecallCore
import RecallRows

/// `recall audit [OP]`
struct Audit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "List the audits of stored results: per op, how many hits ran again and which differed.",
    discussion: """
      Programs record audits when run with RECALL_AUDIT set to the fraction of hits to run \
      again (0.1 for one in ten, 1 for every hit): each audited hit's call runs with the \
      current code and its result is compared with the stored one. A call that differed \
      depends on more than its inputs and code (the clock, an unseeded generator, a data \
      race, the order of a parallel reduction), or its code changed in a way Recall did not \
      see.
      """)

  @OptionGroup var options: StoreOptions
  @ArgumentParser.Argument(help: "Only this op's audits.")
  var op: String?

  /// One audit that differed, as JSON shows it.
  struct Finding: Encodable {
    let call: String
    let trial: Int
    let storedCID: String
    @Nullable var auditedCID: String?
    @Nullable var error: String?
    let auditedAt: Date
    let host: String
    let pid: Int

    private enum CodingKeys: String, CodingKey {
      case call, trial, error, host, pid
      case storedCID = "stored_cid"
      case auditedCID = "audited_cid"
      case auditedAt = "audited_at"
    }
  }

  struct Row: TableRow {
    static let columns = ["op", "checked", "differed", "clean", "last_audit"]
    let op: String
    let checked: Int
    let differed: Int
    let clean: Bool
    let lastAudit: Date
    /// The audits that differed, most recent first.
    let differing: [Finding]

    var cells: [String] {
      [op, String(checked), String(differed), clean ? "yes" : "no", iso(lastAudit)]
    }

    private enum CodingKeys: String, CodingKey {
      case op, checked, differed, clean, differing
      case lastAudit = "last_audit"
    }
  }

  func run() throws {
    let store = try options.open()
    try reporting {
      let op = try self.op.map { try findOp($0, in: store) }
      let summaries = try store.auditSummaries(of: op)
      guard !summaries.isEmpty || options.json else {
        print(
          (op.map { "No audits of \($0.name)." } ?? "No audits.")
            + " Run a program with RECALL_AUDIT=0.1 (one hit in ten; 1 for every hit) to "
            + "record some.")
        return
      }
      options.print(
        summaries.map { summary in
          Row(
            op: summary.op.name, checked: summary.checked, differed: summary.differing.count,
            clean: summary.isClean, lastAudit: summary.lastAudit,
            differing: summary.differing.map { audit in
              Finding(
                call: audit.call.hex, trial: audit.trial, storedCID: audit.storedCID.hex,
                auditedCID: audit.auditedCID?.hex, error: audit.error, auditedAt: audit.auditedAt,
                host: audit.host, pid: audit.pid)
            })
        })
      guard !options.json else { return }
      for summary in summaries where !summary.isClean {
        print("\n\(summary.op.name): \(summary.differing.count) audits differed")
        for audit in summary.differing {
          let found = audit.auditedCID.map { "gave \($0)" } ?? (audit.error ?? "failed")
          print(
            "  \(audit.call)  trial \(audit.trial)  stored \(audit.storedCID), \(found)  "
              + "(\(iso(audit.auditedAt)) on \(audit.host), pid \(audit.pid))")
        }
      }
    }
  }
}
