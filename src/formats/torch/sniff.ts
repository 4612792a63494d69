/** Recognising PyTorch files from their first bytes. */
import { firstEntryName, looksLikeZip } from '../../io/zip.js';
import { looksLikeLegacyTorch } from './container.js';

/** Names torch.save / torch.jit.save put in an archive's top folder. */
const TORCH_ENTRY = /^[^/]+\/(data\.pkl|data\/|code\/|constants\.pkl|constants\/|version|byteorder|\.data\/|extra\/)/;

/** A zip whose first entry is a torch archive entry, or the legacy magic-number pickle. */
export function looksLikeTorch(head: Uint8Array): boolean {
  if (looksLikeZip(head)) {
    const name = firstEntryName(head);
    return name !== undefined && (TORCH_ENTRY.test(name) || name === 'data.pkl');
  }
  return looksLikeLegacyTorch(head);
}
