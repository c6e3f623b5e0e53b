/**
 * Prints the longest functions in src/ (lines from the function's first line to its last, nested
 * functions included), so the "every function under 120 lines" rule of issue #14 is measured, not
 * guessed. `npx tsx scripts/function-lengths.ts [dir] [count]`; exits 1 when the longest is >= 120.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export const FUNCTION_LINES_MAX = 119;

export interface FunctionLength {
  file: string;
  name: string;
  lines: number;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name) return node.name.getText(source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  return `<anonymous:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}>`;
}

export function functionLengths(root: string): FunctionLength[] {
  const out: FunctionLength[] = [];
  for (const path of tsFiles(root)) {
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        out.push({ file: relative(process.cwd(), path), name: nameOf(node, source), lines: last - first + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out.sort((a, b) => b.lines - a.lines);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir = 'src', count = '10'] = process.argv.slice(2);
  const lengths = functionLengths(dir);
  for (const f of lengths.slice(0, Number(count))) console.info(`${String(f.lines).padStart(4)}  ${f.name}  ${f.file}`);
  const longest = lengths[0];
  if (longest && longest.lines > FUNCTION_LINES_MAX) process.exitCode = 1;
}
