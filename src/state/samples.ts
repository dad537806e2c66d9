/**
 * The sample datasets the studio ships (public/samples/, written by scripts/make-samples.ts):
 * small labeled CSVs for what the default model learns from words alone, so a first run
 * needs no file of one's own.
 */
export interface Sample {
  id: 'spam' | 'questions' | 'topics';
  /** The file under public/samples/. */
  file: string;
  title: string;
  /** What it holds, in a few words. */
  description: string;
}

export const SAMPLES: readonly Sample[] = [
  { id: 'spam', file: 'spam.csv', title: 'Spam or not', description: '300 text messages: spam or ham (a normal message)' },
  { id: 'questions', file: 'questions.csv', title: 'Question or statement', description: '300 short sentences: a question or a statement' },
  { id: 'topics', file: 'topics.csv', title: 'Story topics', description: '300 story sentences about animals, food or weather' },
];

/** A CSV to start one's own data from: the header and a few rows. */
export const TEMPLATE_FILE = 'template.csv';

/** Where the app serves a file of public/samples/ (the app may live under a sub-path). */
export function sampleUrl(file: string): string {
  return new URL(`${import.meta.env.BASE_URL}samples/${file}`, location.href).href;
}
