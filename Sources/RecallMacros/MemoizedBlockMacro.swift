import RecallCodeTable
import RecallFingerprint
import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxMacros

/// `#memoized("name", a, b) { ... }`: memoizes a block of code (dumbo's and
/// mamo's cell memoization). The closure's tokens are its code fingerprint;
/// `a, b` are its inputs, named by their source text.
///
/// A parameter of the code around the block (or `self`) that the block reads
/// must be an input: the macro sees the declarations around it without their
/// bodies, so it reports those, and the build plugin's tool reports the
/// locals (see `BlockCaptures`).
///
/// The same implementation serves the synchronous and the asynchronous
/// declaration: the runtime entry point is overloaded on the closure's effects.
public struct MemoizedBlockMacro: ExpressionMacro {
  public static func expansion(
    of node: some FreestandingMacroExpansionSyntax,
    in context: some MacroExpansionContext
  ) throws -> ExprSyntax {
    var arguments = Array(node.arguments)
    var closure = node.trailingClosure
    if closure == nil, let last = arguments.last, last.label?.text == "body",
      let explicit = last.expression.as(ClosureExprSyntax.self)
    {
      closure = explicit
      arguments.removeLast()
    }
    guard let closure else {
      context.diagnose(Diagnostics.missingClosure(node))
      return "()"
    }
    guard let first = arguments.first else {
      context.diagnose(Diagnostics.missingClosure(node))
      return "()"
    }
    var diagnostics: [Diagnostic] = []
    let name = OpNaming.blockName(of: node)
    if name == nil {
      diagnostics.append(Diagnostics.notAStringLiteral(first.expression, argument: "name"))
    }
    var inputs: [String] = []
    var seen: Set<String> = []
    var labels: [String] = []
    for argument in arguments.dropFirst() {
      let label = argument.expression.trimmedDescription
      labels.append(label)
      if !seen.insert(label).inserted {
        diagnostics.append(Diagnostics.duplicateInput(argument.expression, name: label))
      }
      // An input's type is inferred, not written in the block's tokens: key it.
      inputs.append(
        "__recallArgument(\(SwiftLiteral.string(label)), typed: \(argument.expression.trimmed))")
    }
    // Names the block reads from the code around it without taking them as
    // inputs: its key would not change with them. The expansion is still
    // sound code, so these errors do not replace it (which would add errors
    // about its type).
    var keyDiagnostics: [Diagnostic] = []
    let parameters = BlockCaptures.Parameters(lexicalContext: context.lexicalContext)
    let inputExpressions = arguments.dropFirst().map(\.expression)
    for capture in BlockCaptures.captures(of: closure, inputs: inputExpressions)
    where capture.name == "self" ? parameters.hasSelf : parameters.names.contains(capture.name) {
      keyDiagnostics.append(Diagnostics.unlistedInput(capture.node, name: capture.name, in: node))
    }
    guard diagnostics.isEmpty, let name else {
      (diagnostics + keyDiagnostics).forEach(context.diagnose)
      return "()"
    }
    keyDiagnostics.forEach(context.diagnose)
    let fingerprint = Fingerprint(of: node)
    let context = TypeContext(context.lexicalContext)
    var types = context.genericParameters.map { "\($0).self" }
    if context.mayBeGeneric && context.isInFunction { types.append("Self.self") }
    let typesArgument = types.isEmpty ? "" : ",\n  types: [\(types.joined(separator: ", "))]"
    return """
      __recallMemoizedBlock(
        __RecallOpSite(name: \(raw: SwiftLiteral.string(name)), fileID: #fileID, fingerprint: \(raw: SwiftLiteral.string(fingerprint.hex)), isBlock: true,
          source: \(raw: SwiftLiteral.string(DisplaySource.text(of: node)))\(raw: MemoizedMacro.siteList("parameters", labels))),
        __recallFingerprintTable,
        [\(raw: inputs.joined(separator: ", "))]\(raw: typesArgument)
      ) \(closure.trimmed)
      """
  }
}
