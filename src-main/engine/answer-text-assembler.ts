/** One generated token and the text it settles: texts of all yielded tokens concatenate to the answer. */
export interface GeneratedToken {
  tokenId: number;
  text: string;
}

export type Detokenize = (tokens: readonly number[], precedingTokens: readonly number[]) => string;

const REPLACEMENT_CHAR = "\uFFFD";
// A UTF-8 character spans at most 4 byte-fallback tokens; past that, an invalid sequence is released as is.
const MAX_HELD_FOR_UTF8 = 4;
const CONTEXT_TOKENS = 8;

/**
 * Turns a token stream into settled text. A token is held back while its text could still change:
 * an incomplete UTF-8 character (byte-fallback tokens), or a tail that may be the start of a stop
 * sequence. On a stop sequence, the answer ends right before it and the tokens after it are dropped.
 */
export class AnswerTextAssembler {
  private readonly pending: number[] = [];
  private readonly context: number[];
  private releasedTail = "";
  private readonly maxStopLength: number;
  stopped = false;

  constructor(
    private readonly detokenize: Detokenize,
    private readonly stopSequences: readonly string[],
    precedingTokens: readonly number[],
    precedingText = "",
  ) {
    this.context = precedingTokens.slice(-CONTEXT_TOKENS);
    this.maxStopLength = Math.max(0, ...stopSequences.map((s) => s.length));
    this.releasedTail = precedingText.slice(-this.maxStopLength);
  }

  /** Adds a token; returns the tokens it settles (possibly none while held). */
  push(tokenId: number): GeneratedToken[] {
    if (this.stopped) return [];
    this.pending.push(tokenId);
    return this.settle(false);
  }

  /** The generation ended (end of sequence or token budget): release whatever is held. */
  flush(): GeneratedToken[] {
    if (this.stopped) return [];
    return this.settle(true);
  }

  private settle(final: boolean): GeneratedToken[] {
    const text = this.detokenize(this.pending, this.context);
    if (!final && text.endsWith(REPLACEMENT_CHAR) && this.pending.length < MAX_HELD_FOR_UTF8) return [];

    const stopAt = this.findStop(text);
    if (stopAt !== undefined) {
      this.stopped = true;
      return this.release(text, stopAt, true);
    }
    const releasable = final ? text.length : text.length - this.heldSuffixLength(text);
    return this.release(text, releasable, final);
  }

  /** Offset in `text` where the earliest stop sequence starts, if any (it may begin in released text). */
  private findStop(text: string): number | undefined {
    if (this.stopSequences.length === 0) return undefined;
    const window = this.releasedTail + text;
    let earliest: number | undefined;
    for (const stop of this.stopSequences) {
      if (stop.length === 0) continue;
      const index = window.indexOf(stop);
      if (index >= 0 && (earliest === undefined || index < earliest)) earliest = index;
    }
    return earliest === undefined ? undefined : Math.max(0, earliest - this.releasedTail.length);
  }

  /** Length of the longest suffix of released tail + text that is a proper prefix of a stop sequence. */
  private heldSuffixLength(text: string): number {
    const window = this.releasedTail + text;
    let held = 0;
    for (const stop of this.stopSequences) {
      for (let length = Math.min(stop.length - 1, window.length); length > held; length--) {
        if (window.endsWith(stop.slice(0, length))) {
          held = length;
          break;
        }
      }
    }
    return Math.min(held, text.length);
  }

  /**
   * Releases the longest run of pending tokens whose text lies within text[0, limit). With `all`, every
   * pending token is released (the last one carrying the text up to `limit`) and the rest dropped.
   */
  private release(text: string, limit: number, all: boolean): GeneratedToken[] {
    const out: GeneratedToken[] = [];
    let assigned = 0;
    let count = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const prefix = i === this.pending.length - 1 ? text : this.detokenize(this.pending.slice(0, i + 1), this.context);
      const consistent = text.startsWith(prefix) && !prefix.endsWith(REPLACEMENT_CHAR);
      if (consistent && prefix.length <= limit) {
        out.push({ tokenId: this.pending[i]!, text: prefix.slice(assigned) });
        assigned = prefix.length;
        count = i + 1;
      } else if (!consistent && i < this.pending.length - 1) {
        out.push({ tokenId: this.pending[i]!, text: "" }); // settled later by the token that completes it
      } else if (all) {
        out.push({ tokenId: this.pending[i]!, text: text.slice(assigned, Math.max(assigned, limit)) });
        assigned = Math.max(assigned, limit);
        count = i + 1;
        break;
      } else {
        break;
      }
    }
    out.length = count; // entries pushed past the last settled token are not released yet
    const released = this.pending.splice(0, count);
    this.context.push(...released);
    this.context.splice(0, Math.max(0, this.context.length - CONTEXT_TOKENS));
    this.releasedTail = (this.releasedTail + text.slice(0, assigned)).slice(-this.maxStopLength);
    if (this.stopped) this.pending.length = 0;
    return out;
  }
}
