import RecallCodeTable
import RecallFingerprint
import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxMacros

/// `@Memoized`: rewrites a function's body into one call of the runtime entry
/// point `__recallMemoized`, passing the op's identity, its code fingerprint, its
/// labelled arguments and a closure holding the original body.
///
/// All caching logic is ordinary runtime code; this macro only validates,
/// fingerprints and rewrites.
public struct MemoizedMacro: BodyMacro {
  /// The expansion is laid out by hand: its type checks sit at the columns of
  /// the types they check (see `TypeChecks`), and the body keeps its layout.
  public static var formatMode: FormatMode { .disabled }

  public static func expansion(
    of node: AttributeSyntax,
    providingBodyFor declaration: some DeclSyntaxProtocol & WithOptionalCodeBlockSyntax,
    in context: some MacroExpansionContext
  ) throws -> [CodeBlockItemSyntax] {
    guard let function = declaration.as(FunctionDeclSyntax.self) else {
      context.diagnose(Diagnostics.notAFunction(node, on: declaration))
      return Array(declaration.body?.statements ?? [])
    }
    guard let body = function.body else {
      context.diagnose(Diagnostics.missingBody(node))
      return []
    }
    let analysis = Analysis(function, node, context)
    guard analysis.diagnostics.isEmpty else {
      analysis.diagnostics.forEach(context.diagnose)
      return Array(body.statements)
    }
    let call = (analysis.throwsClause != nil ? "try " : "") + (analysis.isAsync ? "await " : "")
    let effectText =
      (analysis.isAsync ? " async" : "")
      + (analysis.throwsClause.map { " " + $0.trimmedDescription } ?? "")
    // The body keeps its own layout (the formatter is off).
    var bodyText = String(
      body.statements.description.reversed().drop(while: \.isWhitespace).reversed())
    if bodyText.first?.isNewline != true { bodyText = " " + bodyText.drop(while: \.isWhitespace) }
    var forward: CodeBlockItemSyntax = """

        return \(raw: call)__recallMemoized(
          \(raw: analysis.siteArguments)
        ) { ()\(raw: effectText) -> \(raw: analysis.resultType) in\(raw: bodyText)
        }

      """
    if let outputs = analysis.outputs {
      // A tuple: the body returns it, each element is stored as an output
      // (the struct `outputs.name`, declared next to the function).
      forward = """

          return \(raw: call)__recallMemoized(
            \(raw: analysis.siteArguments)
          ) { ()\(raw: effectText) -> \(raw: outputs.name) in \(raw: outputs.name)(\(raw: call){ ()\(raw: effectText) -> \(raw: analysis.resultType) in\(raw: bodyText)
          }())
          }.__recallTuple

        """
    }
    guard !analysis.checks.isEmpty else { return [forward] }
    return ["\n\(raw: analysis.checks.declaration)", forward]
  }

  /// What the macro makes of a function: the problems it reports, or what
  /// the body's call of the runtime (and the `$` companion) passes.
  struct Analysis {
    var diagnostics: [Diagnostic] = []
    var isAsync = false
    var throwsClause: ThrowsClauseSyntax?
    var resultType = "Void"
    /// The result type as a type argument (an implicitly unwrapped optional
    /// as an optional).
    var storedType = "Void"
    /// The op site, fingerprint table, arguments and types, as passed to
    /// `__recallMemoized` and `__recallCall`.
    var siteArguments = ""
    var checks = TypeChecks()
    /// A tuple result's outputs (``MultipleOutputs``): the struct storing
    /// them, and their labels and types.
    var outputs: Outputs?

    struct Outputs {
      var name: String
      var elements: [(label: String, type: String)]
    }

    init(
      _ function: FunctionDeclSyntax, _ node: AttributeSyntax,
      _ context: some MacroExpansionContext
    ) {
      let options = Options(node, context: context)
      diagnostics = options.diagnostics
      let signature = function.signature

      // Result type.
      let returnType = signature.returnClause?.type
      if let returnType {
        if returnType.is(SomeOrAnyTypeSyntax.self),
          returnType.as(SomeOrAnyTypeSyntax.self)?.someOrAnySpecifier.tokenKind == .keyword(.some)
        {
          diagnostics.append(Diagnostics.opaqueResult(returnType))
        } else if isVoid(returnType) {
          diagnostics.append(Diagnostics.voidResult(node, at: returnType))
        }
      } else {
        diagnostics.append(Diagnostics.voidResult(node, at: function.name))
      }

      // Effects.
      let effects = signature.effectSpecifiers
      isAsync = effects?.asyncSpecifier != nil
      throwsClause = effects?.throwsClause
      if let throwsClause, throwsClause.throwsSpecifier.tokenKind == .keyword(.rethrows) {
        diagnostics.append(Diagnostics.rethrowsUnsupported(throwsClause.throwsSpecifier))
      }

      // Receiver.
      let typeContext = TypeContext(context.lexicalContext)
      let isStatic = function.modifiers.contains {
        $0.name.tokenKind == .keyword(.static) || $0.name.tokenKind == .keyword(.class)
      }
      if let mutating = function.modifiers.first(where: { $0.name.tokenKind == .keyword(.mutating) }
      ) {
        diagnostics.append(Diagnostics.mutatingMethod(mutating))
      }
      let hasSelfInput = typeContext.isType && !isStatic
      if hasSelfInput {
        checks.receiver(of: function, typeName: typeContext.path.last ?? "Self", in: context)
      }
      // A tuple of labelled elements: several outputs.
      let tuple = returnType?.as(TupleTypeSyntax.self)
      var elements: [(label: String, type: TypeSyntax)] = []
      if let tuple, tuple.elements.count > 1 {
        for element in tuple.elements {
          guard let label = element.firstName, label.tokenKind != .wildcard else {
            diagnostics.append(Diagnostics.unlabelledOutput(tuple))
            break
          }
          elements.append((label.text, element.type))
          // An output is stored whole inside its call's result, and by
          // parts when passed on: refused at run time, so said here.
          let spelled = element.type.trimmedDescription
          if spelled.hasPrefix("Elements<") || spelled.hasPrefix("KeyedElements<") {
            diagnostics.append(Diagnostics.nestedOutput(element))
          }
        }
        let typeContext = TypeContext(context.lexicalContext)
        if function.genericParameterClause != nil || !typeContext.genericParameters.isEmpty {
          diagnostics.append(Diagnostics.genericOutputs(tuple, "a generic '@Memoized' function"))
        }
        // Their outputs' struct is declared next to the function, by name.
        switch function.name.tokenKind {
        case .binaryOperator, .prefixOperator, .postfixOperator:
          diagnostics.append(Diagnostics.genericOutputs(tuple, "a '@Memoized' operator"))
        default:
          if function.modifiers.contains(where: { $0.name.tokenKind == .keyword(.override) }) {
            diagnostics.append(
              Diagnostics.genericOutputs(tuple, "an overriding '@Memoized' method"))
          }
        }
      }
      if let returnType, diagnostics.isEmpty {
        if elements.isEmpty {
          checks.result(returnType, in: context)
        } else {
          for element in elements { checks.result(element.type, in: context) }
        }
      }

      // Parameters.
      var parameterNames: [String] = []
      var addedNames: [String] = []
      var arguments: [String] = []
      if hasSelfInput { arguments.append("__recallSelf(self)") }
      for parameter in signature.parameterClause.parameters {
        let name = OpNaming.parameterName(parameter)
        parameterNames.append(name)
        if parameter.type.as(PackExpansionTypeSyntax.self) != nil
          || parameter.type.description.contains("repeat ")
        {
          diagnostics.append(Diagnostics.parameterPack(parameter))
          continue
        }
        if isInout(parameter.type) {
          diagnostics.append(Diagnostics.inoutParameter(parameter))
          continue
        }
        if options.ignored.contains(name) { continue }
        let isAdded = options.added.contains(name)
        if isAdded {
          addedNames.append(name)
          if parameter.defaultValue == nil {
            diagnostics.append(Diagnostics.addedWithoutDefault(parameter, name: name))
            continue
          }
        }
        if name == "_" {
          diagnostics.append(Diagnostics.unnamedParameter(parameter))
          continue
        }
        if isFunctionType(parameter.type) {
          diagnostics.append(Diagnostics.functionParameter(parameter, name: name, attribute: node))
          continue
        }
        // A `some P` or `any P` parameter does not fix the argument's type, and
        // values of different types can encode alike: key the type too.
        let typed = hasOpenType(parameter.type) ? "typed: " : ""
        if isAdded, let defaultValue = parameter.defaultValue?.value {
          arguments.append(
            "__recallArgument(added: \(SwiftLiteral.string(name)), \(typed)\(name), default: \(defaultValue.trimmedDescription))"
          )
        } else {
          arguments.append("__recallArgument(\(SwiftLiteral.string(name)), \(typed)\(name))")
        }
        if typed.isEmpty { checks.parameter(parameter, name: name, in: context) }
      }
      for (name, element) in options.ignoredElements where !parameterNames.contains(name) {
        diagnostics.append(Diagnostics.unknownParameter(element, name: name, argument: "ignoring"))
      }
      for (name, element) in options.addedElements {
        if !parameterNames.contains(name) {
          diagnostics.append(
            Diagnostics.unknownParameter(element, name: name, argument: "addedParameters"))
        } else if options.ignored.contains(name) {
          diagnostics.append(Diagnostics.addedAndIgnored(element, name: name))
        }
      }

      guard diagnostics.isEmpty else { return }

      // Types that enter the key: generic parameters in scope (the function's and
      // those of functions it is nested in), and the receiver's type when it may
      // be generic.
      var types = typeContext.genericParameters.map { "\($0).self" }
      for parameter in function.genericParameterClause?.parameters ?? []
      where parameter.specifier?.tokenKind != .keyword(.each) {
        types.append("\(parameter.name.text).self")
      }
      if typeContext.mayBeGeneric { types.append("Self.self") }

      let opName = OpNaming.name(of: function, typePath: typeContext.path)
      let typedName = OpNaming.typedName(of: function, typePath: typeContext.path)
      let fingerprint = Fingerprint(of: function, excludingAttributes: ["Memoized"])
      resultType = returnType.map { $0.trimmedDescription } ?? "Void"
      storedType = returnType.map { TypeChecks.unwrapped($0).trimmedDescription } ?? "Void"
      if !elements.isEmpty {
        // Named after the function (a peer macro may only introduce names it
        // declares: `prefixed(__RecallOutputs_)`).
        let name = "__RecallOutputs_\(function.name.text.filter { $0 != "`" })"
        outputs = Outputs(
          name: name, elements: elements.map { ($0.label, $0.type.trimmedDescription) })
        storedType = name
      }
      let typesArgument = types.isEmpty ? "" : ",\n    types: [\(types.joined(separator: ", "))]"
      siteArguments = """
        __RecallOpSite(name: \(SwiftLiteral.string(opName)), fileID: #fileID, fingerprint: \(SwiftLiteral.string(fingerprint.hex))\(options.versionArgument),
            source: \(SwiftLiteral.string(DisplaySource.text(of: function)))\(siteList("parameters", parameterNames))\(siteList("added", addedNames)),
            typedName: \(SwiftLiteral.string(typedName))\(options.storageArgument)),
          __recallFingerprintTable,
          [\(arguments.joined(separator: ", "))]\(typesArgument)
        """
    }
  }

  /// A list argument of the op site: names, one per line.
  static func siteList(_ label: String, _ names: [String]) -> String {
    names.isEmpty ? "" : ", \(label): \(SwiftLiteral.string(names.joined(separator: "\n")))"
  }

  /// The arguments of `@Memoized(version:ignoring:addedParameters:storage:)`.
  struct Options {
    var version: String?
    /// The `storage:` policy expression, evaluated when the op is first
    /// declared in a process.
    var storage: ExprSyntax?
    var ignoredElements: [(String, ArrayElementSyntax)] = []
    var addedElements: [(String, ArrayElementSyntax)] = []
    var diagnostics: [Diagnostic] = []

    var ignored: Set<String> { Set(ignoredElements.map(\.0)) }
    var added: Set<String> { Set(addedElements.map(\.0)) }

    var versionArgument: String {
      version.map { ", version: \(SwiftLiteral.string($0))" } ?? ""
    }

    var storageArgument: String {
      storage.map { ",\n      storage: { \($0.trimmedDescription) }" } ?? ""
    }

    init(_ node: AttributeSyntax, context: some MacroExpansionContext) {
      guard case .argumentList(let arguments) = node.arguments else { return }
      for argument in arguments {
        switch argument.label?.text {
        case "version":
          if let text = OpNaming.literalText(argument.expression) {
            version = text
          } else {
            diagnostics.append(
              Diagnostics.notAStringLiteral(argument.expression, argument: "version"))
          }
        case "storage":
          storage = argument.expression.trimmed
        case "ignoring":
          ignoredElements = names(argument, label: "ignoring")
        case "addedParameters":
          addedElements = names(argument, label: "addedParameters")
        default:
          break
        }
      }
    }

    /// The parameter names of an array-literal argument.
    private mutating func names(_ argument: LabeledExprSyntax, label: String) -> [(
      String, ArrayElementSyntax
    )] {
      guard let array = argument.expression.as(ArrayExprSyntax.self) else {
        diagnostics.append(Diagnostics.notAStringArrayLiteral(argument.expression, argument: label))
        return []
      }
      var names: [(String, ArrayElementSyntax)] = []
      for element in array.elements {
        if let name = OpNaming.literalText(element.expression) {
          names.append((name, element))
        } else {
          diagnostics.append(Diagnostics.notAStringLiteral(element.expression, argument: label))
        }
      }
      return names
    }
  }
}

/// What the macro knows of the declarations around a function or block.
struct TypeContext {
  /// Enclosing type names, outermost first.
  var path: [String] = []
  /// Whether the function is inside a type or extension.
  var isType = false
  /// Whether an enclosing type has generic parameters, or is an extension (whose
  /// type may be generic; the macro cannot see it).
  var mayBeGeneric = false
  /// Generic parameters of enclosing functions.
  var genericParameters: [String] = []
  /// Whether the code is inside a function (where `Self` can be named).
  var isInFunction = false

  init(_ lexicalContext: [Syntax]) {
    for syntax in lexicalContext.reversed() {
      if let decl = syntax.as(FunctionDeclSyntax.self) {
        isInFunction = true
        for parameter in decl.genericParameterClause?.parameters ?? []
        where parameter.specifier?.tokenKind != .keyword(.each) {
          genericParameters.append(parameter.name.text)
        }
      } else if let name = OpNaming.typeName(of: syntax) {
        // Extensions and protocols may be generic in ways the macro cannot see.
        let generic =
          syntax.is(ExtensionDeclSyntax.self) || syntax.is(ProtocolDeclSyntax.self)
          || syntax.asProtocol((any WithGenericParametersSyntax).self)?.genericParameterClause
            != nil
        add(name, generic: generic)
      }
    }
  }

  private mutating func add(_ name: String, generic: Bool) {
    path.append(name)
    isType = true
    mayBeGeneric = mayBeGeneric || generic
  }

}

func isVoid(_ type: TypeSyntax) -> Bool {
  let text = type.trimmedDescription
  return text == "Void" || text == "()" || text == "Swift.Void"
}

/// Whether a parameter type leaves the argument's type open: `some P`, `any P`,
/// `Any`, anywhere inside it.
func hasOpenType(_ type: TypeSyntax) -> Bool {
  if type.is(SomeOrAnyTypeSyntax.self) { return true }
  return type.tokens(viewMode: .sourceAccurate).contains { token in
    switch token.tokenKind {
    case .keyword(.some), .keyword(.any), .keyword(.Any): true
    case .identifier(let name): name == "Any" || name == "AnyObject"
    default: false
    }
  }
}

func isInout(_ type: TypeSyntax) -> Bool {
  guard let attributed = type.as(AttributedTypeSyntax.self) else { return false }
  return attributed.specifiers.contains {
    $0.as(SimpleTypeSpecifierSyntax.self)?.specifier.tokenKind == .keyword(.inout)
  }
}

func isFunctionType(_ type: TypeSyntax) -> Bool {
  if type.is(FunctionTypeSyntax.self) { return true }
  if let attributed = type.as(AttributedTypeSyntax.self) {
    return isFunctionType(attributed.baseType)
  }
  if let optional = type.as(OptionalTypeSyntax.self) { return isFunctionType(optional.wrappedType) }
  if let optional = type.as(ImplicitlyUnwrappedOptionalTypeSyntax.self) {
    return isFunctionType(optional.wrappedType)
  }
  if let tuple = type.as(TupleTypeSyntax.self), tuple.elements.count == 1 {
    return isFunctionType(tuple.elements.first!.type)
  }
  return false
}

extension MemoizedMacro: PeerMacro {
  /// Attributes the companion does not take: the macro's own, and those that
  /// only make sense on the function itself.
  private static let attributesLeftOut: Set<String> = [
    "Memoized", "discardableResult", "inlinable", "usableFromInline", "inline", "objc",
    "_effects", "concurrent",
  ]
  /// Modifiers the companion takes: where and how it is declared.
  private static let modifiersKept: Set<String> = [
    "open", "public", "package", "internal", "fileprivate", "private", "static", "class",
    "final", "nonisolated",
  ]

  /// `$name`: a function with the memoized function's parameters that returns
  /// the call it would make (`MemoizedCall`), without running it.
  public static func expansion(
    of node: AttributeSyntax,
    providingPeersOf declaration: some DeclSyntaxProtocol,
    in context: some MacroExpansionContext
  ) throws -> [DeclSyntax] {
    guard let function = declaration.as(FunctionDeclSyntax.self), function.body != nil else {
      return []
    }
    // An operator has no name to put a `$` before; an override's companion
    // would override the superclass's only if that method is memoized too.
    switch function.name.tokenKind {
    case .binaryOperator, .prefixOperator, .postfixOperator: return []
    default: break
    }
    if function.modifiers.contains(where: { $0.name.tokenKind == .keyword(.override) }) {
      return []
    }
    // The body's expansion reports any problem; the companion is left out.
    let analysis = Analysis(function, node, context)
    guard analysis.diagnostics.isEmpty else { return [] }
    let attributes = function.attributes.compactMap { element -> String? in
      // By the name's last part: `@Recall.Memoized` is the macro too.
      guard case .attribute(let attribute) = element,
        let name = attribute.attributeName.trimmedDescription.split(separator: ".").last,
        !attributesLeftOut.contains(String(name))
      else { return nil }
      return attribute.trimmedDescription + " "
    }.joined()
    // `nonisolated(nonsending)` is for asynchronous functions; the companion
    // is synchronous.
    let modifiers = function.modifiers.filter {
      modifiersKept.contains($0.name.text) && $0.detail == nil
    }
    .map { $0.trimmedDescription + " " }.joined()
    let name = function.name.text.filter { $0 != "`" }
    var peers: [DeclSyntax] = []
    if let outputs = analysis.outputs {
      let levels = ["open", "public", "package", "internal", "fileprivate", "private"]
      // The function's own access, else its extension's (`public extension`).
      let extensionAccess = context.lexicalContext.first?.as(ExtensionDeclSyntax.self)?.modifiers
        .first { levels.contains($0.name.text) }
      let modifier =
        function.modifiers.first { levels.contains($0.name.text) && $0.detail == nil }
        ?? extensionAccess
      let access = modifier.map { $0.name.text == "open" ? "public " : $0.name.text + " " } ?? ""
      // A private struct's members are seen by the function next to it.
      let member = access == "private " ? "fileprivate " : access
      // The extension's own access is not repeated: Swift warns it is redundant.
      let structAccess = extensionAccess.map { $0.name.text + " " } == access ? "" : access
      // The types it holds may be available only where the function is.
      let availability = function.attributes.compactMap { element -> String? in
        guard case .attribute(let attribute) = element,
          attribute.attributeName.trimmedDescription == "available"
        else { return nil }
        return attribute.trimmedDescription + "\n"
      }.joined()
      let properties = outputs.elements.map { "  \(member)var \($0.label): \($0.type)\n" }.joined()
      let tupleType =
        "(" + outputs.elements.map { "\($0.label): \($0.type)" }.joined(separator: ", ") + ")"
      let assignments = outputs.elements.map { "    self.\($0.label) = tuple.\($0.label)\n" }
        .joined()
      let tupleValue =
        "(" + outputs.elements.map { "\($0.label): \($0.label)" }.joined(separator: ", ") + ")"
      peers.append(
        """
        /// The outputs of `\(raw: name)`, each stored as a value of its own.
        \(raw: availability)\(raw: structAccess)struct \(raw: outputs.name): _TupleOutputs {
        \(raw: properties)  \(raw: member)init(_ tuple: \(raw: tupleType)) {
        \(raw: assignments)  }
          \(raw: member)var __recallTuple: \(raw: tupleType) { \(raw: tupleValue) }
        }
        """)
    }
    let generics = function.genericParameterClause?.trimmedDescription ?? ""
    let parameters = function.signature.parameterClause.trimmedDescription
    let whereClause = function.genericWhereClause.map { " " + $0.trimmedDescription } ?? ""
    return peers + [
      """
      /// The call `\(raw: name)` makes with these arguments, named without
      /// running it: ask whether it is stored, read its stored result, or
      /// store one computed elsewhere.
      \(raw: attributes)\(raw: modifiers)func $\(raw: name)\(raw: generics)\(raw: parameters) -> MemoizedCall<\(raw: analysis.storedType)>\(raw: whereClause) {
        __recallCall(
          \(raw: analysis.siteArguments)
        )
      }
      """
    ]
  }
}
