// Prints each graphql-http server audit; exits 1 on any error or warning.
const { serverAudits } = require('graphql-http');

(async () => {
  const url = process.argv[2];
  let failed = 0;
  let passed = 0;
  for (const audit of serverAudits({ url, fetchFn: fetch })) {
    const result = await audit.fn();
    if (result.status === 'ok') {
      passed += 1;
    } else {
      failed += 1;
      console.log(`${result.status.toUpperCase()} ${audit.id} ${audit.name}: ${result.reason}`);
    }
  }
  console.log(`audit: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
