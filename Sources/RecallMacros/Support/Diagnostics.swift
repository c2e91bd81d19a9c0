import SwiftDiagnostics
import SwiftSyntax

/// Every diagnostic the macros emit, in the compiler's voice, with a fix-it
/// whenever the fix is mechanical.
struct RecallDiagnostic: DiagnosticMessage {
  let message: String
  let diagnosticID: MessageID
  let severity: DiagnosticSeverity

  init(_ id: String, _ message: String, severity: DiagnosticSeverity = .error) {
    self.message = message
    self.diagnosticID = MessageID(domain: "Recall", id: id)
    self.severity = severity
  }
}

struct RecallFixIt: FixItMessage {
  let message: String
  var fixItID: MessageID { MessageID(domain: "Recall", id: message) }
}

enum Diagnostics {
  private static func removing(_ attribute: AttributeSyntax) -> FixIt {
    FixIt(
      message: RecallFixIt(message: "Remove '@Memoized'"),
      changes: [.replace(oldNode: Syntax(attribute), newNode: Syntax(TokenSyntax.identifier("")))])
  }

  static func notAFunction(_ attribute: AttributeSyntax, on declaration: some SyntaxProtocol)
    -> Diagnostic
  {
    Diagnostic(
      node: attribute,
      message: RecallDiagnostic(
        "notAFunction",
        "'@Memoized' can only be applied to functions and methods; use '#memoized(\"name\", inputs...) { ... }' to memoize a block"
      ),
      fixIt: removing(attribute))
  }

  static func missingBody(_ attribute: AttributeSyntax) -> Diagnostic {
    Diagnostic(
      node: attribute,
      message: RecallDiagnostic(
        "missingBody", "'@Memoized' requires a function with a body"),
      fixIt: removing(attribute))
  }

  static func voidResult(_ attribute: AttributeSyntax, at node: some SyntaxProtocol) -> Diagnostic {
    Diagnostic(
      node: node,
      message: RecallDiagnostic(
        "voidResult",
        "'@Memoized' cannot be applied to a function that returns nothing; there is no result to remember"
      ),
      fixIt: removing(attribute))
  }

  static func opaqueResult(_ type: some SyntaxProtocol) -> Diagnostic {
    Diagnostic(
      node: type,
      message: RecallDiagnostic(
        "opaqueResult",
        "'@Memoized' cannot be applied to a function with an opaque result type; return a concrete Codable type instead of '\(type.trimmedDescription)'"
      ))
  }

  static func inoutParameter(_ parameter: FunctionParameterSyntax) -> Diagnostic {
    Diagnostic(
      node: parameter,
      message: RecallDiagnostic(
        "inoutParameter",
        "'@Memoized' cannot be applied to a function with 'inout' parameters; return the new value instead"
      ))
  }

  static func functionParameter(
    _ parameter: FunctionParameterSyntax, name: String, attribute: AttributeSyntax
  ) -> Diagnostic {
    Diagnostic(
      node: parameter.type,
      message: RecallDiagnostic(
        "functionParameter",
        "'@Memoized' cannot hash the function-typed parameter '\(name)'; pass the Codable data it depends on instead, or, only if it never changes the result (a progress callback, a logger), leave it out of the key with '@Memoized(ignoring: [\"\(name)\"])': calls that differ in it are then served one result"
      ),
      fixIt: FixIt(
        message: RecallFixIt(
          message: "Leave '\(name)' out of the key (only if it never changes the result)"),
        changes: [
          .replace(
            oldNode: Syntax(attribute),
            newNode: Syntax(ignoring(name, in: attribute)))
        ]))
  }

  /// The attribute with `name` added to its `ignoring:` list (made, in its
  /// place before `addedParameters:` and `storage:`, when there is none).
  private static func ignoring(_ name: String, in attribute: AttributeSyntax) -> AttributeSyntax {
    let element = ArrayElementSyntax(expression: StringLiteralExprSyntax(content: name))
    var arguments = Array(attribute.arguments?.as(LabeledExprListSyntax.self) ?? [])
    if let index = arguments.firstIndex(where: { $0.label?.text == "ignoring" }),
      let array = arguments[index].expression.as(ArrayExprSyntax.self)
    {
      var elements = Array(array.elements)
      if let last = elements.last {
        elements[elements.count - 1] = last.with(
          \.trailingComma, .commaToken(trailingTrivia: .space))
      }
      elements.append(element)
      arguments[index].expression = ExprSyntax(
        array.with(\.elements, ArrayElementListSyntax(elements)))
    } else {
      // In the declaration's order: after `version:`, before `addedParameters:`
      // and `storage:`.
      let index =
        arguments.firstIndex(where: { ["addedParameters", "storage"].contains($0.label?.text) })
        ?? arguments.endIndex
      var argument = LabeledExprSyntax(
        label: .identifier("ignoring"), colon: .colonToken(trailingTrivia: .space),
        expression: ArrayExprSyntax(elements: ArrayElementListSyntax([element])))
      if index < arguments.endIndex {
        argument.trailingComma = .commaToken(trailingTrivia: .space)
      } else if let last = arguments.last {
        arguments[arguments.count - 1] = last.with(
          \.trailingComma, .commaToken(trailingTrivia: .space))
      }
      arguments.insert(argument, at: index)
    }
    return attribute.with(\.leftParen, .leftParenToken())
      .with(\.arguments, .argumentList(LabeledExprListSyntax(arguments)))
      .with(\.rightParen, .rightParenToken(trailingTrivia: attribute.trailingTrivia))
      .with(\.attributeName, attribute.attributeName.trimmed)
  }

  static func unlabelledOutput(_ type: TupleTypeSyntax) -> Diagnostic {
    Diagnostic(
      node: type,
      message: RecallDiagnostic(
        "unlabelledOutput",
        "a '@Memoized' function returning a tuple stores each element as an output named by its label; label every element of '\(type.trimmedDescription)', as in '(loss: Double, model: Model)', or return a struct conforming to MultipleOutputs"
      ))
  }

  static func nestedOutput(_ element: TupleTypeElementSyntax) -> Diagnostic {
    Diagnostic(
      node: element.type,
      message: RecallDiagnostic(
        "nestedOutput",
        "an output cannot itself be stored by parts: return '\(element.type.trimmedDescription)' as the function's whole result, or make this output a plain array or dictionary"
      ))
  }

  static func genericOutputs(_ type: TupleTypeSyntax, _ what: String) -> Diagnostic {
    Diagnostic(
      node: type,
      message: RecallDiagnostic(
        "genericOutputs",
        "\(what) cannot return a tuple of outputs; return a struct conforming to MultipleOutputs instead"
      ))
  }

  static func parameterPack(_ parameter: FunctionParameterSyntax) -> Diagnostic {
    Diagnostic(
      node: parameter,
      message: RecallDiagnostic(
        "parameterPack", "'@Memoized' does not support parameter packs; pass an array instead"))
  }

  static func unnamedParameter(_ parameter: FunctionParameterSyntax) -> Diagnostic {
    let placeholder = TokenSyntax.identifier("<#name#>")
    let named =
      parameter.secondName == nil
      ? parameter.with(\.firstName, parameter.firstName.with(\.trailingTrivia, .space))
        .with(\.secondName, placeholder)
      : parameter.with(\.secondName, placeholder)
    return Diagnostic(
      node: parameter,
      message: RecallDiagnostic(
        "unnamedParameter",
        "'@Memoized' needs every parameter to have a name, because the argument is part of the key"
      ),
      fixIt: FixIt(
        message: RecallFixIt(message: "Name the parameter"),
        changes: [.replace(oldNode: Syntax(parameter), newNode: Syntax(named))]))
  }

  static func mutatingMethod(_ modifier: DeclModifierSyntax) -> Diagnostic {
    Diagnostic(
      node: modifier,
      message: RecallDiagnostic(
        "mutatingMethod",
        "'@Memoized' cannot be applied to a 'mutating' method; 'self' is an input of the call and must not change"
      ))
  }

  static func rethrowsUnsupported(_ token: TokenSyntax) -> Diagnostic {
    Diagnostic(
      node: token,
      message: RecallDiagnostic(
        "rethrows",
        "'@Memoized' cannot be applied to a 'rethrows' function; its function parameters cannot be hashed"
      ))
  }

  static func unknownParameter(_ element: ArrayElementSyntax, name: String, argument: String)
    -> Diagnostic
  {
    Diagnostic(
      node: element,
      message: RecallDiagnostic(
        "unknownParameter",
        "'\(argument):' names '\(name)', which is not a parameter of this function"),
      fixIt: FixIt(
        message: RecallFixIt(message: "Remove '\(name)'"),
        changes: [.replace(oldNode: Syntax(element), newNode: Syntax(TokenSyntax.identifier("")))]))
  }

  static func notAStringLiteral(_ expression: ExprSyntax, argument: String) -> Diagnostic {
    Diagnostic(
      node: expression,
      message: RecallDiagnostic(
        "notAStringLiteral",
        "'\(argument)' must be a string literal without interpolation, because it is part of the op's identity"
      ))
  }

  static func notAStringArrayLiteral(_ expression: ExprSyntax, argument: String) -> Diagnostic {
    Diagnostic(
      node: expression,
      message: RecallDiagnostic(
        "notAStringArrayLiteral", "'\(argument):' must be an array literal of parameter names"))
  }

  static func addedWithoutDefault(_ parameter: FunctionParameterSyntax, name: String) -> Diagnostic
  {
    Diagnostic(
      node: parameter,
      message: RecallDiagnostic(
        "addedWithoutDefault",
        "added parameter '\(name)' needs a default value: the value that calls made before it existed "
          + "behaved as if they passed; they are found again while callers pass it"))
  }

  static func addedAndIgnored(_ element: ArrayElementSyntax, name: String) -> Diagnostic {
    Diagnostic(
      node: element,
      message: RecallDiagnostic(
        "addedAndIgnored",
        "'\(name)' is both ignored and added; an ignored parameter is never part of the key, so leave it out of 'addedParameters:'"
      ),
      fixIt: FixIt(
        message: RecallFixIt(message: "Remove '\(name)'"),
        changes: [.replace(oldNode: Syntax(element), newNode: Syntax(TokenSyntax.identifier("")))]))
  }

  static func missingClosure(_ node: some SyntaxProtocol) -> Diagnostic {
    Diagnostic(
      node: node,
      message: RecallDiagnostic(
        "missingClosure", "'#memoized' needs the code to memoize as a trailing closure"))
  }

  static func duplicateInput(_ expression: some SyntaxProtocol, name: String) -> Diagnostic {
    Diagnostic(
      node: expression,
      message: RecallDiagnostic(
        "duplicateInput", "'#memoized' input '\(name)' is passed twice"))
  }

  static func unlistedInput(
    _ read: Syntax, name: String, in node: some FreestandingMacroExpansionSyntax
  ) -> Diagnostic {
    Diagnostic(
      node: read,
      message: RecallDiagnostic(
        "unlistedInput",
        "'#memoized' block uses '\(name)', which is not one of its inputs; "
          + "its result would be reused when '\(name)' changes"),
      fixIt: FixIt(
        message: RecallFixIt(message: "Add '\(name)' to the inputs"),
        changes: [
          .replace(
            oldNode: Syntax(node.arguments),
            newNode: Syntax(addingInput(name, to: node.arguments)))
        ]))
  }

  /// The arguments of a `#memoized` block with one more input, after the
  /// others (and before the code, when it is passed as `body:`).
  private static func addingInput(_ name: String, to arguments: LabeledExprListSyntax)
    -> LabeledExprListSyntax
  {
    var items = Array(arguments)
    let token: TokenSyntax = name == "self" ? .keyword(.self) : .identifier(name)
    var input = LabeledExprSyntax(expression: DeclReferenceExprSyntax(baseName: token))
    var index = items.count
    if let last = items.last, last.label?.text == "body" {
      index -= 1
      input.trailingComma = .commaToken(trailingTrivia: .space)
    } else if let last = items.last {
      items[items.count - 1] = last.with(\.trailingComma, .commaToken(trailingTrivia: .space))
    }
    items.insert(input, at: index)
    return LabeledExprListSyntax(items)
  }
}
