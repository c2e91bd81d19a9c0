import Dispatch
import Foundation
import Hummingbird
import Logging
import RecallCore
import RecallRows

/// `recall serve`: a web viewer of one store, read-only. Pages are HTML made
/// on the server; `/api/v1/…` serves the same rows as the `recall` tool's
/// `--json` (``JSONLines``), as JSON arrays.
package struct Viewer: Sendable {
  /// The store, opened for reading.
  package let store: Store
  /// Where the store is, as the header shows it (a URL without its password).
  package let location: String

  /// The host names requests must be addressed to (their `Host` header),
  /// or `nil` for any: a viewer on loopback answers only requests for
  /// loopback names, so that a web page elsewhere cannot read the store
  /// through a name it made resolve to 127.0.0.1 (DNS rebinding).
  package let allowedHosts: Set<String>?

  /// The host names of this machine's loopback interface.
  package static let loopbackHosts: Set<String> = ["127.0.0.1", "localhost", "::1", "[::1]"]

  package init(store: Store, location: String, allowedHosts: Set<String>? = Viewer.loopbackHosts) {
    self.store = store
    self.location = location
    self.allowedHosts = allowedHosts
  }

  /// The viewer's routes: pages, the API and the assets.
  package func router() -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: Failures(viewer: self))
    if let allowedHosts { router.add(middleware: HostCheck(allowed: allowedHosts)) }
    router.get("/") { request, _ in try await self.page { try self.overview() } }
    router.get("/op") { request, _ in
      try await self.page { try self.opPage(Query(request)) }
    }
    router.get("/call/:id") { _, context in
      let id = context.parameters.get("id") ?? ""
      return try await self.page { try self.callPage(id) }
    }
    router.get("/graph") { request, _ in
      try await self.page { try self.graphPage(Query(request)) }
    }
    router.get("/versions") { request, _ in
      try await self.page { try self.versionsPage(Query(request)) }
    }
    router.get("/running") { request, _ in
      let fragment = Query(request).text("fragment") != nil
      return try await self.page { try self.runningPage(fragmentOnly: fragment) }
    }
    router.get("/assets/:name") { _, context in
      guard let name = context.parameters.get("name"), let asset = Assets.files[name] else {
        throw ViewerError.notFound("No asset of that name.")
      }
      return Response(
        status: .ok, headers: [.contentType: asset.type, .cacheControl: "max-age=3600"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: asset.text)))
    }
    api(router)
    return router
  }

  /// The viewer as a server on `host`:`port` (0: a port the system picks);
  /// `onRunning` learns the port once it accepts connections. The server logs
  /// at `logLevel` and above.
  package func application(
    host: String, port: Int, logLevel: Logger.Level = .warning,
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
  ) -> some ApplicationProtocol {
    var logger = Logger(label: "recall-serve")
    logger.logLevel = logLevel
    return Application(
      router: router(),
      configuration: ApplicationConfiguration(
        address: .hostname(host, port: port), serverName: "recall"),
      onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
      logger: logger)
  }

  // MARK: Answering

  /// Runs a read of the store away from the server's threads (SQLite and
  /// the PostgreSQL client block), and makes its HTML a response.
  func page(_ body: @escaping @Sendable () throws -> HTML) async throws -> Response {
    let html = try await Self.blocking(body)
    return Response(
      status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
      body: ResponseBody(byteBuffer: ByteBuffer(string: html.markup)))
  }

  /// Runs `body` on a thread of its own pool, so that a slow query does not
  /// hold up the server's event loops or Swift's cooperative threads.
  static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      queue.async { continuation.resume(with: Result { try body() }) }
    }
  }

  private static let queue = DispatchQueue(label: "recall-serve.store", attributes: .concurrent)

  /// The page for an error: 404 for what the store does not have, 400 for a
  /// request that names nothing, 503 for a store that cannot be read.
  func errorPage(status: HTTPResponse.Status, title: String, message: String) -> Response {
    let body: HTML = """
      <h1>\(title)</h1><p class="error">\(message)</p><p><a href="/">Back to the overview</a></p>
      """
    let html = Layout.page(title: title, store: location, active: "", body: body)
    return Response(
      status: status, headers: [.contentType: "text/html; charset=utf-8"],
      body: ResponseBody(byteBuffer: ByteBuffer(string: html.markup)))
  }
}

/// What a page reports instead of its content.
enum ViewerError: Error {
  /// The store has no such op, call or version, or the URL names nothing.
  case notFound(String)
  /// The request is missing something it needs, or has a malformed value.
  case badRequest(String)
  /// The request is addressed to a host name the viewer does not serve.
  case forbidden(String)
}

/// Turns every failure into a page (or, under `/api/`, a JSON error) with
/// its status: the server answers every request, whatever the store holds.
struct Failures: RouterMiddleware {
  typealias Context = BasicRequestContext
  let viewer: Viewer

  func handle(
    _ request: Request, context: Context,
    next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    do {
      return try await next(request, context)
    } catch {
      let (status, title, message) = Self.describe(error)
      // A page for a foreign host name says nothing of the store.
      guard status != .forbidden else {
        return Response(
          status: status, headers: [.contentType: "text/plain; charset=utf-8"],
          body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
      }
      guard !request.uri.path.hasPrefix("/api/") else {
        let json = JSONLines.text([APIError(error: message, status: Int(status.code))])
        return Response(
          status: status, headers: [.contentType: "application/json"],
          body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
      }
      return viewer.errorPage(status: status, title: title, message: message)
    }
  }

  static func describe(_ error: any Error) -> (HTTPResponse.Status, String, String) {
    switch error {
    case ViewerError.notFound(let message): (.notFound, "Not found", message)
    case ViewerError.badRequest(let message): (.badRequest, "Bad request", message)
    case ViewerError.forbidden(let message): (.forbidden, "Forbidden", message)
    case let error as CommandFailure: (.notFound, "Not found", error.description)
    case let error as RecallError where error.code == RecallError.notFound:
      (.notFound, "Not found", error.message)
    case let error as RecallError:
      (.serviceUnavailable, "The store cannot be read", error.message)
    case let error as HTTPError where error.status == .notFound:
      (.notFound, "Not found", "No page at this address. The overview links to every page.")
    case let error as HTTPError:
      (error.status, error.status.reasonPhrase, error.body ?? error.status.reasonPhrase)
    default:
      (.internalServerError, "Something went wrong", String(describing: error))
    }
  }
}

/// Refuses a request addressed to a host name the viewer does not serve
/// (``Viewer/allowedHosts``).
struct HostCheck: RouterMiddleware {
  typealias Context = BasicRequestContext
  let allowed: Set<String>

  func handle(
    _ request: Request, context: Context,
    next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    let authority = request.head.authority ?? ""
    let host =
      authority.hasPrefix("[")
      ? String(authority.prefix { $0 != "]" }) + "]"
      : String(authority.prefix { $0 != ":" })
    guard allowed.contains(host.lowercased()) else {
      throw ViewerError.forbidden(
        "This viewer answers requests addressed to this machine (127.0.0.1 or localhost), "
          + "not to '\(host)'. Open it at http://127.0.0.1 with its port, or start it with "
          + "--host to serve other names.")
    }
    return try await next(request, context)
  }
}

/// The body of an API error.
struct APIError: Encodable {
  let error: String
  let status: Int
}
