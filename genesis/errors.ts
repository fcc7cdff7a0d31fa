export const GenesisErrorCode = {
  NotFound: 'GENESIS_NOT_FOUND',
  InvalidJson: 'GENESIS_INVALID_JSON',
  Invalid: 'GENESIS_INVALID',
} as const;
export type GenesisErrorCode = (typeof GenesisErrorCode)[keyof typeof GenesisErrorCode];

export class GenesisError extends Error {
  readonly code: GenesisErrorCode;
  /** One entry per problem: `path: what is wrong`. */
  readonly problems: string[];
  constructor(code: GenesisErrorCode, message: string, problems: string[] = []) {
    // One line, so that the CLI's `error: …` stays one line.
    super(problems.length ? `${message}: ${problems.join('; ')}` : message);
    this.name = 'GenesisError';
    this.code = code;
    this.problems = problems;
  }
}
