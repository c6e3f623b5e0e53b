/**
 * The longest functions of src/ (or the folders given), by lines from their first to their last,
 * with the TypeScript compiler's own parse: `npx tsx scripts/function-lengths.ts [--top N] [--max L] [dir…]`.
 * With --max it exits 1 when a function is longer (issue #14 holds src/ under 120 lines).
 * A function nested in another counts on its own and within its parent.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface FunctionLength {
  file: string;
  name: string;
  line: number;
  lines: number;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** A readable name: the function's own, else what it is assigned to or the property it is the value of. */
function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source);
  if (ts.isCallExpression(parent)) {
    const owner = parent.parent;
    const callee = parent.expression.getText(source).slice(0, 40);
    if (ts.isVariableDeclaration(owner) || ts.isPropertyAssignment(owner)) return `${owner.name.getText(source)} (${callee}(…))`;
    return `(argument of ${callee})`;
  }
  return '(anonymous)';
}

export function functionLengths(dirs: readonly string[], root = process.cwd()): FunctionLength[] {
  const out: FunctionLength[] = [];
  for (const file of dirs.flatMap(tsFiles)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        out.push({ file: relative(root, file), name: nameOf(node, source), line: start + 1, lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out.sort((a, b) => b.lines - a.lines);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const [value] = args.splice(i, 2).slice(1);
    return Number(value);
  };
  const top = flag('--top') ?? 15;
  const max = flag('--max');
  const all = functionLengths(args.length > 0 ? args : ['src']);
  for (const f of all.slice(0, top)) console.info(`${String(f.lines).padStart(5)}  ${f.file}:${f.line}  ${f.name}`);
  const over = max === undefined ? [] : all.filter((f) => f.lines > max);
  if (over.length > 0) {
    console.error(`${over.length} function(s) longer than ${max} lines`);
    process.exit(1);
  }
}
