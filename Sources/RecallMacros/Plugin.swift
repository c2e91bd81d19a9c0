import SwiftCompilerPlugin
import SwiftSyntaxMacros

@main
struct RecallMacrosPlugin: CompilerPlugin {
  let providingMacros: [any Macro.Type] = [
    MemoizedMacro.self,
    MemoizedBlockMacro.self,
  ]
}
