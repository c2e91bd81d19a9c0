import Foundation
import GRDB
import RecallCore
import RecallSQLite
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallViewer

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The viewer's HTTP layer, served on a free port of this machine and asked
/// over real connections: status codes, escaping, paging, 404s.
@Suite struct ViewerTests {
  let directory = TemporaryDirectory()

  func quiet() -> Store.Configuration {
    var configuration = Store.Configuration()
    configuration.printsWarnings = false
    return configuration
  }

  func score(_ factor: String) -> Op {
    Op(
      id: "Lab.score(_:)", version: CodeFingerprint(hex: factor == "2" ? "a1a1" : "b2b2"),
      parameters: ["data"],
      components: {
        [
          CodeComponent(
            identity: "func score(_:)", fingerprint: "s",
            source: "func score(_ data: [Double]) -> Double {\n  data.reduce(0, +) * factor\n}"),
          CodeComponent(
            identity: "var factor", fingerprint: factor, source: "let factor = \(factor)"),
        ]
      })
  }

  /// A store where `load` made three arrays of 1,000 numbers that `score`
  /// used (then a second version of `score` used one of them), and `label`
  /// stored text with markup in it.
  func populate() throws -> (load: [CallID], label: CallID) {
    let store = try Store.sqlite(at: directory.path, configuration: quiet())
    let load = Op(id: "Lab.load(n:)", version: CodeFingerprint(hex: "c3c3"), parameters: ["n"])
    var loads: [CallID] = []
    for n in 1...3 {
      let data = store.memoize(load, [Argument("n", n)]) {
        (0..<1000).map { Double($0 * n) }
      }
      _ = store.memoize(score("2"), [Argument("data", data)]) { data.reduce(0, +) * 2 }
      loads.append(try #require(store.calls(of: "Lab.load(n:)", inputs: ["n": n]).first).id)
    }
    let label = Op(id: "Lab.label(_:)", version: CodeFingerprint(hex: "d4d4"))
    _ = store.memoize(label, [Argument("name", "<script>alert(1)</script>")]) {
      "<b>bold</b> & \"quoted\""
    }
    store.flush()
    let later = try Store.sqlite(at: directory.path, configuration: quiet())
    let data = later.memoize(load, [Argument("n", 1)]) { (0..<1000).map { Double($0) } }
    _ = later.memoize(score("3"), [Argument("data", data)]) { data.reduce(0, +) * 3 }
    later.flush()
    let labelCall = try #require(later.calls(of: "Lab.label(_:)").first).id
    return (loads, labelCall)
  }

  /// Serves a viewer of the test's store while `body` runs.
  func serving(
    _ store: Store? = nil, _ body: (Client) async throws -> Void
  ) async throws {
    var configuration = SQLiteBackend.Configuration()
    configuration.readOnly = true
    let store =
      try store
      ?? Store(
        reading: SQLiteBackend(path: directory.path, configuration: configuration),
        configuration: quiet())
    let viewer = Viewer(store: store, location: directory.path)
    let port = Mutex<Int?>(nil)
    let server = Task {
      try await viewer.application(host: "127.0.0.1", port: 0, logLevel: .critical) { bound in
        port.withLock { $0 = bound }
      }.run()
    }
    defer { server.cancel() }
    var waited = 0
    while port.withLock({ $0 }) == nil {
      try await Task.sleep(for: .milliseconds(20))
      waited += 1
      try #require(waited < 500, "the viewer did not start")
    }
    try await body(Client(port: try #require(port.withLock { $0 })))
  }

  @Test func overviewListsOpsWithTheirStaleCallsAndLinksThem() async throws {
    _ = try populate()
    try await serving { client in
      let page = try await client.get("/")
      #expect(page.status == 200)
      #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
      #expect(page.body.contains("href=\"/op?name=Lab.score%28_%3A%29\""))
      #expect(page.body.contains("href=\"/op?name=Lab.load%28n%3A%29\""))
      // The three calls of score's first version are stale.
      #expect(page.body.contains("<span class=\"badge stale\">3</span>"))
      #expect(page.body.contains("<svg class=\"chart\""))
      let api = try await client.json("/api/v1/ops")
      let scoreRow = try #require(api.first { $0["op"] as? String == "Lab.score(_:)" })
      #expect(scoreRow["calls"] as? Int == 4)
      #expect(scoreRow["stale"] as? Int == 3)
      #expect(scoreRow["version"] as? Int == 2)
    }
  }

  @Test func storedTextIsEscapedEverywhere() async throws {
    let (_, label) = try populate()
    try await serving { client in
      for path in ["/call/\(label.hex)", "/op?name=label"] {
        let page = try await client.get(path)
        #expect(page.status == 200, "\(path)")
        #expect(!page.body.contains("<script>alert"), "\(path)")
        #expect(!page.body.contains("<b>bold</b>"), "\(path)")
        #expect(page.body.contains("&lt;script&gt;alert(1)"), "\(path)")
      }
      let call = try await client.get("/call/\(label.hex)")
      #expect(call.body.contains("&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;"))
    }
  }

  @Test func callPageSummarisesArraysAndLinksProvenance() async throws {
    let (loads, _) = try populate()
    try await serving { client in
      let load = try await client.get("/call/\(loads[2].hex.prefix(16))")
      #expect(load.status == 200)
      // 0, 3, 6, … 2997: summarised, not listed.
      #expect(load.body.contains("<b>1000 numbers</b>"))
      #expect(load.body.contains("min <span class=\"number\">0</span>"))
      #expect(load.body.contains("max <span class=\"number\">2997</span>"))
      #expect(load.body.contains("mean <span class=\"number\">1498.5</span>"))
      #expect(load.body.contains("<polyline"))
      // Its output went to score: linked downstream.
      let downstream = try #require(
        load.body.range(of: "Downstream").map { String(load.body[$0.upperBound...]) })
      #expect(downstream.contains("Lab.score(_:)"))
      let rows = try await client.json("/api/v1/call/\(loads[2].hex)")
      let ids = try #require(rows.first { $0["field"] as? String == "downstream" }?["value"])
      let scoreCall = try #require((ids as? [String])?.first)
      // The score call names load's call as the producer of its input.
      let score = try await client.get("/call/\(scoreCall)")
      #expect(score.body.contains("produced by <a href=\"/call/\(loads[2].hex)\">"))
    }
  }

  @Test func longArraysAreSummarisedWhereTheyLie() async throws {
    let store = try Store.sqlite(at: directory.path, configuration: quiet())
    let big = Op(id: "Lab.big(n:)", version: CodeFingerprint(hex: "f6f6"), parameters: ["n"])
    // 2,100,000 floats: a blob file, mapped, of which 2^20 elements are
    // read, in 64 runs from the first element to the last.
    _ = store.memoize(big, [Argument("n", 2_100_000)]) { (0..<2_100_000).map { Float($0) } }
    store.flush()
    let id = try #require(try store.calls(of: "Lab.big(n:)").first).id
    try await serving { client in
      let page = try await client.get("/call/\(id.hex)")
      #expect(page.status == 200)
      #expect(page.body.contains("<b>2100000 numbers</b>"))
      #expect(
        page.body.contains("range and mean of 1048576 of them, in 64 runs spread over the array"))
      #expect(page.body.contains("min <span class=\"number\">0</span>"))
      #expect(page.body.contains("max <span class=\"number\">2.1e+06</span>"))
      #expect(page.body.contains("mean <span class=\"number\">1.05e+06</span>"))
    }
  }

  @Test func opPagesArePagedByTheDatabase() async throws {
    _ = try populate()
    try await serving { client in
      let first = try await client.get("/op?name=score&limit=3")
      #expect(first.status == 200)
      #expect(first.body.components(separatedBy: "<a href=\"/call/").count - 1 == 3)
      #expect(first.body.contains("badge stale"))
      let next = try #require(
        first.body.range(
          of: "href=\"(/op\\?[^\"]*before=[^\"]*)\">Older calls", options: .regularExpression)
      ).lowerBound
      let link = String(first.body[next...].dropFirst(6).prefix { $0 != "\"" })
        .replacingOccurrences(of: "&amp;", with: "&")
      let second = try await client.get(link)
      #expect(second.body.components(separatedBy: "<a href=\"/call/").count - 1 == 1)
      #expect(second.body.contains("No older calls."))

      // The API pages the same way, with a Link header, in the CLI's rows.
      let api = try await client.get("/api/v1/calls?name=score&limit=3")
      #expect(api.status == 200)
      let rows = try #require(
        try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [[String: Any]])
      #expect(rows.count == 3)
      #expect(
        Set(rows[0].keys) == [
          "id", "op_version", "trial", "started_at", "duration", "inputs", "output", "version",
        ])
      let link2 = try #require(api.headers["link"])
      #expect(link2.hasPrefix("</api/v1/calls?name=Lab.score%28_%3A%29&before="))
      let cli = try run(
        productsDirectory.appendingPathComponent("recall").path,
        ["calls", "score", "--json", "--limit", "1", "--store", directory.path], environment: [:])
      let cliRow = try #require(
        try JSONSerialization.jsonObject(with: Data(cli.text.utf8)) as? [String: Any])
      #expect(NSDictionary(dictionary: cliRow).isEqual(to: rows[0]))

      // Calls that started at the same instant are never split across
      // pages: a page of 2 shows all four of score's calls.
      let database = try DatabaseQueue(path: directory.path + "/recall.sqlite")
      try await database.write { db in
        try db.execute(
          sql: """
            UPDATE call SET started_at = 1800000000.123456
            WHERE op = (SELECT id FROM op_name WHERE name = 'Lab.score(_:)')
            """)
      }
      let tied = try await client.get("/op?name=score&limit=2")
      #expect(tied.body.components(separatedBy: "<a href=\"/call/").count - 1 == 4)
      #expect(tied.body.contains("No older calls."))

      let current = try await client.get("/op?name=score&current=1")
      #expect(current.body.components(separatedBy: "<a href=\"/call/").count - 1 == 1)
      #expect(!current.body.contains("badge stale\">stale"))
    }
  }

  @Test func unknownAddressesAndBadRequestsArePagesNotCrashes() async throws {
    _ = try populate()
    try await serving { client in
      let cases: [(String, Int, String)] = [
        ("/call/\(String(repeating: "f", count: 64))", 404, "has no call whose id starts with"),
        ("/call/..%2F..%2Fetc%2Fpasswd", 404, "Not found"),
        ("/assets/..%2F..%2Fetc%2Fpasswd", 404, "Not found"),
        ("/assets/viewer.swift", 404, "Not found"),
        ("/nothing/here", 404, "No page at this address"),
        ("/op?name=nope", 404, "has no op named"),
        ("/op", 400, "needs ?name="),
        ("/op?name=score&limit=-4", 400, "limit must be a positive number"),
        ("/op?name=score&before=yesterday", 400, "before must be seconds since 1970"),
        // An unknown version: the versions are listed, with a notice.
        ("/versions?op=score&from=zz", 200, "<p class=\"notice\">"),
        ("/graph", 400, "needs ?op="),
      ]
      for (path, status, text) in cases {
        let page = try await client.get(path)
        #expect(page.status == status, "\(path)")
        #expect(page.body.contains(text), "\(path): \(page.body)")
      }
      let api = try await client.get("/api/v1/call/ffff")
      #expect(api.status == 404)
      #expect(api.headers["content-type"] == "application/json")
      #expect(api.body.contains("\"status\":404"))
      let css = try await client.get("/assets/viewer.css")
      #expect(css.status == 200)
      #expect(css.headers["content-type"]?.hasPrefix("text/css") == true)
    }
  }

  @Test func requestsForOtherHostNamesAreRefused() async throws {
    _ = try populate()
    try await serving { client in
      let refused = try await client.get("/", host: "rebound.example:\(client.port)")
      #expect(refused.status == 403)
      #expect(refused.body.contains("not to 'rebound.example'"))
      // It says nothing of the store to the page that asked.
      #expect(!refused.body.contains(directory.path))
      #expect(refused.headers["content-type"]?.hasPrefix("text/plain") == true)
      let api = try await client.get("/api/v1/ops", host: "rebound.example")
      #expect(api.status == 403)
      #expect(try await client.get("/", host: "localhost:\(client.port)").status == 200)
      #expect(try await client.get("/", host: "[::1]:\(client.port)").status == 200)
    }
  }

  @Test func servingOtherInterfacesWarnsAndLoopbackDoesNot() throws {
    _ = try populate()
    func serve(_ host: [String]) throws -> (stdout: String, stderr: String) {
      let process = Process()
      process.executableURL = productsDirectory.appendingPathComponent("recall")
      process.arguments = ["serve", "--store", directory.path, "--port", "0"] + host
      let output = Pipe()
      let errors = Pipe()
      process.standardOutput = output
      process.standardError = errors
      try process.run()
      let line = Server.firstLine(of: output)
      process.interrupt()
      process.waitUntilExit()
      return (
        line, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      )
    }
    let wide = try serve(["--host", "0.0.0.0"])
    #expect(wide.stdout.hasPrefix("Serving \(directory.path) at http://0.0.0.0:"))
    #expect(wide.stderr.contains("warning: listening on 0.0.0.0"))
    let local = try serve([])
    #expect(local.stdout.hasPrefix("Serving \(directory.path) at http://127.0.0.1:"))
    #expect(!local.stderr.contains("warning"))
  }

  @Test func graphsStopAtTheirLimit() throws {
    let (loads, _) = try populate()
    let store = try Store.sqlite(at: directory.path, configuration: quiet())
    let viewer = Viewer(store: store, location: directory.path)
    let load = try #require(try store.call(loads[0]))
    // load(n: 1) fed two score calls (one per version).
    let all = try viewer.connected(to: [load], limit: 100)
    #expect(all.complete)
    #expect(Set(all.0.map(\.op)) == ["Lab.load(n:)", "Lab.score(_:)"])
    let cut = try viewer.connected(to: [load], limit: 2)
    #expect(!cut.complete)
    #expect(cut.0.count == 2)
  }

  @Test func versionsPageDiffsComponents() async throws {
    _ = try populate()
    try await serving { client in
      let page = try await client.get("/versions?op=score")
      #expect(page.status == 200)
      #expect(page.body.contains("a1a1"))
      #expect(page.body.contains("badge current"))
      #expect(
        page.body.contains(
          "<span class=\"line del\">-<span class=\"kw\">let</span> factor = <span class=\"num\">2</span></span>"
        ))
      #expect(
        page.body.contains(
          "<span class=\"line add\">+<span class=\"kw\">let</span> factor = <span class=\"num\">3</span></span>"
        ))
      let split = try await client.get("/versions?op=score&mode=split")
      #expect(split.body.contains("<table class=\"split\">"))
      #expect(
        split.body.contains(
          "<td class=\"del\"><span class=\"kw\">let</span> factor = <span class=\"num\">2</span></td><td class=\"add\">"
        ))
      let rows = try await client.json("/api/v1/diff?op=score")
      #expect(rows.map { $0["component"] as? String } == ["var factor"])
    }
  }

  @Test func graphDrawsTheFrameWithLinksAndStaleCalls() async throws {
    _ = try populate()
    try await serving { client in
      let page = try await client.get("/graph?op=score")
      #expect(page.status == 200)
      #expect(page.body.contains("7 calls of 2 ops, 3 stale."))
      if ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains(where: {
        FileManager.default.isExecutableFile(atPath: "\($0)/dot")
      }) == true {
        #expect(page.body.contains("<svg"))
        #expect(page.body.contains("xlink:href=\"/op?name=Lab.score%28_%3A%29\""))
        // The op box with stale calls is shaded and counts them.
        let svg = try #require(
          page.body.range(of: "<svg").map { String(page.body[$0.lowerBound...]) })
        #expect(svg.contains("fill=\"#fde3c0\""))
        #expect(svg.contains(">3 stale</text>"))
      } else {
        #expect(page.body.contains("apt install graphviz"))
        #expect(page.body.contains("digraph ComputationFrame"))
      }
      let dot = try await client.get("/api/v1/graph?op=score")
      #expect(dot.body.hasPrefix("digraph ComputationFrame"))
    }
  }

  @Test func runningShowsClaimsWhileTheyRun() async throws {
    _ = try populate()
    let store = try Store.sqlite(at: directory.path, configuration: quiet())
    let release = DispatchSemaphore(value: 0)
    let started = DispatchSemaphore(value: 0)
    let slow = Op(id: "Lab.slow(n:)", version: CodeFingerprint(hex: "e5e5"))
    let worker = Thread {
      _ = store.memoize(slow, [Argument("n", 1)]) { () -> Int in
        started.signal()
        release.wait()
        return 1
      }
    }
    worker.start()
    started.wait()
    try await serving { client in
      let page = try await client.get("/running")
      #expect(page.status == 200)
      #expect(page.body.contains("Lab.slow(n:)"))
      #expect(page.body.contains("<div id=\"running\">"))
      let rows = try await client.json("/api/v1/running")
      #expect(rows.map { $0["op"] as? String } == ["Lab.slow(n:)"])
      release.signal()
      var fragment = try await client.get("/running?fragment=1")
      for _ in 0..<100 where fragment.body.contains("Lab.slow") {
        try await Task.sleep(for: .milliseconds(50))
        fragment = try await client.get("/running?fragment=1")
      }
      #expect(fragment.body.contains("No call is being computed"))
      #expect(!fragment.body.contains("<html"))
    }
  }

  @Test func aBrokenStoreIsAnErrorPageAndTheServerGoesOn() async throws {
    _ = try populate()
    try await serving { client in
      let before = try await client.get("/")
      #expect(before.status == 200)
      // Damage the database under the running viewer: the table of counts
      // the overview reads is gone.
      let database = try DatabaseQueue(path: directory.path + "/recall.sqlite")
      try await database.write { db in try db.execute(sql: "DROP TABLE usage") }
      for path in ["/", "/api/v1/ops"] {
        let page = try await client.get(path)
        #expect(page.status == 503, "\(path): \(page.status)")
        #expect(
          page.body.contains("cannot be read") || page.body.contains("\"status\":503"), "\(path)")
        let message =
          page.body.range(of: "<p class=\"error\">").map {
            String(page.body[$0.upperBound...].prefix { $0 != "<" })
          } ?? page.body
        #expect(message.contains(directory.path), "\(path): the error names the store")
      }
      // Pages that do not read the damaged table still work.
      #expect(try await client.get("/op?name=score").status == 200)
      #expect(try await client.get("/assets/viewer.css").status == 200)
    }
  }
}

/// An HTTP client of the viewer under test.
struct Client: Sendable {
  let port: Int

  struct Answer {
    let status: Int
    let headers: [String: String]
    let body: String
  }

  /// GETs `path`, addressed to `host` (the Host header) when given.
  func get(_ path: String, host: String? = nil) async throws -> Answer {
    let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
    var request = URLRequest(url: url)
    if let host { request.setValue(host, forHTTPHeaderField: "Host") }
    return try await withCheckedThrowingContinuation { continuation in
      let task = URLSession.shared.dataTask(with: request) { data, response, error in
        guard let response = response as? HTTPURLResponse, let data else {
          continuation.resume(throwing: error ?? URLError(.badServerResponse))
          return
        }
        var headers: [String: String] = [:]
        for (name, value) in response.allHeaderFields {
          if let name = name as? String, let value = value as? String {
            headers[name.lowercased()] = value
          }
        }
        continuation.resume(
          returning: Answer(
            status: response.statusCode, headers: headers,
            body: String(decoding: data, as: UTF8.self)))
      }
      task.resume()
    }
  }

  func json(_ path: String) async throws -> [[String: Any]] {
    let answer = try await get(path)
    #expect(answer.status == 200, "\(path): \(answer.body)")
    return try #require(
      try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [[String: Any]])
  }
}

/// Summaries of arrays of numbers, as the call page draws them.
@Suite struct NumericSummaryTests {
  @Test func samplesSpanTheWholeArray() throws {
    // 399 elements, 200 samples: positions 0, 1, 3, …, up to 397, never a
    // prefix stretched over the plot.
    let bytes = try ValueCodec.encode((0..<399).map(Double.init)).bytes
    let summary = try #require(try ValueCodec.numericSummary(bytes, samples: 200))
    #expect(summary.count == 399 && summary.measured == 399)
    #expect(summary.samples.count == 200)
    #expect(summary.samples.first == 0)
    #expect(try #require(summary.samples.last) >= 397)
    #expect(summary.mean == 199)
    // Fewer elements than samples: each once.
    let few = try #require(
      try ValueCodec.numericSummary(try ValueCodec.encode([3.0, 1, 2]).bytes, samples: 200))
    #expect(few.samples == [3, 1, 2] && few.minimum == 1 && few.maximum == 3)
    // Not numbers: no summary.
    #expect(try ValueCodec.numericSummary(try ValueCodec.encode(["a", "b"]).bytes) == nil)
  }
}
