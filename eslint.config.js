import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/', '.services/', 'test-artifacts/', 'dist/', '.*'] },
  { files: ['src/api/dashboard/assets/**/*.js'], languageOptions: { globals: globals.browser } },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Layout is the formatter's job (prettier --check runs in `npm run lint`): no stylistic lint rules.
  prettier,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // src/store is the only code that touches a collection: everything else depends on its repositories.
    files: ['src/**/*.ts'],
    ignores: ['src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['mongodb', 'mongoose'].map((name) => ({
            name,
            message: 'Only src/store touches the database: depend on a repository (or StoreConnection) from src/store.',
          })),
          patterns: [{ group: ['mongodb/*', 'mongoose/*'], message: 'Only src/store touches the database.' }],
        },
      ],
    },
  },
);
