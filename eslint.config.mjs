// Lint rules that keep the architecture visible: Nx module boundaries by
// project tags (apps depend on libs, libs never on apps, contracts depend on
// nothing of ours), one public entry per library, and promise discipline.
// `npm run lint` builds the Nx project graph first: without it the boundary rule is silently skipped.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/**
 * Who may import whom, by project tag. Contracts depend on no library of
 * ours; only their specs may use the test harness (`specs`). An app's specs
 * (only they) may also use the tools' stand-ins for outside services (the
 * SDP simulator).
 */
const moduleBoundaries = (specs) => ({
  enforceBuildableLibDependency: false,
  allow: [],
  depConstraints: [
    {
      sourceTag: 'type:app',
      onlyDependOnLibsWithTags: [
        'type:feature',
        'type:data-access',
        'type:util',
        'type:contracts',
        'type:testing',
        ...(specs ? ['type:tool'] : []),
      ],
    },
    {
      sourceTag: 'type:tool',
      onlyDependOnLibsWithTags: [
        'type:feature',
        'type:data-access',
        'type:util',
        'type:contracts',
        'type:testing',
        'type:tool',
      ],
    },
    {
      sourceTag: 'type:testing',
      onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:contracts'],
    },
    {
      sourceTag: 'type:feature',
      onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:contracts', 'type:testing'],
    },
    {
      sourceTag: 'type:data-access',
      onlyDependOnLibsWithTags: ['type:util', 'type:contracts', 'type:testing'],
    },
    {
      sourceTag: 'type:contracts',
      onlyDependOnLibsWithTags: specs ? ['type:testing'] : [],
    },
    { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  ],
});

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      '.nx/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/unbound-method': 'off',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tep/*/*'],
              message: 'Import a library through its public entry (@tep/<name>).',
            },
          ],
        },
      ],
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries(false)],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.integration-spec.ts', 'tools/testing/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries(true)],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The test harness is for specs only; production code must never import it.
    files: ['**/*.ts'],
    ignores: [
      '**/*.spec.ts',
      '**/*.integration-spec.ts',
      'tools/testing/**',
      'libs/testing/**',
      'tools/bench/**',
      // The evaluation measures on a throw-away database, like the benchmark.
      'tools/eval/**',
      'tests/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@tep/testing', message: 'The test harness is for specs only.' }],
          patterns: [
            {
              group: ['@tep/*/*'],
              message: 'Import a library through its public entry (@tep/<name>).',
            },
          ],
        },
      ],
    },
  },
  {
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name='only']",
          message: 'No focused tests.',
        },
      ],
    },
  },
  prettier,
);
