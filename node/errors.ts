export const NodeErrorCode = {
  NoHome: 'NODE_NO_HOME',
  HomeExists: 'NODE_HOME_EXISTS',
  /** Another process holds the home's database (LevelDB's lock). */
  HomeInUse: 'NODE_HOME_IN_USE',
  BadConfig: 'NODE_BAD_CONFIG',
  BadKey: 'NODE_BAD_KEY',
  /** The validator key is encrypted and no password was given (or its source cannot be read). */
  KeyLocked: 'NODE_KEY_LOCKED',
  WrongPassword: 'NODE_WRONG_PASSWORD',
  /** The validator key file is open to other users. */
  KeyPermissions: 'NODE_KEY_PERMISSIONS',
  State: 'NODE_BAD_STATE',
  /** A block or sign-log record could not be written (a full disk, an I/O error): the node stops. */
  StorageFailed: 'NODE_STORAGE_FAILED',
  /** This binary carries a software upgrade whose height the chain has not reached: run the previous binary until it halts there. */
  UpgradeTooEarly: 'NODE_UPGRADE_TOO_EARLY',
} as const;
export type NodeErrorCode = (typeof NodeErrorCode)[keyof typeof NodeErrorCode];

export class NodeError extends Error {
  readonly code: NodeErrorCode;
  constructor(code: NodeErrorCode, message: string) {
    super(message);
    this.name = 'NodeError';
    this.code = code;
  }
}
