import ArgumentParser
import Foundation
import RecallCore

extension RecallCommand {
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "ls", abstract: "List the store's ops with their calls, versions and bytes.")

    @OptionGroup var options: StoreOptions

    func run() throws {
      let store = try options.open()
      var table = Table(columns: ["op", "calls", "versions", "bytes", "last_call"])
      for op in try reporting({ try store.ops() }) {
        table.rows.append([
          .init(op.op.name), .init("\(op.calls)", json: op.calls),
          .init("\(op.versions)", json: op.versions),
          .init(bytes(op.outputBytes), json: op.outputBytes),
          .init(op.lastCall.map(iso) ?? "-", json: op.lastCall.map(iso) ?? NSNull()),
        ])
      }
      options.print(table)
    }
  }

  struct Calls: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List an op's stored calls, most recent first.")

    @OptionGroup var options: StoreOptions
    @ArgumentParser.Argument(
      help: "The op: its full name, its name without the module, or its base name.")
    var op: String
    @Option(help: "Only calls made with this op version (a prefix is enough).")
    var version: String?
    @Flag(help: "Only calls the current version reuses.")
    var current = false
    @Option(help: "At most this many calls.")
    var limit = 50

    func run() throws {
      let store = try options.open()
      try reporting {
        let op = try findOp(self.op, in: store)
        let version = try self.version.map { try store.version(of: op, matching: $0) }
        let calls = try store.calls(of: op, version: version, currentOnly: current, limit: limit)
        var table = Table(columns: ["id", "op_version", "started", "duration", "inputs", "output"])
        for call in calls {
          let output =
            (try? store.encodedValue(call.outputCID)).flatMap { $0 }
            .flatMap { try? ValueCodec.renderJSON($0, maximumElements: 5) } ?? "?"
          table.rows.append([
            .init(call.id.description, json: call.id.hex),
            .init(call.opVersion.description, json: call.opVersion.hex),
            .init(iso(call.startedAt)), .init(seconds(call.duration), json: call.duration),
            .init(
              call.inputs.map { "\($0.name)=\(render(store, $0.cid))" }.joined(separator: " "),
              json: Dictionary(uniqueKeysWithValues: call.inputs.map { ($0.name, $0.cid.hex) })),
            .init(
              output.count > 60 ? String(output.prefix(59)) + "…" : output, json: jsonValue(output)),
          ])
        }
        options.print(table)
      }
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show a call (by id or id prefix) with its inputs and output.")

    @OptionGroup var options: StoreOptions
    @ArgumentParser.Argument(help: "The call's id, its first characters, or a tag's name.")
    var id: String

    func run() throws {
      let store = try options.open()
      let call = try reporting { try findCall(id, in: store, path: options.path) }
      var table = Table(columns: ["field", "value"])
      func row(_ field: String, _ text: String, json: Any? = nil) {
        table.rows.append([.init(field), .init(text, json: json)])
      }
      row("id", call.id.hex)
      row("op", call.op.name)
      row("version", call.opVersion.hex)
      row("semantic_version", call.semanticVersion.hex)
      row("started", iso(call.startedAt))
      row("duration", seconds(call.duration), json: call.duration)
      row("host", "\(call.host) (pid \(call.pid))")
      for input in call.inputs {
        let value =
          (try? store.encodedValue(input.cid)).flatMap { $0 }
          .flatMap { try? ValueCodec.renderJSON($0) } ?? "(not stored)"
        row("input \(input.name)", "\(value)  [cid \(input.cid)]", json: jsonValue(value))
      }
      let output =
        (try? store.encodedValue(call.outputCID)).flatMap { $0 }
        .flatMap { try? ValueCodec.renderJSON($0) } ?? "(not stored)"
      row(
        "output", "\(output)  [cid \(call.outputCID), \(bytes(call.outputSize))]",
        json: jsonValue(output))
      let upstream = try reporting { try store.upstream(of: call.id) }
      let downstream = try reporting { try store.downstream(of: call.id) }
      row(
        "upstream", upstream.map { "\($0.op.name) \($0.id)" }.joined(separator: ", "),
        json: upstream.map(\.id.hex))
      row(
        "downstream", downstream.map { "\($0.op.name) \($0.id)" }.joined(separator: ", "),
        json: downstream.map(\.id.hex))
      options.print(table)
    }
  }

  struct Versions: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List an op's versions: when each was first and last seen, and its calls.")

    @OptionGroup var options: StoreOptions
    @ArgumentParser.Argument(help: "The op.")
    var op: String

    func run() throws {
      let store = try options.open()
      try reporting {
        let op = try findOp(self.op, in: store)
        var table = Table(
          columns: [
            "op_version", "semantic_version", "first_seen", "last_seen", "calls", "current",
          ])
        for version in try store.versions(of: op) {
          table.rows.append([
            .init(version.version.description, json: version.version.hex),
            .init(
              version.semanticVersion == version.version
                ? "=" : version.semanticVersion.description,
              json: version.semanticVersion.hex),
            .init(iso(version.firstSeen)), .init(iso(version.lastSeen)),
            .init("\(version.calls)", json: version.calls),
            .init(version.isCurrent ? "current" : "", json: version.isCurrent),
          ])
        }
        options.print(table)
      }
    }
  }

  struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show what changed between two versions of an op, component by component.",
      discussion: """
        Without versions, it compares the current version with the other version used last. A version \
        that shares its results with the older one (accepted, or adding parameters) says so.
        """)

    @OptionGroup var options: StoreOptions
    @ArgumentParser.Argument(help: "The op.")
    var op: String
    @ArgumentParser.Argument(
      help: "The older version (a prefix is enough; default: the other one used last).")
    var from: String?
    @ArgumentParser.Argument(
      help: "The newer version (a prefix is enough; default: the current one).")
    var to: String?

    func run() throws {
      let store = try options.open()
      try reporting {
        let op = try findOp(self.op, in: store)
        let versions = try store.versions(of: op)
        guard let current = try store.currentVersion(of: op) else {
          throw CommandFailure("The store has no recorded versions of \(op).")
        }
        let to = try self.to.map { try store.version(of: op, matching: $0) } ?? current.version
        let newer = versions.first { $0.version == to }
        let from: CodeFingerprint
        if let given = self.from {
          from = try store.version(of: op, matching: given)
        } else {
          // The other version used last (after a revert, the newer code).
          guard
            let previous = versions.filter({ $0.version != to })
              .max(by: { ($0.lastSeen, $0.firstSeen) < ($1.lastSeen, $1.firstSeen) })
          else {
            throw CommandFailure("\(op) has one version only; there is nothing to compare it with.")
          }
          from = previous.version
        }
        let older = versions.first { $0.version == from }
        let diff = try store.diff(op, from: from, to: to)
        let shared = older != nil && older?.semanticVersion == newer?.semanticVersion
        if options.json {
          var table = Table(columns: ["component", "change", "diff", "shares_results"])
          for change in diff.changes {
            let kind: String
            switch change {
            case .added: kind = "added"
            case .removed: kind = "removed"
            case .changed: kind = "changed"
            }
            table.rows.append([
              .init(change.identity), .init(kind), .init(change.unifiedDiff),
              .init(shared ? "yes" : "no", json: shared),
            ])
          }
          options.print(table)
        } else {
          if shared, let newer {
            let added = newer.parameters.filter { !(older?.parameters.contains($0) ?? true) }
            let reason =
              added.isEmpty
              ? "accepted as equivalent"
              : "adds parameter\(added.count == 1 ? "" : "s") \(added.joined(separator: ", "))"
            print(
              "\(to) shares the results of \(from) (\(reason)): the edit below did not make them recompute."
            )
          }
          print(diff)
        }
      }
    }
  }

  struct Stale: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List calls the current version of their op would not reuse, and why.")

    @OptionGroup var options: StoreOptions
    @ArgumentParser.Argument(help: "Only this op's calls.")
    var op: String?

    func run() throws {
      let store = try options.open()
      try reporting {
        let op = try self.op.map { try findOp($0, in: store) }
        var table = Table(columns: ["id", "op", "op_version", "current_version", "why"])
        var reasons: [String: VersionDiff?] = [:]
        for call in try store.staleCalls(of: op) {
          let key = call.op.name + " " + call.opVersion.hex
          if reasons[key] == nil { reasons[key] = .some(try store.staleness(of: call.id)) }
          let diff = reasons[key]!
          let why =
            diff.map {
              $0.isComplete
                ? $0.changes.map(\.summary).joined(separator: "; ") : "code not recorded"
            }
            ?? ""
          table.rows.append([
            .init(call.id.description, json: call.id.hex), .init(call.op.name),
            .init(call.opVersion.description, json: call.opVersion.hex),
            .init(diff?.to.description ?? "", json: diff?.to.hex ?? NSNull()),
            .init(
              why.isEmpty ? "no component differs" : why, json: diff?.changes.map(\.summary) ?? []),
          ])
        }
        options.print(table)
      }
    }
  }

  struct Accept: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Accept a code change as not changing results: serve the old results to the new version.")

    @OptionGroup var options: StoreOptions
    @ArgumentParser.Argument(help: "The op.")
    var op: String
    @ArgumentParser.Argument(help: "The version to accept (a prefix is enough).")
    var version: String
    @Option(
      name: .customLong("as"), help: "The version whose results it shares (a prefix is enough).")
    var base: String

    func run() throws {
      let store = try options.open(writing: true)
      try reporting {
        let op = try findOp(self.op, in: store)
        let version = try store.version(of: op, matching: self.version)
        let base = try store.version(of: op, matching: self.base)
        try store.accept(op, version: version, as: base)
        print("\(op): \(version) now shares the results of \(base).")
      }
    }
  }
}

extension RecallCommand {
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

  struct CollectGarbage: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "gc",
      abstract:
        "Delete values that no call uses and no tag names; safe while programs use the store.")

    @OptionGroup var options: StoreOptions
    @Option(
      help:
        "Keep blob files no value names if written in the last this many seconds (a program may be committing them)."
    )
    var grace = 3600

    func run() throws {
      let store = try options.open(writing: true)
      let report = try reporting {
        try store.collectGarbage(keepingFilesNewerThan: Date(timeIntervalSinceNow: -Double(grace)))
      }
      print(
        "Deleted \(report.values) value\(report.values == 1 ? "" : "s") (\(bytes(report.bytes)))"
          + (report.orphanFiles > 0
            ? " and \(report.orphanFiles) orphan blob file\(report.orphanFiles == 1 ? "" : "s")"
            : "")
          + ".")
    }
  }

  struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "tag",
      abstract:
        "Name a call ('recall tag baseline 3f2a9c'), list tags ('recall tag'), or remove one.")

    @OptionGroup var options: StoreOptions
    @ArgumentParser.Argument(help: "The tag's name.")
    var name: String?
    @ArgumentParser.Argument(
      help: "The call to name: its id or first characters; or a value's full cid.")
    var target: String?
    @Flag(help: "Remove the tag.")
    var remove = false

    func run() throws {
      if remove {
        guard let name else { throw ValidationError("Name the tag to remove.") }
        let store = try options.open(writing: true)
        let removed = try reporting { try store.removeTag(name) }
        print(removed ? "Removed tag '\(name)'." : "There is no tag '\(name)'.")
        return
      }
      guard let name else {
        let store = try options.open()
        var table = Table(columns: ["tag", "kind", "target", "created"])
        for tag in try reporting({ try store.tags() }) {
          let (kind, target): (String, String) =
            switch tag.target {
            case .call(let id): ("call", id.hex)
            case .value(let cid): ("value", cid.hex)
            }
          table.rows.append([
            .init(tag.name), .init(kind), .init(target), .init(iso(tag.createdAt)),
          ])
        }
        options.print(table)
        return
      }
      guard let target else { throw ValidationError("Name the call (or value) to tag.") }
      let store = try options.open(writing: true)
      try reporting {
        if target.count == 64, let cid = ContentID(hex: target),
          try store.encodedValue(cid) != nil,
          try store.calls(matching: CallQuery(idPrefix: target, limit: 1)).isEmpty
        {
          try store.tag(name, value: cid)
          print("Tagged value \(cid) as '\(name)'.")
        } else {
          let call = try findCall(target, in: store, path: options.path)
          try store.tag(name, call: call.id)
          print("Tagged \(call.op.name) call \(call.id) as '\(name)'.")
        }
      }
    }
  }
}

extension RecallCommand {
  /// The frame the table and graph commands show: an op's calls and everything
  /// connected to them.
  struct FrameOptions: ParsableArguments {
    @ArgumentParser.Argument(help: "The op whose calls start the frame.")
    var op: String
    @Flag(help: "Only the op's calls that its current version reuses.")
    var current = false
    @Flag(help: "Do not add the calls upstream of them.")
    var noBack = false
    @Flag(help: "Do not add the calls downstream of them.")
    var noForward = false

    func frame(_ store: Store) throws -> ComputationFrame {
      var frame = try ComputationFrame(op: findOp(op, in: store), currentOnly: current, in: store)
      if !noBack { frame = try frame.expandBack() }
      if !noForward { frame = try frame.expandForward() }
      return frame
    }
  }

  enum TableFormat: String, ExpressibleByArgument, CaseIterable {
    case markdown, csv, json
  }

  struct TableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "table",
      abstract:
        "Print the joint table of an op's computation frame: one row per history, a column per input and op."
    )

    @OptionGroup var options: StoreOptions
    @OptionGroup var frame: FrameOptions
    @Option(help: "markdown, csv or json.")
    var format: TableFormat = .markdown

    func run() throws {
      let store = try options.open()
      try reporting {
        let table = try frame.frame(store).table()
        switch format {
        case .markdown: print(table.markdown, terminator: "")
        case .csv: print(table.csv, terminator: "")
        case .json: print(table.json, terminator: "")
        }
      }
    }
  }

  enum GraphFormat: String, ExpressibleByArgument, CaseIterable {
    case dot, svg
  }

  struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Draw an op's computation frame as Graphviz DOT, or as SVG through Graphviz's dot.")

    @OptionGroup var options: StoreOptions
    @OptionGroup var frame: FrameOptions
    @Option(help: "dot or svg (needs Graphviz).")
    var format: GraphFormat = .dot

    func run() throws {
      let store = try options.open()
      try reporting {
        let frame = try frame.frame(store)
        print(format == .dot ? frame.dot() : try frame.svg(), terminator: "")
      }
    }
  }
}

extension RecallCommand {
  struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Summarize what the store holds and how it was used: calls, hits, misses, time saved, bytes.",
      discussion: """
        Without --by, one row per op: its stored calls, versions and stale calls, how often \
        processes found its calls stored (hits) or ran them (misses), the time the hits saved, \
        what recomputing every stored call would cost, and the bytes of its results. With --by, \
        one row per hour, day, week or month (in this machine's time zone). Processes save their \
        counts at most ten seconds after a call and when they exit.
        """)

    @OptionGroup var options: StoreOptions
    @Option(
      help:
        "Show hits and misses over time, one row per period: \(Period.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var by: Period?
    @Option(help: "Only this op's counts (with --by).")
    var op: String?
    @Option(
      help: "Only periods since this date (YYYY-MM-DD, in this machine's time zone; with --by).")
    var since: String?

    enum Period: String, ExpressibleByArgument, CaseIterable {
      case hour, day, week, month
    }

    func validate() throws {
      if by == nil && (op != nil || since != nil) {
        throw ValidationError(
          "--op and --since select periods: add --by day (or hour, week, month).")
      }
    }

    func run() throws {
      let store = try options.open()
      try reporting {
        if let by { try printPeriods(store, by) } else { try printOps(store) }
      }
    }

    private func printOps(_ store: Store) throws {
      let summary = try store.summary()
      var use: [OpID: OpUsage] = [:]
      for count in try store.usage() {
        use[count.op, default: OpUsage(op: count.op, period: .distantPast)].add(count)
      }
      var table = Table(columns: [
        "op", "calls", "versions", "stale", "hits", "misses", "saved", "compute_time", "bytes",
      ])
      var total = (time: 0.0, stale: 0, use: OpUsage(op: "", period: .distantPast))
      let ops = try store.ops()
      let unlisted = use.keys.filter { op in !ops.contains { $0.op == op } }.sorted()
      for op in ops
        + unlisted.map({ OpSummary(op: $0, calls: 0, versions: 0, outputBytes: 0, lastCall: nil) })
      {
        let time = op.computeTime.inSeconds
        let stale = op.calls == 0 ? 0 : try store.staleCalls(of: op.op).count
        let count = use[op.op] ?? OpUsage(op: op.op, period: .distantPast)
        total.time += time
        total.stale += stale
        total.use.add(count)
        table.rows.append(
          [
            .init(op.op.name), .init("\(op.calls)", json: op.calls),
            .init("\(op.versions)", json: op.versions),
            .init("\(stale)", json: stale),
          ] + Self.cells(count) + [
            .init(seconds(time), json: time), .init(bytes(op.outputBytes), json: op.outputBytes),
          ])
      }
      table.rows.append(
        [
          .init("(store)"), .init("\(summary.calls)", json: summary.calls), .init(""),
          .init("\(total.stale)", json: total.stale),
        ] + Self.cells(total.use) + [
          .init(seconds(total.time), json: total.time),
          .init("\(bytes(summary.bytes)) in \(summary.values) values", json: summary.bytes),
        ])
      options.print(table)
    }

    private func printPeriods(_ store: Store, _ period: Period) throws {
      var calendar = Calendar(identifier: .gregorian)
      calendar.timeZone = .current
      calendar.firstWeekday = 2  // weeks start on Monday, as in ISO 8601
      let since = try self.since.map { text in
        guard let date = Self.day(text, calendar) else {
          throw ValidationError("--since takes a date like 2026-11-01; got '\(text)'.")
        }
        return date
      }
      let op = try self.op.map { try findOp($0, in: store) }
      var periods: [(start: Date, use: OpUsage)] = []
      for count in try store.usage(of: op, since: since) {
        let start = Self.start(of: count.period, by: period, calendar)
        if let since, start < since && period == .hour { continue }
        if periods.last?.start == start {
          periods[periods.count - 1].use.add(count)
        } else {
          var use = OpUsage(op: count.op, period: start)
          use.add(count)
          periods.append((start, use))
        }
      }
      var table = Table(columns: ["period", "hits", "misses", "hit_rate", "saved", "computed"])
      for (start, use) in periods {
        let calls = use.hits + use.misses
        let rate = calls == 0 ? 0 : Double(use.hits) / Double(calls)
        table.rows.append([
          .init(Self.label(start, by: period, calendar), json: iso(start)),
          .init("\(use.hits)", json: use.hits), .init("\(use.misses)", json: use.misses),
          .init(String(format: "%.0f %%", rate * 100), json: rate),
          .init(seconds(use.timeSaved.inSeconds), json: use.timeSaved.inSeconds),
          .init(seconds(use.computeTime.inSeconds), json: use.computeTime.inSeconds),
        ])
      }
      if table.rows.isEmpty && !options.json {
        print(
          "No hits or misses recorded\(op.map { " for \($0.name)" } ?? "")\(since == nil ? "" : " since \(self.since!)")."
        )
      } else {
        options.print(table)
      }
    }

    private static func cells(_ use: OpUsage) -> [Table.Cell] {
      [
        .init("\(use.hits)", json: use.hits), .init("\(use.misses)", json: use.misses),
        .init(seconds(use.timeSaved.inSeconds), json: use.timeSaved.inSeconds),
      ]
    }

    private static func day(_ text: String, _ calendar: Calendar) -> Date? {
      let parts = text.split(separator: "-").compactMap { Int($0) }
      guard parts.count == 3, text.split(separator: "-").count == 3,
        let date = calendar.date(
          from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
      else { return nil }
      // Calendar rolls 2026-13-40 over into 2027; refuse it instead.
      let back = calendar.dateComponents([.year, .month, .day], from: date)
      return [back.year, back.month, back.day] == parts.map(Optional.some) ? date : nil
    }

    private static func start(of date: Date, by period: Period, _ calendar: Calendar) -> Date {
      switch period {
      case .hour: date
      case .day: calendar.startOfDay(for: date)
      case .week: calendar.dateInterval(of: .weekOfYear, for: date)?.start ?? date
      case .month: calendar.dateInterval(of: .month, for: date)?.start ?? date
      }
    }

    private static func label(_ date: Date, by period: Period, _ calendar: Calendar) -> String {
      let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
      let day = String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
      return switch period {
      // Minutes: :30 in some time zones.
      case .hour: day + String(format: " %02d:%02d", c.hour ?? 0, c.minute ?? 0)
      case .day: day
      case .week: "week of " + day
      case .month: String(format: "%04d-%02d", c.year ?? 0, c.month ?? 0)
      }
    }
  }

  struct Running: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List the calls processes are computing now (their claims), oldest first.")

    @OptionGroup var options: StoreOptions

    func run() throws {
      let store = try options.open()
      let now = Date()
      var table = Table(columns: ["id", "op", "host", "pid", "running", "lease_left"])
      for claim in try reporting({ try store.claims(at: now) }) {
        let running = now.timeIntervalSince(claim.claimedAt)
        let left = claim.expiresAt.timeIntervalSince(now)
        table.rows.append([
          .init(claim.call.description, json: claim.call.hex), .init(claim.op.name),
          .init(claim.claimant.host),
          .init("\(claim.claimant.pid)", json: claim.claimant.pid),
          .init(seconds(running), json: running),
          .init(seconds(left), json: left),
        ])
      }
      if table.rows.isEmpty && !options.json {
        print("No call is being computed.")
      } else {
        options.print(table)
      }
    }
  }

  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Copy calls, with their values, versions and code, into another store (created if needed).")

    @OptionGroup var options: StoreOptions
    @Option(help: "The store to copy into.")
    var to: String
    @Option(name: .customLong("op"), help: "Only this op's calls (repeatable); all ops by default.")
    var ops: [String] = []

    func run() throws {
      try transfer(from: options.open(), to: to, ops: ops)
    }
  }

  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Copy calls, with their values, versions and code, from another store into this one.")

    @OptionGroup var options: StoreOptions
    @ArgumentParser.Argument(help: "The store to copy from.")
    var from: String
    @Option(name: .customLong("op"), help: "Only this op's calls (repeatable); all ops by default.")
    var ops: [String] = []

    func run() throws {
      var sourceOptions = options
      sourceOptions.store = from
      try transfer(from: sourceOptions.open(), to: options.path, ops: ops)
    }
  }
}

/// Copies the calls of some ops (all when none are named) into the store at `path`.
func transfer(from source: Store, to path: String, ops names: [String]) throws {
  let target = try StoreOptions.open(path, writing: true)
  try reporting {
    let ops = names.isEmpty ? nil : try names.map { try findOp($0, in: source) }
    print(describe(try source.copy(to: target, ops: ops), into: path))
  }
}

func describe(_ report: TransferReport, into path: String) -> String {
  "Copied \(report.calls) call\(report.calls == 1 ? "" : "s"), \(report.values) value\(report.values == 1 ? "" : "s") "
    + "(\(bytes(report.bytes))) and \(report.versions) version\(report.versions == 1 ? "" : "s") into '\(path)'."
    + (report.incomplete > 0
      ? " Left out \(report.incomplete) call\(report.incomplete == 1 ? "" : "s") whose values are gone."
      : "")
}

/// A short rendering of a stored value for a table cell.
func render(_ store: Store, _ cid: ContentID) -> String {
  guard let bytes = try? store.encodedValue(cid),
    let text = try? ValueCodec.renderJSON(bytes, maximumElements: 3)
  else { return cid.description }
  return text.count > 24 ? String(text.prefix(23)) + "…" : text
}
