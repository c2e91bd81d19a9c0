import Foundation
import RecallTestSupport
import Testing

/// `recall serve` on a store the demo wrote, each page loaded in headless
/// Chromium: the DOM it renders (after the page's script ran) has the rows,
/// links and drawings expected, and a screenshot of each page is saved under
/// `.build/viewer-screenshots/` (CI keeps them as artifacts). Runs where
/// Chromium is installed, and always when RECALL_BROWSER_TESTS=1 (as in CI),
/// where a missing Chromium fails it.
@Suite(.enabled(if: Browser.path != nil || Browser.required), .serialized)
struct BrowserTests {
  let directory = TemporaryDirectory()

  @Test func everyPageRendersInARealBrowser() async throws {
    let chromium = try #require(Browser.path, "install Chromium: apt install chromium")
    let demo = try run(
      productsDirectory.appendingPathComponent("recall-demo").path, [],
      environment: ["RECALL_STORE": directory.path])
    try #require(demo.status == 0, "the demo failed: \(demo.text)")
    #expect(demo.text.contains("explore the results in a browser: swift run recall serve --store"))

    let server = try Server(store: directory.path)
    defer { server.stop() }
    let client = Client(port: server.port)
    let train = try #require(
      try await client.json("/api/v1/calls?name=train&limit=1").first?["id"] as? String)

    let screenshots = Browser.screenshots
    try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
    func load(_ name: String, _ path: String) throws -> String {
      let url = server.url + path
      let dom = try run(
        chromium, Browser.flags + ["--dump-dom", url], environment: [:])
      #expect(dom.status == 0, "\(name): \(dom.text)")
      let shot = screenshots.appendingPathComponent("\(name).png")
      _ = try run(
        chromium,
        Browser.flags + ["--window-size=1280,1000", "--screenshot=\(shot.path)", url],
        environment: [:])
      #expect(FileManager.default.fileExists(atPath: shot.path), "\(name): no screenshot")
      // The page's script ran in the browser.
      #expect(dom.text.contains("data-ready=\"1\""), "\(name): the script did not run")
      return dom.text
    }

    let overview = try load("overview", "/")
    #expect(overview.components(separatedBy: "<a href=\"/op?name=recall_demo.").count - 1 == 4)
    #expect(overview.contains("<svg class=\"chart\""))
    #expect(overview.contains("<div class=\"label\">calls</div>"))

    let op = try load("op", "/op?name=train")
    #expect(op.contains("<table id=\"calls\" class=\"sortable\">"))
    #expect(op.components(separatedBy: "<a href=\"/call/").count - 1 == 36)
    #expect(op.contains("<th>Trial</th>"))

    let call = try load("call", "/call/\(train)")
    #expect(call.contains("recall_demo.train("))
    #expect(call.contains("produced by <a href=\"/call/"))
    #expect(call.contains("Downstream"))
    #expect(call.contains("<a href=\"/graph?call=\(train)\">"))

    let graph = try load("graph", "/graph?op=train")
    // The drawing's op boxes link to their pages.
    let drawing = try #require(
      graph.range(of: "<svg").map { String(graph[$0.lowerBound...].prefix { _ in true }) })
    #expect(drawing.contains("xlink:href=\"/op?name=recall_demo.train"))
    #expect(graph.contains("36 calls"))

    let versions = try load("versions", "/versions?op=train")
    #expect(versions.contains("badge current"))
    #expect(versions.contains("has one version only"))

    let running = try load("running", "/running")
    #expect(running.contains("<div id=\"running\">"))
    #expect(running.contains("No call is being computed"))
  }
}

/// Headless Chromium, as Debian's package installs it.
enum Browser {
  static let path: String? = {
    let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
      .split(separator: ":")
    for name in ["chromium", "chromium-browser", "google-chrome"] {
      for directory in directories
      where FileManager.default.isExecutableFile(
        atPath: "\(directory)/\(name)")
      {
        return "\(directory)/\(name)"
      }
    }
    return nil
  }()

  static let required = ProcessInfo.processInfo.environment["RECALL_BROWSER_TESTS"] == "1"

  /// As root in a container Chromium needs --no-sandbox; a fresh profile
  /// directory keeps runs apart.
  static var flags: [String] {
    [
      "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
      "--user-data-dir=\(NSTemporaryDirectory())recall-chromium-\(UUID().uuidString)",
      "--virtual-time-budget=3000",
    ]
  }

  /// `.build/viewer-screenshots` of this package.
  static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".build/viewer-screenshots")
}

/// `recall serve --port 0` in a process of its own.
final class Server: Sendable {
  let process: Process
  let url: String
  let port: Int

  init(store: String) throws {
    let process = Process()
    process.executableURL = productsDirectory.appendingPathComponent("recall")
    process.arguments = ["serve", "--store", store, "--port", "0"]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    // "Serving STORE at http://127.0.0.1:PORT/ (Ctrl-C to stop)"
    let text = Self.firstLine(of: output)
    guard let start = text.range(of: "http://"),
      let end = text[start.lowerBound...].firstIndex(of: " "),
      let port = Int(text[start.lowerBound..<end].split(separator: ":").last?.dropLast() ?? "")
    else {
      process.terminate()
      throw ServerFailure(output: text)
    }
    self.process = process
    self.url = String(text[start.lowerBound..<end].dropLast())
    self.port = port
  }

  /// What a process wrote to `pipe` up to its first line's end (or its
  /// exit): `recall serve` prints its URL, then serves.
  static func firstLine(of pipe: Pipe) -> String {
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
      let chunk = pipe.fileHandleForReading.availableData
      guard !chunk.isEmpty else { break }
      line.append(chunk)
    }
    return String(decoding: line, as: UTF8.self)
  }

  func stop() {
    process.interrupt()
    process.waitUntilExit()
  }

  struct ServerFailure: Error { let output: String }
}
