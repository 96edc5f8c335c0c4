import baseConfig from '../../eslint.config.mjs';

// Tests (and their helpers in test/) may use the test-only library (@ddnn/testing: per-file databases);
// the library code itself may not.
export default [
  ...baseConfig,
  {
    files: ['src/**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:server', onlyDependOnLibsWithTags: ['scope:pure', 'scope:server', 'scope:test'] },
          ],
        },
      ],
    },
  },
];
