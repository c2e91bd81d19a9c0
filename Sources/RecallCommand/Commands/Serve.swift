import ArgumentParser
import Dispatch
import Foundation
import Hummingbird
import RecallCore
import RecallRows
import RecallViewer

/// `recall serve [--port N] [--host ADDRESS]`
struct Serve: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Browse the store in a web browser: ops, calls, values, graphs, versions, live work.",
    discussion: """
      Serves a read-only viewer of the store on http://127.0.0.1:PORT while programs keep \
      writing to it, until Ctrl-C. Pages are made on this machine and load nothing from the \
      network; /api/v1/… serves the rows --json prints (Documentation/Viewer.md). Graphs need \
      Graphviz's dot. The viewer has no login: it listens on this machine only unless --host \
      names another address.
      """)

  // The store option alone: the viewer prints no rows, so --json means
  // nothing here.
  @Option(
    name: .long,
    help: "The store's directory, or a postgres:// URL (default: $RECALL_STORE, else ./.recall).")
  var store: String?
  @Option(help: "The port (0: one the system picks).")
  var port = 8080
  @Option(
    help: """
      The address to listen on. Any other than 127.0.0.1, ::1 or localhost lets other machines \
      read the store.
      """)
  var host = "127.0.0.1"

  static let loopback: Set<String> = ["127.0.0.1", "::1", "localhost"]

  func validate() throws {
    guard (0...65535).contains(port) else {
      throw ValidationError("--port takes a number from 0 to 65535; got \(port).")
    }
  }

  func run() throws {
    let path = StoreOptions.path(self.store)
    let store = try StoreOptions.open(path, writing: false)
    let location = redactingPassword(path)
    // An IPv6 address with or without its brackets.
    let host = self.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    if !Self.loopback.contains(host) {
      FileHandle.standardError.write(
        Data(
          """
          warning: listening on \(host): anyone who can reach this machine can read the store \
          (the viewer has no login). Leave out --host to serve this machine only.\n
          """.utf8))
    }
    // On loopback, requests for other names are refused (DNS rebinding);
    // on another address, the user chose who may connect.
    let viewer = Viewer(
      store: store, location: location,
      allowedHosts: Self.loopback.contains(host) ? Viewer.loopbackHosts : nil)
    let printedHost = host.contains(":") ? "[\(host)]" : host
    let done = DispatchSemaphore(value: 0)
    let failure = Failure()
    Task {
      defer { done.signal() }
      do {
        let application = viewer.application(host: host, port: port) { port in
          // Written at once, unbuffered: a script waiting for the URL reads it now.
          FileHandle.standardOutput.write(
            Data("Serving \(location) at http://\(printedHost):\(port)/ (Ctrl-C to stop)\n".utf8))
        }
        try await application.runService()
      } catch {
        failure.set(error)
      }
    }
    done.wait()
    if let error = failure.get() {
      throw CommandFailure(
        "The viewer could not serve on \(printedHost):\(port): \(error). Is the port in use? "
          + "Try another with --port, or --port 0 for any free one.")
    }
  }

  /// The error the server stopped with, passed from its task.
  private final class Failure: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ error: any Error) { lock.withLock { self.error = error } }
    func get() -> (any Error)? { lock.withLock { error } }
  }
}
