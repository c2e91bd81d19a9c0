import Foundation
@_exported import RecallCore
@_exported import RecallSQLite
import Synchronization

extension Store {
  /// The directory of the process default store: `$RECALL_STORE` if it is
  /// set and not empty, else `.recall` in the current directory.
  public static var defaultPath: String { ProcessEnvironment.defaultStorePath }

  private static let processDefault: Result<Store, RecallError> = {
    do {
      return .success(try Store.sqlite(at: defaultPath))
    } catch let error as RecallError {
      return .failure(error)
    } catch {
      return .failure(.storeUnavailable(path: defaultPath, detail: "\(error)"))
    }
  }()

  /// The process default store, opened on first use at ``defaultPath``.
  ///
  /// - Throws: `RecallError` when the store cannot be opened.
  public static var `default`: Store {
    get throws(RecallError) { try processDefault.get() }
  }

  /// The store memoized functions use: the one activated for the current task
  /// with ``Store/activate(_:)-(()->R)``, else the process default store.
  ///
  /// - Throws: `RecallError` when no store is activated and the default store
  ///   cannot be opened.
  public static var current: Store {
    get throws(RecallError) {
      if let store = activatedStore { return store }
      return try processDefault.get()
    }
  }

  private static let reportedDefaultFailure = Mutex(false)

  /// The store a memoized call uses, or `nil` (after one message on standard
  /// error) when none can be opened and calls must run unmemoized.
  static func forCall() -> Store? {
    do {
      return try current
    } catch {
      let first = reportedDefaultFailure.withLock { reported in
        defer { reported = true }
        return !reported
      }
      if first {
        FileHandle.standardError.write(
          Data("recall: warning: memoization is off for this process: \(error)\n".utf8))
      }
      return nil
    }
  }
}

extension MemoizedCall where Result: Codable & Sendable {
  /// Whether the current store (``Store/current``) has the call's result,
  /// usable under the op's current version; neither runs nor decodes it.
  ///
  /// - Throws: `RecallError` when no store can be opened, an argument cannot
  ///   be encoded, or the store cannot be read.
  public func isStored() throws -> Bool { try isStored(in: Store.current) }

  /// The call's stored result in the current store, or `nil`: never runs the
  /// function.
  ///
  /// - Throws: `RecallError` when no store can be opened, an argument cannot
  ///   be encoded, or the store cannot be read.
  public func storedResult() throws -> Result? { try storedResult(in: Store.current) }

  /// Whether the current store would reuse the call now, and if not, why
  /// (`Store.explain(_:)`): never runs it.
  ///
  /// - Throws: `RecallError` when no store can be opened, an argument cannot
  ///   be encoded, or the store cannot be read.
  public func explanation() throws -> MissExplanation { try explanation(in: Store.current) }

  /// Stores `result` as the call's result in the current store, as if the
  /// function had returned it after running for `duration`
  /// (``store(_:computedIn:in:)``).
  public func store(_ result: Result, computedIn duration: Duration = .zero) throws {
    try store(result, computedIn: duration, in: Store.current)
  }
}
