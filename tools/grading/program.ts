/**
 * A notebook's code cells as the grading sandbox runs them: one JavaScript snippet per code cell, evaluated in
 * order in V8's REPL mode, as Deno's Jupyter kernel evaluates cells. So a later cell may re-declare a `function`,
 * `let`, `const` or `class` of an earlier one (the later one wins), and a cell that throws stops only itself.
 *
 * Per cell, like the kernel: TypeScript types are removed (TypeScript's own transpiler); `import … from "m"`
 * becomes `const { … } = await import("m")` (a name the module does not export is `undefined`, type-only imports
 * vanish); `export` keywords are dropped. For the grader also:
 * - relative specifiers resolve as if the notebook sat in the course's `exercises/` folder, where students get
 *   it, so the older `../lib/…` and `../datasets/…` imports still load (anything else relative is unreadable);
 * - top-level statements that call the course's checks (`await check01.f(f)`, however formatted) are removed:
 *   the grader runs the checks itself;
 * - a cell that does not parse is skipped with its syntax error, as the kernel skips it.
 * @module
 */
import ts from "typescript";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Notebook, readNotebook, sourceOf } from "../notebook.ts";
import { ROOT } from "../setup.ts";

/** The cells to run, and the cells that cannot run (code cells are numbered from 1, as a reader counts them). */
export interface Program {
  cells: { cell: number; js: string }[];
  unparsable: { cell: number; error: string }[];
}

/** Where a notebook's relative imports resolve from. */
const BASE = pathToFileURL(join(ROOT, "exercises", "notebook.ipynb")).href;

/** Module specifiers of the course's checks (bare, or a path that resolves to lib/check/mod.ts). */
function isCheckModule(specifier: string): boolean {
  return specifier === "attention-course/check" || resolveSpecifier(specifier).endsWith("/lib/check/mod.ts");
}

function resolveSpecifier(specifier: string): string {
  return /^\.\.?\//.test(specifier) ? new URL(specifier, BASE).href : specifier;
}

/** The sandbox's program for a notebook. */
export function notebookProgram(nb: Notebook): Program {
  const program: Program = { cells: [], unparsable: [] };
  const checkNames = new Set<string>(); // names bound to the course's checks by earlier imports
  let number = 0;
  for (const cell of nb.cells) {
    if (cell.cell_type !== "code") continue;
    number++;
    const source = sourceOf(cell);
    if (!source.trim()) continue;
    try {
      prepareCell(program, number, source, checkNames);
    } catch (err) {
      // TypeScript's parser recurses: a cell nested very deeply (thousands of brackets) runs it out of stack.
      program.unparsable.push({
        cell: number,
        error: `the grader could not read this cell (${err instanceof RangeError ? "nested too deeply" : err})`,
      });
    }
  }
  return program;
}

function prepareCell(program: Program, number: number, source: string, checkNames: Set<string>): void {
  const out = ts.transpileModule(source, {
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true, // keep every import not marked `type`, as the kernel does
      removeComments: false,
    },
  });
  const error = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (error) {
    program.unparsable.push({
      cell: number,
      error: `SyntaxError: ${ts.flattenDiagnosticMessageText(error.messageText, " ")}`,
    });
    return;
  }
  program.cells.push({ cell: number, js: replCell(out.outputText, checkNames) });
}

/**
 * The source text of the student's function `name` as the cells left it: from its last declaration (`function
 * name(`, or `name =`) to the end of that cell, or undefined when no cell declares it. For lib/check's runCheck,
 * which reads from it whether the function calls another exercise's function (the grader's replayer has no
 * source of its own).
 */
export function functionSource(program: Program, name: string): string | undefined {
  const declaration = new RegExp(`(^|[^\\w$.])(function\\s*\\*?\\s*${name}\\s*\\(|(const|let|var)\\s+${name}\\s*=)`);
  for (const { js } of [...program.cells].reverse()) {
    const m = declaration.exec(js);
    if (m) return js.slice(m.index);
  }
  return undefined;
}

/**
 * The notebook's cells (as {@linkcode notebookProgram} prepares them) joined into one module that exports
 * `__functions`: each of `names` as the cells left it. For tests that call a notebook's functions in-process;
 * unlike the sandbox (and the kernel), a module cannot re-declare a name in a later cell.
 */
export async function extractSubmission(notebookPath: string, names: string[]): Promise<string> {
  const { cells } = notebookProgram(await readNotebook(notebookPath));
  const exports = names.map((n) => `  ${JSON.stringify(n)}: typeof ${n} === "undefined" ? undefined : ${n},`);
  return `${cells.map((c) => `// code cell ${c.cell}\n${c.js}`).join("\n")}\nexport const __functions = {\n${
    exports.join("\n")
  }\n};\n`;
}

/** Rewrites one transpiled cell for REPL evaluation (imports, exports, check calls, relative specifiers). */
function replCell(js: string, checkNames: Set<string>): string {
  const sf = ts.createSourceFile("cell.js", js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const edits: { start: number; end: number; text: string }[] = [];
  const replace = (node: ts.Node, text: string) => edits.push({ start: node.getStart(sf), end: node.getEnd(), text });

  for (const statement of sf.statements) {
    if (ts.isImportDeclaration(statement)) {
      replace(statement, importAsAwait(statement, checkNames));
    } else if (ts.isExportDeclaration(statement)) {
      replace(statement, ""); // export { a } / export * from "m": nothing to run
    } else if (ts.isExportAssignment(statement)) {
      edits.push({ start: statement.getStart(sf), end: statement.expression.getStart(sf), text: "" }); // export default x
    } else if (callsCheck(statement, checkNames)) {
      replace(statement, "");
    } else {
      for (const m of ts.canHaveModifiers(statement) ? ts.getModifiers(statement) ?? [] : []) {
        if (m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DefaultKeyword) replace(m, "");
      }
    }
  }
  // Dynamic imports with a literal relative specifier, anywhere.
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length >= 1 && ts.isStringLiteralLike(node.arguments[0])
    ) {
      const spec = node.arguments[0].text;
      if (resolveSpecifier(spec) !== spec) replace(node.arguments[0], JSON.stringify(resolveSpecifier(spec)));
    }
    ts.forEachChild(node, visit);
  };
  for (const statement of sf.statements) if (!ts.isImportDeclaration(statement)) visit(statement);

  let text = js;
  for (const e of edits.sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  return text;
}

/** `import d, { a, b as c } from "m"` → `const { default: d, a, b: c } = await import("m");` */
function importAsAwait(node: ts.ImportDeclaration, checkNames: Set<string>): string {
  const raw = (node.moduleSpecifier as ts.StringLiteral).text;
  const load = `await import(${JSON.stringify(resolveSpecifier(raw))})`;
  const clause = node.importClause;
  if (!clause) return `${load};`;
  const fromChecks = isCheckModule(raw);
  const parts: string[] = [];
  const statements: string[] = [];
  if (clause.name) parts.push(`default: ${clause.name.text}`);
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) {
    if (fromChecks) checkNames.add(`${bindings.name.text}.*`);
    if (!parts.length) return `const ${bindings.name.text} = ${load};`;
    statements.push(`const ${bindings.name.text} = ${load};`);
  } else if (bindings) {
    for (const el of bindings.elements) {
      const imported = (el.propertyName ?? el.name).text;
      parts.push(el.propertyName ? `${JSON.stringify(imported)}: ${el.name.text}` : el.name.text);
      if (fromChecks && /^check(\d\d)?$/.test(imported)) checkNames.add(el.name.text);
    }
  }
  if (parts.length) statements.unshift(`const { ${parts.join(", ")} } = ${load};`);
  return statements.join(" ");
}

/**
 * Whether a top-level statement calls the course's checks: `[await] check(…)`, `[await] check01.f(…)` or
 * `[await] ns.check01.f(…)` for names bound by importing them from the check module.
 */
function callsCheck(statement: ts.Statement, checkNames: Set<string>): boolean {
  if (!ts.isExpressionStatement(statement)) return false;
  let e: ts.Expression = statement.expression;
  while (ts.isAwaitExpression(e) || ts.isParenthesizedExpression(e) || ts.isVoidExpression(e)) e = e.expression;
  if (!ts.isCallExpression(e)) return false;
  const chain: string[] = [];
  let callee: ts.Expression = e.expression;
  while (ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee)) {
    chain.unshift(ts.isPropertyAccessExpression(callee) ? callee.name.text : "");
    callee = callee.expression;
  }
  if (!ts.isIdentifier(callee)) return false;
  return checkNames.has(callee.text) ||
    (checkNames.has(`${callee.text}.*`) && /^check(\d\d)?$/.test(chain[0] ?? ""));
}
