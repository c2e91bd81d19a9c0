import Foundation
import Hummingbird
import RecallCore
import RecallRows

/// The query of a request: its values by name (the first of each name),
/// percent-decoded.
struct Query: Sendable {
  let values: [String: String]

  init(values: [String: String]) { self.values = values }

  init(_ request: Request) {
    var values: [String: String] = [:]
    for (name, value) in request.uri.queryParameters where values[String(name)] == nil {
      values[String(name)] = String(value)
    }
    self.values = values
  }

  /// The value of `name`, or `nil` when it is missing or empty.
  func text(_ name: String) -> String? {
    values[name].flatMap { $0.isEmpty ? nil : $0 }
  }

  func required(_ name: String, _ what: String) throws -> String {
    guard let value = text(name) else {
      throw ViewerError.badRequest("The address needs ?\(name)=…: \(what).")
    }
    return value
  }
}

/// One page of an op's calls, newest first: what the op page shows and
/// `/api/v1/calls` returns.
struct CallsPage: Sendable {
  static let defaultLimit = 100
  /// The most calls a page shows (SQLite reads a page's inputs call by call
  /// up to 1,000 calls).
  static let maximumLimit = 500

  let op: OpID
  let calls: [CallRecord]
  /// Where the next page starts (`before=`), when there are older calls.
  let next: Double?
  let version: CodeFingerprint?
  let currentOnly: Bool
  let limit: Int

  /// Reads the page the query names: `name` (the op), `version` (a prefix),
  /// `current`, `before` (seconds since 1970: calls started earlier) and
  /// `limit`. The database does the paging: one indexed query per page.
  init(_ query: Query, in store: Store) throws {
    let op = try findOp(try query.required("name", "the op"), in: store)
    self.op = op
    version = try query.text("version").map { try store.version(of: op, matching: $0) }
    currentOnly = query.text("current") != nil
    let limit = try query.text("limit").map { text in
      guard let limit = Int(text), limit > 0 else {
        throw ViewerError.badRequest("limit must be a positive number; got '\(text)'.")
      }
      return Swift.min(limit, Self.maximumLimit)
    }
    self.limit = limit ?? Self.defaultLimit
    var request = CallQuery(op: op, opVersion: version, limit: self.limit + 1)
    if let before = query.text("before") {
      guard let seconds = Double(before) else {
        throw ViewerError.badRequest("before must be seconds since 1970; got '\(before)'.")
      }
      request.startedBefore = Date(timeIntervalSince1970: seconds)
    }
    var fetched = try Self.fetch(request, currentOnly: currentOnly, op: op, in: store)
    // The page ends in a gap between two calls' starts, never between two
    // that started within a microsecond of each other: the next page
    // starts strictly before the gap's middle, so that no call is shown
    // twice or skipped however the boundary's seconds round on the way
    // through the URL. A run of such calls longer than a page is shown
    // whole (up to 1,000 calls).
    var shown = Swift.min(fetched.count, self.limit)
    while shown < fetched.count && shown > 0
      && fetched[shown - 1].startedAt.timeIntervalSince(fetched[shown].startedAt) <= Self.tie
    {
      shown += 1
      if shown == fetched.count, let limit = request.limit, limit < Self.longestRun {
        // (SQLite reads a listing's inputs call by call up to 1,000 calls.)
        request.limit = Swift.min(limit * 2, Self.longestRun)
        fetched = try Self.fetch(request, currentOnly: currentOnly, op: op, in: store)
      }
    }
    if shown < fetched.count {
      next =
        (fetched[shown - 1].startedAt.timeIntervalSince1970
          + fetched[shown].startedAt.timeIntervalSince1970) / 2
    } else if shown > 0 && fetched.count == request.limit {
      // A run longer than 1,000 calls: the rest of it is left out.
      next = fetched[shown - 1].startedAt.timeIntervalSince1970
    } else {
      next = nil
    }
    calls = Array(fetched.prefix(shown))
  }

  /// Calls closer together than this are one run for paging.
  static let tie = 1e-6
  /// The longest run of such calls a page shows whole.
  static let longestRun = 1_000

  private static func fetch(_ request: CallQuery, currentOnly: Bool, op: OpID, in store: Store)
    throws -> [CallRecord]
  {
    guard currentOnly else { return try store.calls(matching: request) }
    let current = try store.currentSemanticVersions(of: op)
    guard current.count > 1 else {
      guard let version = current.first else { return [] }
      var request = request
      request.semanticVersion = version
      return try store.calls(matching: request)
    }
    // Several current versions (programs running different code): each
    // one's page, merged.
    return try current.flatMap { version in
      var request = request
      request.semanticVersion = version
      return try store.calls(matching: request)
    }
    .sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }
    .prefix(request.limit ?? .max).map { $0 }
  }

  /// The address of the next page, under `path`.
  func nextURL(_ path: String) -> String? {
    next.map { before in
      Paths.query(
        path,
        [
          ("name", op.name), ("version", version?.hex), ("current", currentOnly ? "1" : nil),
          ("before", String(before)), ("limit", limit == Self.defaultLimit ? nil : String(limit)),
        ])
    }
  }
}

extension Viewer {
  /// The overview page's HTML, as `/` serves it (for the benchmark).
  package func overviewHTML() throws -> String { try overview().markup }

  /// An op's page of calls, as `/op?name=OP` serves it (for the benchmark).
  package func opPageHTML(_ op: String) throws -> String {
    try opPage(Query(values: ["name": op])).markup
  }

  // MARK: Overview

  func overview() throws -> HTML {
    let rows = try OpStatsRow.rows(in: store)
    let ops = rows.filter { !$0.isStore }
    guard let total = rows.last, !ops.isEmpty else {
      return Layout.page(
        title: "Overview", store: location, active: "Overview",
        body: """
          <h1>Overview</h1><p class="notice">The store is empty: no op has run with it yet. \
          Run a program that uses it, then reload this page.</p>
          """)
    }
    let cards: [(String, String)] = [
      ("calls", "\(total.calls)"), ("stale calls", "\(total.stale)"),
      ("hits", "\(total.hits)"), ("misses", "\(total.misses)"),
      ("time saved", seconds(total.timeSaved)),
      ("stored", total.bytesText ?? bytes(total.byteCount)),
    ]
    let table = Layout.table(
      id: "ops",
      columns: [
        "Op", "Calls", "Versions", "Stale", "Hits", "Misses", "Time saved", "Recompute", "Bytes",
        "",
      ],
      rows: ops.map { row in
        let op = OpID(row.op)
        return [
          .link(row.op, to: Paths.op(op)), number(row.calls), number(row.versions ?? 0),
          row.stale == 0 ? number(0) : "<span class=\"badge stale\">\(row.stale)</span>",
          number(row.hits), number(row.misses), duration(row.timeSaved),
          duration(row.recomputeTime), size(row.byteCount),
          "\(HTML.link("graph", to: Paths.graph(op: op))) · \(HTML.link("versions", to: Paths.versions(op)))",
        ]
      }, sortable: true, classes: ops.map { $0.stale > 0 ? "stale" : nil })
    let usage = try PeriodRow.rows(in: store, by: .day, op: nil, since: nil)
    let body: HTML = """
      <h1>Overview</h1>
      <div class="cards">\(cards.map { HTML("<div class=\"card\"><div class=\"value\">\($0.1)</div><div class=\"label\">\($0.0)</div></div>") })</div>
      <h2>Ops</h2>
      <input class="filter" data-table="ops" placeholder="Filter ops…">
      \(table)
      <h2>Use by day</h2>
      \(Charts.usage(PeriodRow.continuous(usage, by: .day, last: 60)))
      """
    return Layout.page(title: "Overview", store: location, active: "Overview", body: body)
  }

  // MARK: Op

  func opPage(_ query: Query) throws -> HTML {
    let page = try CallsPage(query, in: store)
    let op = page.op
    let versions = try store.versions(of: op)
    let current = Set(versions.filter { $0.isCurrent }.map { $0.semanticVersion })
    let values = ValueText(store: store)
    let hasTrials = page.calls.contains { $0.trial != 0 }
    var columns = ["Call", "Started", "Duration"]
    if hasTrials { columns.append("Trial") }
    columns += ["Version", "Host", "Inputs", "Output"]
    let rows = page.calls.map { call -> [HTML] in
      var cells: [HTML] = [
        HTML.link(short(call.id.hex), to: Paths.call(call.id), title: call.id.hex),
        HTML(
          "<span data-sort=\"\(call.startedAt.timeIntervalSince1970)\">\(iso(call.startedAt))</span>"
        ),
        duration(call.duration),
      ]
      if hasTrials { cells.append(number(call.trial)) }
      let isStale = !current.isEmpty && !current.contains(call.semanticVersion)
      cells += [
        "<span class=\"mono\">\(short(call.opVersion.hex))</span> \(isStale ? HTML("<span class=\"badge stale\">stale</span>") : "")",
        "\(call.host)",
        "<span class=\"mono\">\(values.inputs(call))</span>",
        "<span class=\"mono\">\(Self.outputCell(call, values))</span>",
      ]
      return cells
    }
    let stale = page.calls.map { !current.isEmpty && !current.contains($0.semanticVersion) }
    let table = Layout.table(
      id: "calls", columns: columns, rows: rows, sortable: true,
      classes: stale.map { $0 ? "stale" : nil })
    let versionRows = versions.map { version -> [HTML] in
      [
        HTML.link(
          short(version.version.hex), to: Paths.op(op, version: version.version.hex),
          title: version.version.hex),
        version.isCurrent ? "<span class=\"badge current\">current</span>" : "",
        "\(iso(version.firstSeen))", "\(iso(version.lastSeen))", number(version.calls),
        HTML.link("diff with current", to: Paths.versions(op, from: version.version.hex)),
      ]
    }
    let filters: HTML =
      page.version == nil && !page.currentOnly
      ? "\(HTML.link("only calls the current version reuses", to: Paths.query("/op", [("name", op.name), ("current", "1")])))"
      : "Showing \(page.version.map { "version \(short($0.hex))" } ?? "the calls the current version reuses") · \(HTML.link("all calls", to: Paths.op(op)))"
    let pager: HTML =
      page.nextURL("/op").map { "<p class=\"pager\">\(HTML.link("Older calls →", to: $0))</p>" }
      ?? "<p class=\"pager muted\">No older calls.</p>"
    let body: HTML = """
      <h1>\(op.name)</h1>
      <p>\(HTML.link("Graph", to: Paths.graph(op: op))) · \(HTML.link("Versions and diffs", to: Paths.versions(op)))</p>
      <h2>Versions</h2>
      \(Layout.table(columns: ["Version", "", "First seen", "Last seen", "Calls", ""], rows: versionRows))
      <h2>Calls</h2>
      <p class="muted">\(filters)</p>
      <input class="filter" data-table="calls" placeholder="Filter these calls…">
      \(table)
      \(pager)
      """
    return Layout.page(title: op.name, store: location, active: "", body: body)
  }

  /// The outputs a table cell shows: larger ones are only sized (their
  /// call's page shows them).
  static let largestCell = 1 << 20

  static func outputCell(_ call: CallRecord, _ values: ValueText) -> String {
    guard call.evictedAt == nil else { return "(evicted)" }
    guard call.outputSize <= largestCell else { return "(\(bytes(call.outputSize)))" }
    return values.json(call.outputCID, .row) ?? "(not stored)"
  }

  // MARK: Call

  func call(_ id: String) throws -> CallRecord {
    // Ids, their prefixes and tag names: nothing else reaches the store.
    guard !id.isEmpty, id.count <= 200 else { throw ViewerError.notFound("No call '\(id)'.") }
    do {
      return try findCall(id, in: store, path: location)
    } catch let failure as CommandFailure {
      throw ViewerError.notFound(failure.description)
    }
  }

  /// The most calls that used a call's output its page lists.
  static let consumersShown = 100

  func callPage(_ id: String) throws -> HTML {
    let call = try call(id)
    let current = try store.currentSemanticVersions(of: call.op)
    let isStale = !current.isEmpty && !current.contains(call.semanticVersion)
    let values = ValueView(store: store)
    var fields: [(String, HTML)] = [
      ("op", .link(call.op.name, to: Paths.op(call.op))),
      (
        "op version",
        "\(HTML.link(call.opVersion.hex, to: Paths.versions(call.op, to: call.opVersion.hex))) \(isStale ? HTML("<span class=\"badge stale\">stale: no current version reuses it</span>") : "")"
      ),
      ("semantic version", "<span class=\"mono\">\(call.semanticVersion.hex)</span>"),
      ("trial", "\(CallFieldRow.trialText(call))"),
      ("started", "\(iso(call.startedAt))"),
      ("duration", duration(call.duration)),
      ("host", "\(call.host) (pid \(call.pid))"),
      ("output size", size(call.outputSize)),
    ]
    for row in try CallFieldRow.environment(of: call, in: store, listing: false) {
      fields.append((row.field.replacingOccurrences(of: "_", with: " "), "\(row.text)"))
    }
    // The calls that made its inputs and those that used its output
    // directly: what each link leads to (the graph shows the rest).
    var producers: [String: CallRecord] = [:]
    for input in call.inputs where input.hid != HistoryID(external: input.cid) {
      producers[input.name] = try store.producers(of: input, limit: 1).first
    }
    let upstream = call.inputs.compactMap { producers[$0.name] }
    let consumers = try store.consumers(of: call, limit: Self.consumersShown + 1)
    let downstream = Array(consumers.prefix(Self.consumersShown))
    let inputs = call.inputs.map { input -> HTML in
      let from: HTML =
        producers[input.name].map {
          "<p class=\"muted\">produced by \(HTML.link("\($0.op.name) \(short($0.id.hex))", to: Paths.call($0.id)))</p>"
        } ?? ""
      return """
        <h3><span class="mono">\(input.name)</span> <span class="muted mono">cid \(short(input.cid.hex))</span></h3>
        \(from)\(values.render(input.cid, producer: producers[input.name]?.id))
        """
    }
    let output: HTML =
      call.evictedAt.map {
        "<p class=\"notice\">Evicted \(iso($0)) to keep the store within its disk budget: computed again when next called.</p>"
      } ?? values.render(call.outputCID, size: call.outputSize, producer: call.id)
    func list(_ calls: [CallRecord], _ none: String) -> HTML {
      guard !calls.isEmpty else { return "<p class=\"muted\">\(none)</p>" }
      return Layout.table(
        columns: ["Call", "Op", "Started"],
        rows: calls.map {
          [
            .link(short($0.id.hex), to: Paths.call($0.id), title: $0.id.hex),
            .link($0.op.name, to: Paths.op($0.op)), "\(iso($0.startedAt))",
          ]
        })
    }
    let body: HTML = """
      <h1>\(call.op.name) <span class="muted mono">\(short(call.id.hex))</span></h1>
      <p>\(HTML.link("Graph of this call", to: Paths.graph(call: call.id))) · <span class="mono muted">\(call.id.hex)</span></p>
      \(Layout.fields(fields))
      <h2>Inputs</h2>
      \(inputs.isEmpty ? HTML("<p class=\"muted\">No inputs.</p>") : HTML(raw: inputs.map(\.markup).joined()))
      <h2>Output <span class="muted mono">cid \(short(call.outputCID.hex))</span></h2>
      \(output)
      <h2>Upstream: the calls that produced its inputs</h2>
      \(list(upstream, "None: its inputs came from outside the store."))
      <h2>Downstream: the calls that used its output</h2>
      \(list(downstream, "None yet."))
      \(consumers.count > Self.consumersShown ? HTML("<p class=\"muted\">The first \(Self.consumersShown) are listed; \(HTML.link("the graph", to: Paths.graph(call: call.id))) shows more of them.</p>") : "")
      """
    return Layout.page(
      title: "\(call.op.name) \(short(call.id.hex))", store: location, active: "", body: body)
  }

  // MARK: Graph

  /// The most calls of one op a graph starts from: more are drawn from its
  /// latest calls.
  static let graphCalls = 500
  /// The most calls a graph draws: a walk through provenance that reaches
  /// more stops there.
  static let graphLimit = 5_000

  /// The frame a graph query names, and what the page says about its size.
  func frame(_ query: Query) throws -> (frame: ComputationFrame, title: String, note: String?) {
    let start: [CallRecord]
    let title: String
    var notes: [String] = []
    if let id = query.text("call") {
      let call = try call(id)
      start = [call]
      title = "\(call.op.name) \(short(call.id.hex))"
    } else {
      let op = try findOp(try query.required("op", "the op whose calls to draw"), in: store)
      let calls = try store.calls(matching: CallQuery(op: op, limit: Self.graphCalls + 1))
      if calls.count > Self.graphCalls {
        notes.append("Drawn from the latest \(Self.graphCalls) calls of \(op.name).")
      }
      start = Array(calls.prefix(Self.graphCalls))
      title = op.name
    }
    let (calls, complete) = try connected(to: start, limit: Self.graphLimit)
    if !complete {
      notes.append(
        "The calls connected to them are more than \(Self.graphLimit): the nearest are drawn.")
    }
    let frame = ComputationFrame(calls: calls, in: store)
    return (frame, title, notes.isEmpty ? nil : notes.joined(separator: " "))
  }

  /// The calls upstream and downstream of `start`, nearest first, at most
  /// `limit` of them: whether it reached them all.
  func connected(to start: [CallRecord], limit: Int) throws -> ([CallRecord], complete: Bool) {
    var found: [CallID: CallRecord] = [:]
    var queue: [CallRecord] = []
    for call in start where found[call.id] == nil {
      found[call.id] = call
      queue.append(call)
    }
    var next = 0
    var complete = true
    while next < queue.count {
      let call = queue[next]
      next += 1
      // At most as many as could still be added, and never more than the
      // 1,000 SQLite reads the inputs of call by call.
      let asked = Swift.min(limit - found.count + 1, 1_000)
      var neighbours = try store.consumers(of: call, limit: asked)
      // A full answer may have left some out.
      if neighbours.count == asked { complete = false }
      for input in call.inputs where input.hid != HistoryID(external: input.cid) {
        neighbours += try store.producers(of: input, limit: 1)
      }
      for neighbour in neighbours where found[neighbour.id] == nil {
        guard found.count < limit else { return (queue, false) }
        found[neighbour.id] = neighbour
        queue.append(neighbour)
      }
    }
    return (queue, complete)
  }

  func graphPage(_ query: Query) throws -> HTML {
    let (frame, title, note) = try frame(query)
    var stale: Set<CallID> = []
    var links: [OpID: String] = [:]
    for op in frame.ops {
      links[op] = Paths.op(op)
      let current = try store.currentSemanticVersions(of: op)
      guard !current.isEmpty else { continue }
      for call in frame.calls.values where call.op == op && !current.contains(call.semanticVersion)
      {
        stale.insert(call.id)
      }
    }
    let drawing: HTML
    do {
      let svg = try frame.svg(links: links, stale: stale)
      let start = svg.range(of: "<svg")?.lowerBound ?? svg.startIndex
      drawing = HTML(raw: "<div class=\"graph\">" + String(svg[start...]) + "</div>")
    } catch let error as RecallError where error.code == RecallError.missingTool {
      drawing = """
        <p class="notice">Drawing the graph needs Graphviz's <code>dot</code>: install Graphviz \
        (<code>apt install graphviz</code> on Debian and Ubuntu, <code>brew install graphviz</code> \
        on macOS), then reload. Its DOT text:</p>
        <pre class="graph">\(frame.dot(links: links, stale: stale))</pre>
        """
    }
    let body: HTML = """
      <h1>Graph of \(title)</h1>
      <p class="muted">Ops are boxes with their calls (stale ones counted and shaded), values \
      ellipses; an arrow is a value passed on. Click an op to see its calls.\(note.map { " " + $0 } ?? "")</p>
      \(drawing)
      <p>\(frame.calls.count) calls of \(frame.ops.count) ops, \(stale.count) stale. \
      \(frame.ops.map { HTML("\(HTML.link($0.name, to: Paths.op($0))) ") })</p>
      """
    return Layout.page(title: "Graph of \(title)", store: location, active: "", body: body)
  }

  // MARK: Versions

  func versionsPage(_ query: Query) throws -> HTML {
    let op = try findOp(try query.required("op", "the op whose versions to show"), in: store)
    let split = query.text("mode") == "split"
    let rows = try VersionRow.rows(of: op, in: store)
    let from = query.text("from")
    let to = query.text("to")
    let table = Layout.table(
      columns: ["Version", "Semantic version", "First seen", "Last seen", "Calls", "", "Compare"],
      rows: rows.map { row in
        [
          .link(
            short(row.opVersion), to: Paths.op(op, version: row.opVersion), title: row.opVersion),
          "<span class=\"mono\">\(row.semanticVersion == row.opVersion ? "=" : short(row.semanticVersion))</span>",
          "\(iso(row.firstSeen))", "\(iso(row.lastSeen))", number(row.calls),
          row.current ? "<span class=\"badge current\">current</span>" : "",
          "\(HTML.link("as older", to: Paths.versions(op, from: row.opVersion, to: to, split: split))) · \(HTML.link("as newer", to: Paths.versions(op, from: from, to: row.opVersion, split: split)))",
        ]
      })
    let comparison: HTML
    do {
      let compared = try VersionComparison(op, from: from, to: to, in: store)
      comparison = Diffs.render(compared, split: split)
    } catch let failure as CommandFailure {
      comparison = "<p class=\"notice\">\(failure.description)</p>"
    } catch let error as RecallError where error.code == RecallError.notFound {
      comparison = "<p class=\"notice\">\(error.message)</p>"
    }
    let body: HTML = """
      <h1>Versions of \(HTML.link(op.name, to: Paths.op(op)))</h1>
      \(table)
      \(comparison)
      """
    return Layout.page(title: "Versions of \(op.name)", store: location, active: "", body: body)
  }

  // MARK: Running

  func runningPage(fragmentOnly: Bool) throws -> HTML {
    let rows = try ClaimRow.rows(in: store)
    let table: HTML =
      rows.isEmpty
      ? "<p class=\"muted\">No call is being computed. This page refreshes every 2 seconds.</p>"
      : Layout.table(
        columns: ["Op", "Call", "Host", "Pid", "Running for", "Lease ends in"],
        rows: rows.map { row in
          [
            .link(row.op, to: Paths.op(OpID(row.op))),
            "<span class=\"mono\" title=\"\(row.id)\">\(short(row.id))</span>", "\(row.host)",
            number(row.pid), duration(row.running), duration(row.expiresIn),
          ]
        })
    guard !fragmentOnly else { return table }
    let body: HTML = """
      <h1>Running</h1>
      <p class="muted">The calls processes sharing this store are computing now (their claims), \
      oldest first; refreshed every 2 seconds.</p>
      <div id="running">\(table)</div>
      """
    return Layout.page(title: "Running", store: location, active: "Running", body: body)
  }
}

// MARK: Cells

func number(_ value: Int) -> HTML {
  HTML("<span data-sort=\"\(value)\">\(value)</span>")
}

func duration(_ value: Double) -> HTML {
  HTML("<span data-sort=\"\(value)\">\(seconds(value))</span>")
}

func size(_ value: Int) -> HTML {
  HTML("<span data-sort=\"\(value)\">\(bytes(value))</span>")
}
