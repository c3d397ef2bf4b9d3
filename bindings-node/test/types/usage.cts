// A typed usage sample (CommonJS), checked by `tsc --noEmit`; never run.
import iproov = require('iproov-sansio');

export async function sampleCjs(): Promise<boolean> {
  const client = iproov.createClient({ baseUrl: 'http://127.0.0.1:8080/eu', apiKey: 'k', secret: new iproov.Secret('s') });
  const claim = await client.enrolToken({ resource: 'Login', userId: iproov.randomUserId() });
  const result = await client.enrolValidate({ userId: claim.userId ?? '', token: claim.token, client: 'web', activate: true });
  try {
    iproov.checkUserId('a b');
  } catch (e) {
    if (e instanceof iproov.InvalidInputError) console.log(e.field);
  }
  const journeys = new iproov.JourneyService(client, new iproov.SQLiteStore());
  await journeys.deleteExpired();
  return result.passed;
}
