import baseConfig from '../../eslint.config.mjs';

// Each command's action imports its implementation when it runs (so `ddnn --help` does not load TensorFlow.js,
// the datasets or pg); the implementation modules, loaded only that way, import these libraries statically.
const lazyLibraries = ['@ddnn/contracts', '@ddnn/datasets', '@ddnn/ddnn', '@ddnn/events', '@ddnn/policies'];

export default baseConfig.map((entry) => {
  const rule = entry.rules?.['@nx/enforce-module-boundaries'];
  if (!Array.isArray(rule)) return entry;
  const [level, options] = rule;
  return { ...entry, rules: { ...entry.rules, '@nx/enforce-module-boundaries': [level, { ...options, checkDynamicDependenciesExceptions: lazyLibraries }] } };
});
