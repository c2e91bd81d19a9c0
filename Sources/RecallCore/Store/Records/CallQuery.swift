import Foundation

/// Which stored calls to list (``StoreReader/calls(_:)``): every condition
/// given must hold.
public struct CallQuery: Sendable, Hashable {
  /// Calls of this op.
  public var op: OpID?
  /// Calls made with this op version.
  public var opVersion: CodeFingerprint?
  /// Calls filed under this semantic version.
  public var semanticVersion: CodeFingerprint?
  /// Calls filed under any semantic version but this one (stale calls, given
  /// the current version's).
  public var semanticVersionOtherThan: CodeFingerprint?
  /// Calls with these inputs, by parameter name.
  public var inputs: [String: ContentID]
  /// Calls whose id starts with this hexadecimal prefix.
  public var idPrefix: String?

  /// The ids ``idPrefix`` selects, as a closed range of digests for a
  /// backend's index: the prefix padded with the lowest and the highest
  /// digits; a prefix that is not hexadecimal gives a range with nothing in
  /// it. `nil` without a prefix.
  public var idRange: (lower: Digest, upper: Digest)? {
    guard let prefix = idPrefix else { return nil }
    let hex = prefix.lowercased()
    guard hex.count <= 64, hex.allSatisfy(\.isHexDigit),
      let lower = Digest(hex: hex.padding(toLength: 64, withPad: "0", startingAt: 0)),
      let upper = Digest(hex: hex.padding(toLength: 64, withPad: "f", startingAt: 0))
    else {
      return (
        Digest(bytes: [UInt8](repeating: 0xff, count: 32))!,
        Digest(bytes: [UInt8](repeating: 0, count: 32))!
      )
    }
    return (lower, upper)
  }
  /// Calls that produced this value.
  public var outputCID: ContentID?
  /// Calls whose output has this history: the call that produced it.
  public var outputHID: HistoryID?
  /// Calls with an input that has this history: the calls that used the
  /// output of the call that produced it.
  public var inputHID: HistoryID?
  /// Calls with an input that has any of these histories (when not empty):
  /// the calls that used the outputs of the calls that produced them, many
  /// at once.
  public var inputHIDs: [HistoryID] = []
  /// Calls with an input of this value, whatever its history.
  public var inputCID: ContentID?
  /// Only calls started before this date.
  public var startedBefore: Date?
  /// At most this many calls.
  public var limit: Int?

  /// Creates a query.
  public init(
    op: OpID? = nil, opVersion: CodeFingerprint? = nil, semanticVersion: CodeFingerprint? = nil,
    semanticVersionOtherThan: CodeFingerprint? = nil, inputs: [String: ContentID] = [:],
    idPrefix: String? = nil, outputCID: ContentID? = nil, outputHID: HistoryID? = nil,
    inputHID: HistoryID? = nil, inputCID: ContentID? = nil, limit: Int? = nil
  ) {
    self.outputHID = outputHID
    self.inputHID = inputHID
    self.inputCID = inputCID
    self.op = op
    self.opVersion = opVersion
    self.semanticVersion = semanticVersion
    self.semanticVersionOtherThan = semanticVersionOtherThan
    self.inputs = inputs
    self.idPrefix = idPrefix
    self.outputCID = outputCID
    self.limit = limit
  }

  /// Whether a call matches (for backends that filter in memory).
  public func matches(_ call: CallRecord) -> Bool {
    if let op, call.op != op { return false }
    if let opVersion, call.opVersion != opVersion { return false }
    if let semanticVersion, call.semanticVersion != semanticVersion { return false }
    if let semanticVersionOtherThan, call.semanticVersion == semanticVersionOtherThan {
      return false
    }
    if let idPrefix, !call.id.hex.hasPrefix(idPrefix.lowercased()) { return false }
    if let startedBefore, call.startedAt >= startedBefore { return false }
    if let outputCID, call.outputCID != outputCID { return false }
    if let outputHID, call.outputHID != outputHID { return false }
    if let inputHID, !call.inputs.contains(where: { $0.hid == inputHID }) { return false }
    if !inputHIDs.isEmpty, !call.inputs.contains(where: { inputHIDs.contains($0.hid) }) {
      return false
    }
    if let inputCID, !call.inputs.contains(where: { $0.cid == inputCID }) { return false }
    for (name, cid) in inputs
    where !call.inputs.contains(where: { $0.name == name && $0.cid == cid }) {
      return false
    }
    return true
  }
}
