// Lint with type-aware TypeScript rules plus eslint-plugin-security, whose rules catch
// the injection and unsafe-regex mistakes that matter most in a payments service.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import security from 'eslint-plugin-security';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.coffer/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  security.configs.recommended,
  {
    rules: {
      // Object lookups by key are how every registry here works; the rule flags them all.
      'security/detect-object-injection': 'off',
      // Paths come from operator configuration, never from requests.
      'security/detect-non-literal-fs-filename': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error', 'warn'] }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['src/main/cli.ts', 'bench/**', 'test/**', 'scripts/**', 'examples/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
