import { afterAll, beforeAll } from 'vitest';
import { startFakeBedrock, type FakeBedrock, type FakeBedrockOptions } from '../support/fake-bedrock';
import { useFakeBedrockEnv } from '../support/fake-bedrock-env';

/**
 * One fake Bedrock for the test file, the AWS default chain pointed at it: started in
 * `beforeAll`, stopped and the environment restored in `afterAll`. The returned object stands
 * for the fake once it is started, so tests and hooks use it as they would the fake itself.
 */
export function fakeBedrockPerFile(options: FakeBedrockOptions): FakeBedrock {
  let started: FakeBedrock | undefined;
  let restoreEnv = () => {};
  beforeAll(async () => {
    started = await startFakeBedrock(options);
    restoreEnv = useFakeBedrockEnv(started.url);
  });
  afterAll(async () => {
    restoreEnv();
    await started?.close();
  });
  const fake = (): FakeBedrock => {
    if (!started) throw new Error('the fake Bedrock starts in beforeAll: use it inside tests and hooks');
    return started;
  };
  return {
    get url() {
      return fake().url;
    },
    get port() {
      return fake().port;
    },
    get stats() {
      return fake().stats;
    },
    setOptions: (partial) => fake().setOptions(partial),
    reset: () => fake().reset(),
    close: () => fake().close(),
  };
}
