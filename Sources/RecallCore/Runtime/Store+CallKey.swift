import Foundation
import Synchronization

/// A call whose key has been computed, ready to be looked up or executed.
struct PreparedCall {
  let op: Op
  let id: CallID
  /// The arguments in the key (an added parameter at its default is not).
  let arguments: [Argument]
  /// The arguments' values as hashed for the key, kept so that a miss stores
  /// them without encoding them again.
  let inputs: [HashedValue]
  let types: [any Any.Type]
  let result: any Any.Type
  /// The op's resolution the key was made under.
  let resolved: ResolvedOp
  /// The trial the call is made in (``Trial/current``).
  let trial: Int
  /// The memoized call whose body made this call (``CallStack/current``,
  /// read once per call), if any.
  let caller: CallStack?
  /// Whether the key is the one of a random call in `trial`, rather than the
  /// one every trial shares (``CallID/init(op:semanticVersion:trial:keyFields:isRandom:)``).
  let isRandom: Bool
  /// Whether the call runs even when its result is stored, and replaces it
  /// (``Memoization/recomputing(_:)-(()->R)``).
  let recomputes: Bool

  /// The semantic version the call is filed under.
  var semanticVersion: CodeFingerprint { resolved.semanticVersion }
  /// Whether the call is filed under the op's confirmed semantic version in
  /// the store, rather than under the version itself (``ResolvedOp``).
  var isConfirmed: Bool { resolved.isConfirmed }
  /// The store's generation its resolution was looked up in
  /// (``ResolvedOp/generation``).
  var generation: UInt64 { resolved.generation }
  /// The trial the call is filed under: its own if it is random, 0 if every
  /// trial shares it.
  var filedTrial: Int { isRandom ? trial : 0 }
  /// The parts of the inputs stored by parts, by input cid (empty for
  /// almost every call).
  var inputParts: [ContentID: [ValuePart]] {
    var parts: [ContentID: [ValuePart]] = [:]
    for input in inputs {
      if case .parts(let encoded) = input.form { parts[input.cid] = encoded.valueParts }
    }
    return parts
  }

  /// Whether the call is its own caller's, or a caller's of it: made again,
  /// with the same key, from inside its own body.
  var callsItself: Bool { caller?.contains(id) ?? false }

  /// The call as events name it.
  var reference: CallReference { CallReference(op: op.id, call: id, trial: filedTrial) }

  init(
    _ op: Op, _ resolved: ResolvedOp, _ arguments: [Argument], _ inputs: [HashedValue],
    _ types: [any Any.Type], _ result: any Any.Type, caller: CallStack?, trial: Int,
    isRandom: Bool, recomputes: Bool
  ) {
    self.recomputes = recomputes
    var key =
      isRandom
      ? op.details.randomPrefix(resolved.semanticVersion, trial: trial) : resolved.keyPrefix
    Self.addKeyFields(to: &key, op, arguments, inputs, types, result)
    self.op = op
    self.id = CallID(key.finalize())
    self.arguments = arguments
    self.inputs = inputs
    self.types = types
    self.result = result
    self.resolved = resolved
    self.caller = caller
    self.trial = trial
    self.isRandom = isRandom
  }

  /// The same call filed under another resolution of its op.
  func filed(under resolved: ResolvedOp) -> PreparedCall {
    PreparedCall(
      op, resolved, arguments, inputs, types, result, caller: caller, trial: trial,
      isRandom: isRandom, recomputes: recomputes)
  }

  /// The same call keyed as a random call of its trial, or as one every
  /// trial shares.
  func keyed(random: Bool) -> PreparedCall {
    guard random != isRandom else { return self }
    return PreparedCall(
      op, resolved, arguments, inputs, types, result, caller: caller, trial: trial,
      isRandom: random, recomputes: recomputes)
  }

  /// The key's fields after the op's, as stored with the call.
  var keyFields: [UInt8] {
    var recorder = FieldRecorder()
    Self.addKeyFields(to: &recorder, op, arguments, inputs, types, result)
    return recorder.bytes
  }

  /// Writes the key's fields after the op's: each input's name, cid and (when
  /// keyed) type, then the types in the key.
  private static func addKeyFields(
    to sink: inout some FieldSink, _ op: Op, _ arguments: [Argument], _ inputs: [HashedValue],
    _ types: [any Any.Type], _ result: any Any.Type
  ) {
    for (argument, input) in zip(arguments, inputs) {
      sink.add(argument.name)
      sink.add(input.cid.digest)
      if let type = argument.keyedType { sink.add(TypeName.stable(type)) }
    }
    for type in types { sink.add(TypeName.stable(type)) }
    if op.keysResultType { sink.add(TypeName.stable(result)) }
  }
}

extension Store {
  /// Computes a call's key: hashes its arguments (an added parameter at its
  /// default is left out) under the op's current resolution in this store.
  /// Returns `nil`, with a warning, when an argument cannot be encoded: the
  /// call then runs without memoization.
  ///
  /// `plain` says every argument is a plain value (it has a ``WarmKey``):
  /// none is a `Lazy`, has its own identity or is stored by parts, so each
  /// is hashed without asking.
  func prepare(
    _ op: Op, _ arguments: [Argument], _ types: [any Any.Type], result: any Any.Type,
    in scope: TaskScope = .current, plain: Bool = false
  ) -> PreparedCall? {
    let resolved = resolution(of: op)
    var inputs: [HashedValue] = []
    inputs.reserveCapacity(arguments.count)
    var omitted: [Int] = []
    for (index, argument) in arguments.enumerated() {
      do {
        let input =
          plain
          ? try ValueCodec.hashWhole(argument.value) : try ValueCodec.hashArgument(argument.value)
        if let defaultValue = argument.defaultValue,
          op.details.defaultID(of: argument.name, defaultValue) == input.cid
        {
          omitted.append(index)
        } else {
          inputs.append(input)
        }
      } catch {
        let fix =
          argument.value is any CustomContentIdentity
          ? "Make its type's contentIdentity(into:) total"
          : "Make the type's Codable conformance total"
        warn(
          .unhashableArgument, nil,
          "\(op.id.name): argument '\(argument.name)' could not be "
            + (argument.value is any CustomContentIdentity ? "identified" : "encoded")
            + " (\(error)); the call runs without memoization. \(fix), "
            + "or, only if it never changes the result, leave the parameter out of the key with "
            + "'@Memoized(ignoring:)'.")
        return nil
      }
    }
    let keyed =
      omitted.isEmpty
      ? arguments : arguments.indices.filter { !omitted.contains($0) }.map { arguments[$0] }
    // Looked up first under the key its op's calls were last found or filed
    // under (``CallPlan`` tries the other before it runs the call).
    return PreparedCall(
      op, resolved, keyed, inputs, types, result, caller: scope.stack, trial: scope.trial,
      isRandom: op.details.knownRandomness == .random, recomputes: scope.recomputes)
  }
}

extension OpDetails {
  /// The content id of an added parameter's default, hashed at the op's
  /// first call with a default of its type (`nil` when the default cannot be
  /// encoded). A default is a constant of the declaration: one that changes
  /// from call to call is taken as it was first.
  func defaultID(of name: String, _ value: any Encodable & Sendable) -> ContentID? {
    let key = DefaultKey(name: name, type: ObjectIdentifier(type(of: value)))
    if let known = defaultIDs.withLock({ $0[key] }) { return known }
    guard let cid = try? ValueCodec.hashArgument(value).cid else { return nil }
    defaultIDs.withLock { $0[key] = cid }
    return cid
  }
}
