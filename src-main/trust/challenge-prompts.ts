/**
 * Prompts for hidden challenges: they must look like what requesters send, or a worker could answer
 * challenges honestly and cheat on the rest. Built from templates and topics people actually ask about,
 * varied in length and shape (questions, instructions, chat-style turns, a pasted paragraph).
 */

const TOPICS = [
  "photosynthesis", "the French revolution", "black holes", "compound interest", "the water cycle", "TCP handshakes",
  "sourdough bread", "climate change", "the Roman empire", "machine learning", "vaccines", "plate tectonics",
  "the stock market", "quantum computing", "healthy sleep", "electric cars", "the immune system", "jazz music",
  "public key cryptography", "the Great Wall of China", "coffee brewing", "inflation", "neural networks", "volcanoes",
  "the printing press", "renewable energy", "chess openings", "marathon training", "the moon landing", "bees",
];

const AUDIENCES = ["a ten year old", "a busy manager", "a first-year student", "my grandmother", "a software engineer", "a tourist"];
const LANGUAGES = ["French", "Spanish", "German", "Italian", "Portuguese"];
const PHRASES = [
  "Where is the nearest train station?", "I would like a cup of tea, please.", "The meeting starts at nine tomorrow.",
  "Thank you for your help yesterday.", "Could you send me the report by Friday?", "The weather is lovely today.",
];
const NAMES = ["Alex", "Sam", "Maria", "Jordan", "Priya", "Lena", "Tom", "Yuki"];

const TEMPLATES: ReadonlyArray<(pick: <T>(items: readonly T[]) => T) => string> = [
  (p) => `Explain ${p(TOPICS)} to ${p(AUDIENCES)}.`,
  (p) => `What is ${p(TOPICS)}?`,
  (p) => `Write a short poem about ${p(TOPICS)}.`,
  (p) => `Give me three facts about ${p(TOPICS)}.`,
  (p) => `Summarize the history of ${p(TOPICS)} in two sentences.`,
  (p) => `Translate to ${p(LANGUAGES)}: ${p(PHRASES)}`,
  (p) => `What are the pros and cons of ${p(TOPICS)}?`,
  (p) => `User: Hi! Can you help me understand ${p(TOPICS)}?\nAssistant:`,
  (p) => `Write an email to ${p(NAMES)} asking about ${p(TOPICS)}.`,
  (p) => `Q: How does ${p(TOPICS)} affect everyday life?\nA:`,
  (p) => `List the key ideas behind ${p(TOPICS)}, then compare them with ${p(TOPICS)}.`,
  (p) => `My friend ${p(NAMES)} says ${p(TOPICS)} is overrated. What would you tell them?`,
  (p) => `Continue the story: ${p(NAMES)} opened the door and saw`,
  (p) => `Rewrite this more politely: ${p(PHRASES)}`,
];

/** A small seeded generator (mulberry32): the same seed gives the same bank on every node. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct-looking prompts; a node should use its own secret seed so workers cannot learn the bank. */
export function buildChallengePrompts(options: { seed: number; count: number }): string[] {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const prompts = new Set<string>();
  for (let attempt = 0; prompts.size < options.count && attempt < options.count * 20; attempt++) prompts.add(pick(TEMPLATES)(pick));
  return [...prompts];
}
