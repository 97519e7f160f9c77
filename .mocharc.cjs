// Tests run TypeScript through tsx; the root hook checks the services once and fails loudly without them.
module.exports = {
  'node-option': ['import=tsx'],
  ignore: ['test/chaos/**'],
  timeout: 20000,
  'forbid-only': true,
  'forbid-pending': true,
  recursive: true,
  // A leaked handle must not hang CI; tests close what they open, this is the safety net.
  exit: true,
};
