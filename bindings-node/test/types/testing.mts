// A typed usage sample of `iproov-sansio/testing` (ESM), checked by `tsc --noEmit`; never run.
import { createClient } from 'iproov-sansio';
import testing, {
  startEmulator,
  EmulatorError,
  realIproovTarget,
  type Emulator,
  type Credentials,
  type JournalEntry,
  type Preset,
} from 'iproov-sansio/testing';

export async function sampleTesting(): Promise<number> {
  const emulator: Emulator = await startEmulator({ timeoutMs: 10_000 });
  const sp: Credentials = await emulator.credentials('eu');
  const client = createClient({ baseUrl: emulator.baseUrl('eu'), apiKey: sp.apiKey, secret: sp.secret });
  const claim = await client.enrolToken({ resource: 'Login', userId: 'user-1' });
  await emulator.completeClaim(claim.token, { passed: false, reason: 'too_much_movement' });
  const id: number = await emulator.injectFault({ path: '/claim/enrol/token', status: 503, times: 3, delay_ms: 100 });
  await emulator.injectFault({ path: '/claim/enrol/validate', hold: true, hold_ms: 30_000 });
  const held: number = await emulator.heldCount();
  const released: number = await emulator.releaseHeld();
  console.log(held, released);
  await emulator.setRateLimit(null, { apiKey: sp.apiKey });
  const offset: number = (await emulator.advanceClock(60)).offset_secs;
  const presets: Preset[] = await emulator.presets();
  await emulator.loadPreset('rate_limited', { retry_after_secs: 3 });
  try {
    await emulator.reset();
  } catch (error) {
    if (error instanceof EmulatorError) console.log(error.code, error.status, error.stderr);
  }
  await testing.startEmulator({ allowLive: true }).then((other) => other.stop());
  const mark: number = await emulator.journalMark();
  const sent: JournalEntry[] = await emulator.requests({ path: '/claim/enrol/validate', method: 'POST', since: mark });
  const sentClient: unknown = (sent[0]?.json as { client?: string } | undefined)?.client;
  const why: string | null = realIproovTarget({ IPROOV_REGION: 'eu' }) ?? realIproovTarget();
  console.log(sentClient, why, sent[0]?.headers['user-agent'], sent[0]?.multipart?.[0]?.sha256);
  await emulator.stop();
  return id + offset + presets.length + (await emulator.requestCount('/claim/enrol/token', { method: 'POST' }));
}
