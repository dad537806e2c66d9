export { decodeBytes, decodeWindows1252 } from './decode';
export type { DecodedText, TextEncodingName } from './decode';
export { parseCsv, parseCsvAsync, readCsv, looksLikeHeader, DELIMITERS } from './csv';
export type { Delimiter, ParsedTable, RowProblem, ParseCsvOptions, ParseCsvAsyncOptions } from './csv';
export { guessMapping, buildDataset, defaultVerbalizer, summarizeDataset, parseSplitValue, DEFAULT_SPLIT, labelsLookLikeFreeText, listSome } from './examples';
export type { ColumnMapping, Example, LabelStats, Dataset, BuildDatasetOptions, SplitName } from './examples';
export { createRng, randomInt, shuffleInPlace, hashString } from './random';
export type { Rng } from './random';
