// A typed usage sample of `iproov-sansio/testing` (CommonJS), checked by `tsc --noEmit`; never run.
import testing = require('iproov-sansio/testing');

export async function sampleTestingCjs(): Promise<string> {
  const emulator = await testing.startEmulator({ binary: '/opt/iproov-emulator', config: { service_providers: [] } });
  await emulator.markDown();
  await emulator.markUp();
  const [first] = await emulator.requests({ since: await emulator.journalMark() });
  console.log(first?.seq, first?.form?.grant_type, testing.realIproovTarget(process.env));
  const { oauth } = await emulator.credentials('us', { name: 'us-default' });
  await emulator.stop();
  return `${emulator.url} ${oauth.username} ${testing.findBinary()}`;
}
