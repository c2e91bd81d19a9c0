// swift-format-ignore-file: AlwaysUseLowerCamelCase
// (Every name here starts with `__recall`: macro expansions call them, users
// do not.)

// Every symbol macro expansions (and the build plugin's generated table)
// name. They are public because expansions live in the user's module; they
// are implementation details, not API: do not call them directly, and expect
// them to change in any release.

/// Where a memoized function or block is declared: what `@Memoized` and
/// `#memoized` expansions pass to ``__recallMemoized(_:_:_:types:_:)``.
///
/// An implementation detail of the macros; do not use it directly.
public struct __RecallOpSite: Sendable {
  let site: OpSite

  public init(
    name: StaticString, fileID: StaticString, fingerprint: StaticString, version: StaticString = "",
    isBlock: Bool = false, source: StaticString = "", parameters: StaticString = "",
    added: StaticString = "", typedName: StaticString = "",
    storage: (@Sendable () -> StoragePolicy)? = nil
  ) {
    site = OpSite(
      name: name, fileID: fileID, fingerprint: fingerprint, version: version, isBlock: isBlock,
      source: source, parameters: parameters, added: added, typedName: typedName,
      storage: storage)
  }
}

/// A module's table of op versions: the build plugin generates an internal
/// `__recallFingerprintTable` of this type in the user's module, which shadows
/// the public, empty one below.
///
/// An implementation detail of the build plugin; do not use it directly.
public struct __RecallFingerprintTable: Sendable {
  let table: FingerprintTable

  public init(
    versions: [String: (fingerprint: String, version: String)], code: StaticString = "",
    build: StaticString = "", isGenerated: Bool
  ) {
    table = FingerprintTable(versions: versions, code: code, build: build, isGenerated: isGenerated)
  }

  /// The table of a module without the build plugin.
  public static let untracked = __RecallFingerprintTable(versions: [:], isGenerated: false)
}

/// The fingerprint table of a module without the build plugin. The plugin
/// generates an internal table of the same name in the user's module, which
/// shadows this one.
public let __recallFingerprintTable = __RecallFingerprintTable.untracked

/// Runs a memoized function's body, or returns its stored result.
public func __recallMemoized<R: Codable & Sendable, E: Error>(
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable,
  _ arguments: @autoclosure () -> [Argument],
  types: [any Any.Type] = [], _ body: () throws(E) -> R
) throws(E) -> R {
  guard RecallCore.Memoization.isEnabled, let store = Store.forCall() else { return try body() }
  return try store.memoize(Op.declared(at: site.site, table.table), arguments(), types: types, body)
}

/// Runs an asynchronous memoized function's body, or returns its stored result.
public func __recallMemoized<R: Codable & Sendable, E: Error>(
  isolation: isolated (any Actor)? = #isolation,
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable,
  _ arguments: @autoclosure () -> [Argument],
  types: [any Any.Type] = [], _ body: () async throws(E) -> R
) async throws(E) -> R {
  guard RecallCore.Memoization.isEnabled, let store = Store.forCall() else {
    return try await body()
  }
  return try await store.memoize(
    isolation: isolation, Op.declared(at: site.site, table.table), arguments(), types: types, body)
}

/// Chosen only in code that does not compile: `@Memoized`'s expansion checks
/// that each parameter and the result are `Codable & Sendable` and reports the
/// one that is not, at its type; this overload keeps the compiler from
/// reporting it a second time here.
public func __recallMemoized<R, E: Error>(
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable,
  _ arguments: @autoclosure () -> [Argument],
  types: [any Any.Type] = [], _ body: () throws(E) -> R
) throws(E) -> R { fatalError("a '@Memoized' result that is not Codable & Sendable compiled") }

/// Chosen only in code that does not compile: `@Memoized`'s expansion checks
/// that each parameter and the result are `Codable & Sendable` and reports the
/// one that is not, at its type; this overload keeps the compiler from
/// reporting it a second time here.
public func __recallMemoized<R, E: Error>(
  isolation: isolated (any Actor)? = #isolation,
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable,
  _ arguments: @autoclosure () -> [Argument],
  types: [any Any.Type] = [], _ body: () async throws(E) -> R
) async throws(E) -> R {
  fatalError("a '@Memoized' result that is not Codable & Sendable compiled")
}

/// Runs a memoized block (`#memoized`), or returns its stored result.
public func __recallMemoizedBlock<R: Codable & Sendable, E: Error>(
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable,
  _ arguments: @autoclosure () -> [Argument],
  types: [any Any.Type] = [], _ body: () throws(E) -> R
) throws(E) -> R {
  try __recallMemoized(site, table, arguments(), types: types, body)
}

/// Runs an asynchronous memoized block (`#memoized`), or returns its stored
/// result.
public func __recallMemoizedBlock<R: Codable & Sendable, E: Error>(
  isolation: isolated (any Actor)? = #isolation,
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable,
  _ arguments: @autoclosure () -> [Argument],
  types: [any Any.Type] = [], _ body: () async throws(E) -> R
) async throws(E) -> R {
  try await __recallMemoized(isolation: isolation, site, table, arguments(), types: types, body)
}

@available(
  *, unavailable,
  message:
    "the result of a '#memoized' block must be Codable & Sendable; make its type conform, or return a Codable summary of it"
)
public func __recallMemoizedBlock<R, E: Error>(
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable,
  _ arguments: @autoclosure () -> [Argument],
  types: [any Any.Type] = [], _ body: () throws(E) -> R
) throws(E) -> R { fatalError() }

@available(
  *, unavailable,
  message:
    "the result of a '#memoized' block must be Codable & Sendable; make its type conform, or return a Codable summary of it"
)
public func __recallMemoizedBlock<R, E: Error>(
  isolation: isolated (any Actor)? = #isolation,
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable,
  _ arguments: @autoclosure () -> [Argument],
  types: [any Any.Type] = [], _ body: () async throws(E) -> R
) async throws(E) -> R { fatalError() }

/// An argument of a memoized call.
public func __recallArgument<T: Encodable & Sendable>(_ name: String, _ value: T) -> Argument {
  Argument(name, value)
}

/// Chosen only in code that does not compile: `@Memoized`'s expansion checks
/// that each parameter and the result are `Codable & Sendable` and reports the
/// one that is not, at its type; this overload keeps the compiler from
/// reporting it a second time here.
public func __recallArgument<T>(_ name: String, _ value: T) -> Argument {
  fatalError("a '@Memoized' parameter that is not Codable & Sendable compiled")
}

/// An argument whose declared type (`some P`, `any P`) does not fix its type:
/// the type enters the key with the value.
public func __recallArgument<T: Encodable & Sendable>(_ name: String, typed value: T) -> Argument {
  Argument(name, value, keyingType: true)
}

@available(
  *, unavailable,
  message:
    "parameters of a '@Memoized' function must be Codable & Sendable, because they are part of the key; make the parameter's type conform (add 'Codable, Sendable' to its declaration). Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key with '@Memoized(ignoring:)': calls that differ in it are served one result"
)
public func __recallArgument<T>(_ name: String, typed value: T) -> Argument { fatalError() }

/// An argument of a parameter declared with `@Memoized(addedParameters:)`: left
/// out of the key while it equals the parameter's default.
public func __recallArgument<T: Encodable & Sendable>(added name: String, _ value: T, default: T)
  -> Argument
{
  Argument(added: name, value, default: `default`)
}

/// Chosen only in code that does not compile: `@Memoized`'s expansion checks
/// that each parameter and the result are `Codable & Sendable` and reports the
/// one that is not, at its type; this overload keeps the compiler from
/// reporting it a second time here.
public func __recallArgument<T>(added name: String, _ value: T, default: T) -> Argument {
  fatalError("a '@Memoized' parameter that is not Codable & Sendable compiled")
}

/// An added parameter whose declared type does not fix its type.
public func __recallArgument<T: Encodable & Sendable>(
  added name: String, typed value: T, default: T
) -> Argument {
  Argument(added: name, value, default: `default`, keyingType: true)
}

@available(
  *, unavailable,
  message:
    "parameters of a '@Memoized' function must be Codable & Sendable, because they are part of the key; make the parameter's type conform (add 'Codable, Sendable' to its declaration). Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key with '@Memoized(ignoring:)': calls that differ in it are served one result"
)
public func __recallArgument<T>(added name: String, typed value: T, default: T) -> Argument {
  fatalError()
}

/// The receiver of a memoized instance method, an input of the call.
public func __recallSelf<T: Encodable & Sendable>(_ value: T) -> Argument {
  Argument("self", value)
}

/// Chosen only in code that does not compile: `@Memoized`'s expansion checks
/// that each parameter and the result are `Codable & Sendable` and reports the
/// one that is not, at its type; this overload keeps the compiler from
/// reporting it a second time here.
public func __recallSelf<T>(_ value: T) -> Argument {
  fatalError("a '@Memoized' method of a type that is not Codable & Sendable compiled")
}

/// The call a memoized function makes with these arguments, named without
/// running it: what `@Memoized`'s `$` companion returns.
public func __recallCall<R>(
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable, _ arguments: [Argument],
  types: [any Any.Type] = []
) -> MemoizedCall<R> {
  MemoizedCall(op: Op.declared(at: site.site, table.table), arguments: arguments, types: types)
}
