import { storeFor } from './stores';

/**
 * The text of a file that must be there. A missing one throws the store's error whose `code` is
 * 'ENOENT' (on a filesystem the very error `readFile` gave), where `Store.readText` returns
 * undefined.
 */
export async function readStoredText(location: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of storeFor(location).bytes(location)) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
