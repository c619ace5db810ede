import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'node_modules/', 'coverage/', 'public/build/', 'data/', 'test/.shims/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Load only what is used (README, Performance): these are imported where they are needed, on
    // first use (api-docs/, the openai driver folder, RedisModule, InterruptedAnswers); elsewhere only their types.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts', 'src/api-docs/**', 'src/agent/drivers/openai/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@nestjs/swagger', allowTypeImports: true, message: 'Use the deferred decorators of src/api-docs/openapi-decorators.ts: @nestjs/swagger loads on the first request for /api/docs.' },
            { name: 'openai', allowTypeImports: true, message: 'Only the openai driver (src/agent/drivers/openai/) imports the SDK; AgentModule loads it when configured.' },
            { name: 'pg', allowTypeImports: true, message: 'Import pg where it is used, with await import(): SQLite deployments never load it.' },
            { name: 'ioredis', allowTypeImports: true, message: 'RedisModule loads ioredis (REDIS_CLIENT_CLASS) only with REDIS_URL.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // expect.any() and fetch bodies are typed any; the assertions check the values.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
