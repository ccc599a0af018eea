import { memoryStore } from '../../src/store/memory-store.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('memoryStore', async () => {
  const store = memoryStore();
  return { store, cleanup: () => store.close() };
});
