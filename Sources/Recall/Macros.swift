/// Makes a function remember its results: the same call is never computed
/// twice, in this process, after a relaunch, or on another machine sharing the
/// store; when the function's code changes, its results are recomputed.
///
/// ```swift
/// @Memoized
/// func train(_ data: Dataset, epochs: Int) -> Model {
///   ...
/// }
/// ```
///
/// Parameters and the result must be `Codable & Sendable`; for an instance
/// method, `self` is an input too. The call is looked up in `Store.current`.
///
/// - Parameters:
///   - version: A version to bump by hand, making every stored result of the
///     function stale (for changes Recall cannot see, such as data files).
///   - ignoring: Parameters left out of the key, such as `verbose`: calls that
///     differ only in them share one result.
///   - addedParameters: Parameters added to the function after it stored
///     results, each with a default that keeps the old behaviour. While a
///     caller passes the default, the parameter is left out of the key, and
///     the first version with the new parameters inherits the results of the
///     version before it, so old calls are found again — provided nothing but
///     this declaration changed (a helper, global or type edited in the same
///     build makes it an ordinary change):
///
///     ```swift
///     @Memoized(addedParameters: ["useScaling"])
///     func train(_ data: Dataset, epochs: Int, useScaling: Bool = false) -> Model
///     ```
///
///     A later edit of the function is an ordinary code change again; keep
///     the parameter listed so calls at its default keep their key.
///   - storage: What is kept of the function's results: only those that took
///     long enough to compute, or are small enough; in memory only; for a
///     limited time. What it leaves `nil` comes from the store's
///     `Store.Configuration.storage`; it does not change the
///     function's version:
///
///     ```swift
///     @Memoized(storage: StoragePolicy(minimumDuration: .milliseconds(50)))
///     func embed(_ text: String) -> [Float]
///     ```
@attached(body)
@attached(peer, names: prefixed(`$`), prefixed(__RecallOutputs_))
public macro Memoized(
  version: String = "", ignoring: [String] = [], addedParameters: [String] = [],
  storage: StoragePolicy = .storeEverything
) =
  #externalMacro(module: "RecallMacros", type: "MemoizedMacro")

/// Memoizes a block of code: the block's tokens are its code fingerprint and
/// `inputs` are what it depends on.
///
/// ```swift
/// let table = #memoized("summary", runs, threshold) {
///   summarize(runs, above: threshold)
/// }
/// ```
///
/// The call key is made from the inputs only, so every value the block reads
/// from the code around it must be one of them: a value left out could change
/// and still be served the result computed for its old one. Reading a
/// parameter of the function, initializer, subscript, accessor or closure
/// around the block, or `self`, without listing it is a compile-time error,
/// with a fix-it that adds it. Reading a local variable (`let`, `var`, `for`,
/// `if let`, `guard let`, `catch`) without listing it is a build error with
/// `RecallPlugin` applied: the macro sees the declarations around a block but
/// not their bodies, the plugin reads whole files. (In a `@Memoized`
/// function the macro cannot see the function either, and the plugin reports
/// its parameters and `self` too.) Globals, functions and types are not
/// inputs: the op's version covers their code.
///
/// An input covers the member accesses it starts: `runs` covers
/// `runs.count`, `config.threshold` covers `config.threshold.description` but
/// not `config.limit`. Members read through an implicit `self` (`rate` for
/// `self.rate`) cannot be told from globals; list them, or `self`.
///
/// A block's name is its op's identity in its module: two blocks with one
/// name would share their results, and with `RecallPlugin` applied that is a
/// build error. A block cannot contain another block (Swift does not expand a
/// macro inside its own expansion).
///
/// - Parameters:
///   - name: The block's name, unique in its module; it identifies the op.
///   - inputs: The values the block reads from the code around it, named by
///     their source text.
///   - body: The computation.
@freestanding(expression)
public macro memoized<R>(
  _ name: String, _ inputs: any Encodable & Sendable..., body: () throws -> R
) -> R = #externalMacro(module: "RecallMacros", type: "MemoizedBlockMacro")

/// Memoizes an asynchronous block of code.
///
/// ```swift
/// let report = try await #memoized("report", url) {
///   try await fetchReport(url)
/// }
/// ```
@freestanding(expression)
public macro memoized<R>(
  _ name: String, _ inputs: any Encodable & Sendable..., body: () async throws -> R
) -> R = #externalMacro(module: "RecallMacros", type: "MemoizedBlockMacro")
