// Lint rules for every TypeScript file of the repository. Syntax-only (no
// type information), so `pnpm lint` stays fast; `tsc` checks the types.
// Import cycles are checked by dpdm in the `lint:cycles` script.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/*.generated.ts', '**/.turbo/**', '.readme-example-*.ts', 'apps/experiments/.cache/**',
      // AssemblyScript, not TypeScript
      'packages/backend/wasm/**'],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // types come in with `type`, so a type-only import never loads a module at run time
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // one import statement per module
      'no-duplicate-imports': ['error', { includeExports: false }],
    },
  },
);
