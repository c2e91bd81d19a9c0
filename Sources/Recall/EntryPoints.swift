// swift-format-ignore-file: AlwaysUseLowerCamelCase
// (Every name here starts with `__recall`: macro expansions call them, users
// do not.)

// The functions macro expansions call. They are public because expansions live
// in the user's module; they are not API and may change in any release.

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
  return try store.memoize(Op.__resolve(site, table), arguments(), types: types, body)
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
    isolation: isolation, Op.__resolve(site, table), arguments(), types: types, body)
}

@available(
  *, unavailable,
  message:
    "the result of a '@Memoized' function must be Codable & Sendable; make its type conform, or return a Codable summary of it"
)
public func __recallMemoized<R, E: Error>(
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable,
  _ arguments: @autoclosure () -> [Argument],
  types: [any Any.Type] = [], _ body: () throws(E) -> R
) throws(E) -> R { fatalError() }

@available(
  *, unavailable,
  message:
    "the result of a '@Memoized' function must be Codable & Sendable; make its type conform, or return a Codable summary of it"
)
public func __recallMemoized<R, E: Error>(
  isolation: isolated (any Actor)? = #isolation,
  _ site: __RecallOpSite, _ table: __RecallFingerprintTable,
  _ arguments: @autoclosure () -> [Argument],
  types: [any Any.Type] = [], _ body: () async throws(E) -> R
) async throws(E) -> R { fatalError() }

/// An argument of a memoized call.
public func __recallArgument<T: Encodable & Sendable>(_ name: String, _ value: T) -> Argument {
  Argument(name, value)
}

@available(
  *, unavailable,
  message:
    "parameters of a '@Memoized' function must be Codable & Sendable, because they are part of the key; make the type conform, or leave the parameter out with '@Memoized(ignoring:)'"
)
public func __recallArgument<T>(_ name: String, _ value: T) -> Argument { fatalError() }

/// An argument whose declared type (`some P`, `any P`) does not fix its type:
/// the type enters the key with the value.
public func __recallArgument<T: Encodable & Sendable>(_ name: String, typed value: T) -> Argument {
  Argument(name, value, keyingType: true)
}

@available(
  *, unavailable,
  message:
    "parameters of a '@Memoized' function must be Codable & Sendable, because they are part of the key; make the type conform, or leave the parameter out with '@Memoized(ignoring:)'"
)
public func __recallArgument<T>(_ name: String, typed value: T) -> Argument { fatalError() }

/// An argument of a parameter declared with `@Memoized(addedParameters:)`: left
/// out of the key while it equals the parameter's default.
public func __recallArgument<T: Encodable & Sendable>(added name: String, _ value: T, default: T)
  -> Argument
{
  Argument(added: name, value, default: `default`)
}

@available(
  *, unavailable,
  message:
    "parameters of a '@Memoized' function must be Codable & Sendable, because they are part of the key; make the type conform, or leave the parameter out with '@Memoized(ignoring:)'"
)
public func __recallArgument<T>(added name: String, _ value: T, default: T) -> Argument {
  fatalError()
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
    "parameters of a '@Memoized' function must be Codable & Sendable, because they are part of the key; make the type conform, or leave the parameter out with '@Memoized(ignoring:)'"
)
public func __recallArgument<T>(added name: String, typed value: T, default: T) -> Argument {
  fatalError()
}

/// The receiver of a memoized instance method, an input of the call.
public func __recallSelf<T: Encodable & Sendable>(_ value: T) -> Argument {
  Argument("self", value)
}

@available(
  *, unavailable,
  message:
    "'@Memoized' on an instance method needs its type to be Codable & Sendable, because 'self' is an input of the call; make the type conform, or make the method 'static' and pass what it needs as parameters"
)
public func __recallSelf<T>(_ value: T) -> Argument { fatalError() }
