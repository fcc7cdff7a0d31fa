export const GenesisErrorCode = {
  NotFound: 'GENESIS_NOT_FOUND',
  InvalidJson: 'GENESIS_INVALID_JSON',
  Invalid: 'GENESIS_INVALID',
} as const;
export type GenesisErrorCode = (typeof GenesisErrorCode)[keyof typeof GenesisErrorCode];

export class GenesisError extends Error {
  readonly code: GenesisErrorCode;
  /** One line per problem: `path: what is wrong`. */
  readonly problems: string[];
  constructor(code: GenesisErrorCode, message: string, problems: string[] = []) {
    super(problems.length ? `${message}:\n  - ${problems.join('\n  - ')}` : message);
    this.name = 'GenesisError';
    this.code = code;
    this.problems = problems;
  }
}
