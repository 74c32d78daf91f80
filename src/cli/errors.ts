/** The error of a request the platform or the command line refused; its message is for the user. */
export class ClientError extends Error {
  override readonly name = "ClientError";
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
