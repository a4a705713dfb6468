/** The README's "Testing your stages" example, as written there (a user's test of the example stage). */
import path from 'node:path';
import { runStage } from 'sluice/testing';

const STAGE = path.join(__dirname, '../../../stages/pseudonymise.ts');

it('replaces ids and drops e-mails, in a worker thread as in production', async () => {
  const result = await runStage(STAGE, [{ customer_id: '00000601', email: 'a@example.com' }], {
    mode: 'thread',
    options: { salt: 'example-salt-change-me', columns: ['customer_id'], drop: ['email'] },
  });
  expect(result).toEqualBatch([{ customer_id: '03baa148810856c5e09f76a33648779236517646cba4454acafed58be6c684e8' }]);
});
